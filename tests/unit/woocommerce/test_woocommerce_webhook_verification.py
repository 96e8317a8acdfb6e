"""Connector-side webhook verification, dedupe keys and stale-delivery detection (no network)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal

import pytest

from channelhub.connectors.errors import WebhookVerificationError
from channelhub.connectors.woocommerce import ResourceVersions, ping_webhook_id, verify_webhook
from channelhub.connectors.woocommerce.mapping import listing_from_payload, order_from_payload

SECRET = "wh-secret"


def delivery(
    payload: dict[str, object], *, secret: str = SECRET, delivery_id: str = "d1"
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode()
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    headers = {
        "X-WC-Webhook-Topic": "product.updated",
        "X-WC-Webhook-Resource": "product",
        "X-WC-Webhook-Event": "updated",
        "X-WC-Webhook-Signature": signature,
        "X-WC-Webhook-ID": "7",
        "X-WC-Webhook-Delivery-ID": delivery_id,
        "X-WC-Webhook-Source": "https://shop.test/",
    }
    return body, headers


def test_a_valid_delivery_is_parsed_with_case_insensitive_headers() -> None:
    body, headers = delivery({"id": 12, "date_modified_gmt": "2026-05-01T08:00:05", "stock_quantity": 3})
    verified = verify_webhook(body, {k.lower(): v for k, v in headers.items()}, SECRET)
    assert (verified.webhook_id, verified.resource_id, verified.topic) == (7, 12, "product.updated")
    assert (
        verified.modified_at is not None and verified.modified_at.isoformat() == "2026-05-01T08:00:05+00:00"
    )


@pytest.mark.parametrize("tamper", ["secret", "body", "missing", "garbage"])
def test_tampering_is_refused(tamper: str) -> None:
    body, headers = delivery({"id": 1})
    if tamper == "secret":
        body, headers = delivery({"id": 1}, secret="other")
    elif tamper == "body":
        body = body.replace(b"1", b"2")
    elif tamper == "missing":
        headers.pop("X-WC-Webhook-Signature")
    else:
        headers["X-WC-Webhook-Signature"] = "not base64!"
    with pytest.raises(WebhookVerificationError) as refused:
        verify_webhook(body, headers, SECRET)
    assert refused.value.transient is False


def test_dedupe_keys_ignore_the_delivery_id_but_not_the_content() -> None:
    first = verify_webhook(
        *delivery({"id": 5, "date_modified_gmt": "2026-05-01T08:00:05"}, delivery_id="same"), SECRET
    )
    replay = verify_webhook(
        *delivery({"id": 5, "date_modified_gmt": "2026-05-01T08:00:05"}, delivery_id="x"), SECRET
    )
    change = verify_webhook(
        *delivery(
            {"id": 5, "date_modified_gmt": "2026-05-01T08:00:05", "stock_quantity": 1}, delivery_id="same"
        ),
        SECRET,
    )
    assert first.dedupe_key == replay.dedupe_key
    assert change.dedupe_key != first.dedupe_key  # same delivery id, different event


def test_resource_versions_refuse_older_deliveries_per_resource() -> None:
    newer = verify_webhook(*delivery({"id": 5, "date_modified_gmt": "2026-05-01T08:00:09"}), SECRET)
    older = verify_webhook(*delivery({"id": 5, "date_modified_gmt": "2026-05-01T08:00:01"}), SECRET)
    other = verify_webhook(*delivery({"id": 6, "date_modified_gmt": "2026-05-01T08:00:01"}), SECRET)
    versions = ResourceVersions()
    assert versions.is_current(newer) and not versions.is_current(older) and versions.is_current(other)


def test_the_creation_ping_is_recognised_and_never_mistaken_for_a_delivery() -> None:
    assert ping_webhook_id(b"webhook_id=41", {"Content-Type": "application/x-www-form-urlencoded"}) == 41
    _body, headers = delivery({"id": 41})
    assert ping_webhook_id(b"webhook_id=41", headers) is None
    assert ping_webhook_id(b'{"webhook_id": 41}', {}) is None


def test_payload_mapping_reads_strings_as_decimals_and_gmt_dates() -> None:
    order = order_from_payload(
        {
            "id": 9,
            "number": "9",
            "status": "processing",
            "currency": "EUR",
            "total": "25.50",
            "date_created_gmt": "2026-05-01T08:00:00",
            "date_modified_gmt": "2026-05-01T08:00:02",
            "date_paid_gmt": None,
            "billing": {"email": "a@b.c"},
            "line_items": [
                {
                    "id": 1,
                    "sku": "TEE-M",
                    "product_id": 3,
                    "variation_id": 4,
                    "quantity": 2,
                    "price": 12.75,
                    "total": "25.50",
                }
            ],
            "refunds": [{"id": 11, "reason": "dent", "total": "-5.00"}],
        }
    )
    assert order.total == Decimal("25.50") and order.lines[0].variation_id == 4
    assert order.refunds[0].amount == Decimal("5.00") and order.idempotency_key == "woocommerce:9"
    listing = listing_from_payload(
        {
            "id": 4,
            "parent_id": 3,
            "type": "variation",
            "sku": "TEE-M",
            "manage_stock": True,
            "stock_quantity": 6,
            "stock_status": "instock",
            "regular_price": "12.75",
            "sale_price": "",
            "date_modified_gmt": "2026-05-01T08:00:02",
        }
    )
    assert (listing.ref.product_id, listing.ref.item_id, listing.sale_price) == (3, 4, None)
