"""Verifying WooCommerce webhook deliveries, and what to dedupe them on.

`X-WC-Webhook-Signature` is base64(HMAC-SHA256(raw body, webhook secret)); it is compared in
constant time over the *raw* bytes (WooCommerce escapes `/` as `\\/`, so re-serialized JSON would
not match). A missing or wrong signature raises `WebhookVerificationError`.

Deduplication: `X-WC-Webhook-Delivery-ID` is `wp_hash(webhook_id . time())` — two different events
of one webhook within the same second share it. `WooWebhook.dedupe_key` therefore combines the
webhook id, the resource and its id, its `date_modified_gmt` and a hash of the body: an identical
redelivery dedupes, a distinct change never does. `ResourceVersions` drops deliveries that arrive
out of order (older `date_modified_gmt` than one already applied).

The creation ping (`webhook_id=<id>`, form-encoded, unsigned) is recognised by `ping_webhook_id`;
answer it 200 and do nothing else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from channelhub.connectors.errors import WebhookVerificationError
from channelhub.connectors.woocommerce.mapping import parse_gmt

SIGNATURE_HEADER = "x-wc-webhook-signature"


@dataclass(frozen=True)
class WooWebhook:
    webhook_id: int
    delivery_id: str
    topic: str
    resource: str
    event: str
    source: str
    payload: dict[str, Any]
    body_sha256: str

    @property
    def resource_id(self) -> int | None:
        value = self.payload.get("id")
        return int(value) if isinstance(value, int) else None

    @property
    def modified_at(self) -> datetime | None:
        return parse_gmt(self.payload.get("date_modified_gmt"))

    @property
    def dedupe_key(self) -> str:
        modified = self.payload.get("date_modified_gmt") or ""
        return f"woocommerce:{self.webhook_id}:{self.resource}:{self.resource_id}:{modified}:{self.body_sha256[:32]}"


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


def ping_webhook_id(body: bytes, headers: Mapping[str, str]) -> int | None:
    """The webhook id of a creation ping, or None when this is not a ping."""
    if SIGNATURE_HEADER in _headers(headers):
        return None
    found = re.fullmatch(rb"webhook_id=(\d+)", body.strip())
    return int(found.group(1)) if found else None


def verify_webhook(body: bytes, headers: Mapping[str, str], secret: str) -> WooWebhook:
    """Check the signature over the raw body and parse the delivery; raises on any mismatch."""
    lowered = _headers(headers)
    provided = lowered.get(SIGNATURE_HEADER, "").strip()
    if not provided:
        raise WebhookVerificationError(
            "missing X-WC-Webhook-Signature", system="woocommerce", operation="webhook"
        )
    try:
        provided_raw = base64.b64decode(provided, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError(
            "malformed X-WC-Webhook-Signature", system="woocommerce", operation="webhook"
        ) from None
    expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, provided_raw):
        raise WebhookVerificationError(
            "X-WC-Webhook-Signature does not match the body", system="woocommerce", operation="webhook"
        )
    try:
        payload = json.loads(body)
    except ValueError:
        raise WebhookVerificationError(
            "signed body is not JSON", system="woocommerce", operation="webhook"
        ) from None
    topic = lowered.get("x-wc-webhook-topic", "")
    resource, _, event = topic.partition(".")
    webhook_id = lowered.get("x-wc-webhook-id", "")
    return WooWebhook(
        webhook_id=int(webhook_id) if webhook_id.isdigit() else 0,
        delivery_id=lowered.get("x-wc-webhook-delivery-id", ""),
        topic=topic,
        resource=lowered.get("x-wc-webhook-resource", resource),
        event=lowered.get("x-wc-webhook-event", event),
        source=lowered.get("x-wc-webhook-source", ""),
        payload=payload if isinstance(payload, dict) else {"value": payload},
        body_sha256=hashlib.sha256(body).hexdigest(),
    )


class ResourceVersions:
    """Remembers the newest `date_modified_gmt` applied per resource; refuses older deliveries."""

    def __init__(self) -> None:
        self._newest: dict[tuple[str, int], datetime] = {}

    def is_current(self, delivery: WooWebhook) -> bool:
        """True when the delivery is not older than what was applied; records it when newer."""
        if delivery.resource_id is None or delivery.modified_at is None:
            return True
        key = (delivery.resource, delivery.resource_id)
        newest = self._newest.get(key)
        if newest is not None and delivery.modified_at < newest:
            return False
        self._newest[key] = delivery.modified_at
        return True
