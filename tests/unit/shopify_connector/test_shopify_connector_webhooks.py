"""Webhook verification with Shopify's real header names, dedupe and staleness."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from channelhub.connectors.errors import WebhookVerificationError
from channelhub.connectors.shopify.webhooks import (
    DeliveryFilter,
    Verdict,
    WebhookDelivery,
    parse_delivery,
    sign,
)

SECRET = "shpss_0123456789abcdef"


def order_body(order_id: int, updated_at: str, financial_status: str = "paid") -> bytes:
    # Shopify signs the raw bytes it sends: keep them exactly (spacing included).
    return json.dumps(
        {"id": order_id, "updated_at": updated_at, "financial_status": financial_status, "line_items": []},
        separators=(", ", ": "),
    ).encode()


def headers(
    body: bytes,
    *,
    webhook_id: str,
    event_id: str = "ev-1",
    topic: str = "orders/updated",
    triggered_at: str = "2026-03-01T10:00:00.123Z",
    secret: str = SECRET,
) -> dict[str, str]:
    return {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(body, secret),
        "X-Shopify-Shop-Domain": "demo.myshopify.com",
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Event-Id": event_id,
        "X-Shopify-Triggered-At": triggered_at,
        "X-Shopify-API-Version": "2025-10",
        "Content-Type": "application/json",
    }


def delivered(body: bytes, **header_values: str) -> WebhookDelivery:
    """`body` as Shopify delivers it: correctly signed, with `headers(body, **header_values)`."""
    return parse_delivery(headers(body, **header_values), body, SECRET)


def test_signature_is_base64_hmac_sha256_of_the_raw_body() -> None:
    body = order_body(1, "2026-03-01T10:00:00-05:00")
    expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert sign(body, SECRET) == expected
    delivery = parse_delivery(headers(body, webhook_id="w-1"), body, SECRET)
    assert delivery.topic == "orders/updated"
    assert delivery.shop_domain == "demo.myshopify.com"
    assert delivery.webhook_id == "w-1" and delivery.event_id == "ev-1"
    assert delivery.api_version == "2025-10"
    assert delivery.triggered_at is not None and delivery.triggered_at.microsecond == 123000
    assert delivery.payload["id"] == 1


def test_header_names_are_case_insensitive() -> None:
    body = order_body(1, "2026-03-01T10:00:00Z")
    lowered = {k.lower(): v for k, v in headers(body, webhook_id="w-1").items()}
    assert parse_delivery(lowered, body, SECRET).webhook_id == "w-1"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: (h | {"X-Shopify-Hmac-Sha256": sign(b, "another-secret")}, b),
        lambda h, b: (h, b.replace(b"paid", b"void")),  # body changed after signing
        lambda h, b: ({k: v for k, v in h.items() if k != "X-Shopify-Hmac-Sha256"}, b),
        lambda h, b: (h | {"X-Shopify-Hmac-Sha256": "not base64!"}, b),
        lambda h, b: (h | {"X-Shopify-Hmac-Sha256": ""}, b),
        lambda h, b: (h, json.dumps(json.loads(b), separators=(",", ":")).encode()),  # re-serialised
    ],
    ids=["wrong-secret", "tampered-body", "missing", "not-base64", "empty", "reserialised"],
)
def test_bad_or_missing_signature_is_refused(tamper) -> None:  # type: ignore[no-untyped-def]
    body = order_body(1, "2026-03-01T10:00:00Z")
    bad_headers, bad_body = tamper(headers(body, webhook_id="w-1"), body)
    with pytest.raises(WebhookVerificationError):
        parse_delivery(bad_headers, bad_body, SECRET)


def test_no_configured_secret_refuses_everything() -> None:
    body = order_body(1, "2026-03-01T10:00:00Z")
    with pytest.raises(WebhookVerificationError, match="no API secret"):
        parse_delivery(headers(body, webhook_id="w-1"), body, "")


def test_rotated_secret_still_verifies_during_the_overlap() -> None:
    body = order_body(1, "2026-03-01T10:00:00Z")
    old_signed = headers(body, webhook_id="w-1", secret="old-secret")
    assert parse_delivery(old_signed, body, ["new-secret", "old-secret"]).webhook_id == "w-1"


def test_signed_but_malformed_deliveries_are_refused() -> None:
    body = b"[1, 2, 3]"
    with pytest.raises(WebhookVerificationError, match="not a JSON object"):
        parse_delivery(headers(body, webhook_id="w-1"), body, SECRET)
    body = order_body(1, "2026-03-01T10:00:00Z")
    no_id = {k: v for k, v in headers(body, webhook_id="w-1").items() if k != "X-Shopify-Webhook-Id"}
    with pytest.raises(WebhookVerificationError, match="X-Shopify-Webhook-Id"):
        parse_delivery(no_id, body, SECRET)


def test_replay_of_the_same_webhook_id_is_a_duplicate() -> None:
    body = order_body(1, "2026-03-01T10:00:00Z")
    first = delivered(body, webhook_id="w-1")
    replay = delivered(body, webhook_id="w-1")
    deliveries = DeliveryFilter()
    assert deliveries.judge(first) is Verdict.ACCEPT
    assert deliveries.judge(replay) is Verdict.DUPLICATE


def test_same_event_to_a_second_subscription_is_a_duplicate() -> None:
    body = order_body(1, "2026-03-01T10:00:00Z")
    deliveries = DeliveryFilter()
    assert deliveries.judge(delivered(body, webhook_id="w-1", event_id="ev-9")) is Verdict.ACCEPT
    other = delivered(body, webhook_id="w-2", event_id="ev-9")
    assert deliveries.judge(other) is Verdict.DUPLICATE


def test_reordered_older_delivery_never_overwrites_newer_state() -> None:
    older = order_body(1, "2026-03-01T10:00:00-05:00", financial_status="pending")
    newer = order_body(1, "2026-03-01T10:05:00-05:00", financial_status="paid")
    deliveries = DeliveryFilter()
    # The newer state arrives first; the older one is a late retry carrying its original payload.
    assert deliveries.judge(delivered(newer, webhook_id="w-2", event_id="e2")) is Verdict.ACCEPT
    late = delivered(older, webhook_id="w-1", event_id="e1")
    assert deliveries.judge(late) is Verdict.STALE
    # A different order is unaffected, and a yet newer state is accepted.
    other = order_body(2, "2026-03-01T09:00:00Z")
    assert deliveries.judge(delivered(other, webhook_id="w-3", event_id="e3")) is Verdict.ACCEPT
    newest = order_body(1, "2026-03-01T15:06:00Z")
    assert deliveries.judge(delivered(newest, webhook_id="w-4", event_id="e4")) is Verdict.ACCEPT


def test_staleness_falls_back_to_triggered_at_without_updated_at() -> None:
    body_a = json.dumps({"id": 77, "order_id": 1, "transactions": []}).encode()
    deliveries = DeliveryFilter()
    first = delivered(
        body_a,
        webhook_id="w-1",
        event_id="e1",
        topic="products/update",
        triggered_at="2026-03-01T10:00:00Z",
    )
    late = delivered(
        body_a,
        webhook_id="w-0",
        event_id="e0",
        topic="products/update",
        triggered_at="2026-03-01T09:00:00Z",
    )
    assert deliveries.judge(first) is Verdict.ACCEPT
    assert deliveries.judge(late) is Verdict.STALE


def test_inventory_levels_are_ordered_per_item_and_location() -> None:
    def level(item: int, location: int, available: int, updated_at: str) -> bytes:
        return json.dumps(
            {
                "inventory_item_id": item,
                "location_id": location,
                "available": available,
                "updated_at": updated_at,
            }
        ).encode()

    deliveries = DeliveryFilter()
    newer = level(5, 1, 3, "2026-03-01T10:00:02Z")
    older = level(5, 1, 4, "2026-03-01T10:00:01Z")
    elsewhere = level(5, 2, 9, "2026-03-01T10:00:01Z")
    topic = "inventory_levels/update"

    def judge(body: bytes, wid: str) -> Verdict:
        return deliveries.judge(delivered(body, webhook_id=wid, event_id=wid, topic=topic))

    assert judge(newer, "a") is Verdict.ACCEPT
    assert judge(older, "b") is Verdict.STALE
    assert judge(elsewhere, "c") is Verdict.ACCEPT
