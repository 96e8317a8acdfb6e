"""Webhook ingress over real HTTP: signatures refused with 401 and nothing stored, duplicates
stored once, unreadable signed bodies kept as failed with the reason, WooCommerce pings answered."""

from __future__ import annotations

import json

from channelhub.sandbox.woocommerce.webhooks import signature as woo_signature
from tests.integration.api.conftest import API_TOKEN, ODOO_TOKEN, Hub, shopify_headers


async def test_api_webhook_bad_or_missing_signature_is_refused_and_nothing_stored(
    hub: Hub, shopify_order_body: bytes
) -> None:
    wrong = shopify_headers(shopify_order_body, "wh-bad", secret="someone-else")
    missing = {k: v for k, v in shopify_headers(shopify_order_body, "wh-none").items() if "Hmac" not in k}
    for headers in (wrong, missing):
        response = await hub.http.post("/webhooks/shopify", content=shopify_order_body, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
    woo = await hub.http.post(
        "/webhooks/woocommerce",
        content=b'{"id": 7}',
        headers={
            "X-WC-Webhook-Signature": woo_signature(b'{"id": 7}', "wrong"),
            "X-WC-Webhook-Topic": "order.created",
        },
    )
    odoo = await hub.http.post("/webhooks/odoo?token=wrong", json={"_model": "stock.quant", "_id": 3})
    assert (woo.status_code, odoo.status_code) == (401, 401)
    assert hub.inbox_rows() == []


async def test_api_duplicate_delivery_is_stored_once_and_appended_once(
    hub: Hub, shopify_order_body: bytes
) -> None:
    headers = shopify_headers(shopify_order_body, "wh-dup-1")
    first = await hub.http.post("/webhooks/shopify", content=shopify_order_body, headers=headers)
    again = await hub.http.post("/webhooks/shopify", content=shopify_order_body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert (first.json()["status"], again.json()["status"]) == ("accepted", "duplicate")
    [row] = hub.inbox_rows()
    assert row.body == shopify_order_body and row.status == "received"
    assert row.headers["x-shopify-webhook-id"] == "wh-dup-1"
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    assert (await hub.http.get("/api/v1/health", headers=auth)).json()["inbox"] == {"received": 1}

    processed = hub.processor.process_all()
    assert (processed.processed, processed.events) == (1, 1)
    assert hub.log_topics() == ["channel.order.v1"]
    # A redelivery after processing is still a no-op at the door.
    late = await hub.http.post("/webhooks/shopify", content=shopify_order_body, headers=headers)
    assert late.json()["status"] == "duplicate"
    assert hub.processor.process_all().rows == 0
    assert [r.status for r in hub.inbox_rows()] == ["processed"]
    assert (await hub.http.get("/api/v1/health", headers=auth)).json()["inbox"] == {"processed": 1}
    # Ingress metrics: every delivery's lag behind the order's updated_at, the one stored row's
    # receipt-to-log time.
    ingress = hub.metrics.latency_summary()["ingress"]
    assert ingress["shopify/delivery"]["count"] == 3
    assert ingress["shopify/inbox"]["count"] == 1
    assert 0 <= ingress["shopify/inbox"]["mean_s"] < 30


async def test_api_signed_but_malformed_payload_is_kept_as_failed_with_reason(hub: Hub) -> None:
    body = json.dumps({"id": 99, "line_items": []}).encode()
    response = await hub.http.post(
        "/webhooks/shopify", content=body, headers=shopify_headers(body, "wh-bad-body")
    )
    assert response.status_code == 200
    [row] = hub.inbox_rows()
    assert row.status == "failed" and row.body == body
    assert "created_at" in row.error  # the precise reason, not just "failed"
    assert hub.processor.process_all().rows == 0 and hub.log_topics() == []


async def test_api_inbox_row_that_cannot_be_read_later_is_failed_with_reason(hub: Hub) -> None:
    from channelhub.store.repositories import StateRepositories, WebhookDelivery

    with hub.engine.begin() as connection:
        StateRepositories.on(connection).inbox.accept(
            WebhookDelivery("retired-shop", "k1", "orders/create", b"{}", {}, hub.context.clock.now())
        )
    result = hub.processor.process_all()
    assert (result.failed, result.events) == (1, 0)
    [row] = hub.inbox_rows()
    assert row.status == "failed" and "no channel 'retired-shop'" in row.error


async def test_api_woocommerce_ping_is_answered_and_not_stored(hub: Hub) -> None:
    response = await hub.http.post(
        "/webhooks/woocommerce",
        content=b"webhook_id=12",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200 and response.json()["status"] == "ping"
    assert hub.inbox_rows() == []


async def test_api_odoo_notification_is_stored_without_its_token_and_becomes_an_event(hub: Hub) -> None:
    body = {
        "_model": "stock.quant",
        "_id": 41,
        "product_id": 5,
        "quantity": 3.0,
        "write_date": "2026-11-23 10:00:00",
    }
    response = await hub.http.post("/webhooks/odoo", json=body, headers={"X-Channelhub-Token": ODOO_TOKEN})
    assert response.status_code == 200, response.text
    [row] = hub.inbox_rows()
    assert row.channel == "odoo" and "x-channelhub-token" not in row.headers
    assert hub.processor.process_all().events == 1
    assert hub.log_topics() == ["erp.notification.v1"]


async def test_api_odoo_notifications_of_one_record_in_one_pass_become_one_read(hub: Hub) -> None:
    for quantity, stamp in ((3.0, "10:00:00"), (2.0, "10:00:01"), (1.0, "10:00:02")):
        body = {"_model": "stock.quant", "_id": 41, "product_id": 5, "quantity": quantity,
                "write_date": f"2026-11-23 {stamp}"}  # fmt: skip
        response = await hub.http.post(
            "/webhooks/odoo", json=body, headers={"X-Channelhub-Token": ODOO_TOKEN}
        )
        assert response.status_code == 200, response.text
    other = {"_model": "stock.quant", "_id": 42, "product_id": 6, "write_date": "2026-11-23 10:00:00"}
    await hub.http.post("/webhooks/odoo", json=other, headers={"X-Channelhub-Token": ODOO_TOKEN})
    result = hub.processor.process_all()
    assert result.processed == 4 and result.events == 2  # every row processed; one re-read per quant
    assert hub.log_topics() == ["erp.notification.v1", "erp.notification.v1"]


async def test_api_signed_body_that_trips_the_mapping_is_kept_as_failed_not_a_500(hub: Hub) -> None:
    body = json.dumps({"id": 5, "created_at": "2026-11-23T10:00:00Z", "line_items": "not a list"}).encode()
    response = await hub.http.post("/webhooks/shopify", content=body, headers=shopify_headers(body, "wh-odd"))
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    [row] = hub.inbox_rows()
    assert row.status == "failed" and row.error.startswith("payload could not be read")


async def test_api_oversized_webhook_is_refused_with_413(hub: Hub) -> None:
    body = b"{" + b" " * (5 * 1024 * 1024) + b"}"
    response = await hub.http.post("/webhooks/shopify", content=body, headers=shopify_headers(body, "wh-big"))
    assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"
    assert hub.inbox_rows() == []
