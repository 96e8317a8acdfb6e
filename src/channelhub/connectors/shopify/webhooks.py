"""Shopify webhook deliveries: signature verification, typed headers, dedupe and staleness.

Facts (shopify.dev "Verify webhook deliveries", "Ignore duplicates", webhook retry changelog):
- `X-Shopify-Hmac-Sha256` = base64(HMAC-SHA256(raw body bytes, app client secret)); the raw body
  must be used as received (re-serialised JSON does not verify). After a secret rotation Shopify
  may keep signing with the old secret for up to an hour, so several secrets may be accepted.
- `X-Shopify-Webhook-Id` is stable across retries of one delivery: the dedupe key.
  `X-Shopify-Event-Id` identifies the underlying event: the same event delivered to two
  subscriptions of one topic has two webhook ids and one event id.
- Retries (8 over 4 hours) carry the payload as it was when triggered, so a late retry is older
  than what we already hold: compare `updated_at` (or `X-Shopify-Triggered-At`) per resource and
  drop anything older than the newest state seen.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from channelhub.connectors.errors import WebhookVerificationError
from channelhub.connectors.shopify.errors import SYSTEM

HMAC_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"
SHOP_HEADER = "X-Shopify-Shop-Domain"
WEBHOOK_ID_HEADER = "X-Shopify-Webhook-Id"
EVENT_ID_HEADER = "X-Shopify-Event-Id"
TRIGGERED_AT_HEADER = "X-Shopify-Triggered-At"
API_VERSION_HEADER = "X-Shopify-API-Version"
NAME_HEADER = "X-Shopify-Name"


def sign(raw_body: bytes, secret: str) -> str:
    """The `X-Shopify-Hmac-Sha256` value Shopify sends for `raw_body`."""
    digest = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_signature(raw_body: bytes, signature: str | None, secrets: str | Sequence[str]) -> None:
    """Raise `WebhookVerificationError` unless `signature` matches one of `secrets`."""
    candidates = [secrets] if isinstance(secrets, str) else list(secrets)
    candidates = [s for s in candidates if s]
    if not candidates:
        raise WebhookVerificationError("no API secret configured: cannot verify", system=SYSTEM)
    if not signature:
        raise WebhookVerificationError(f"missing {HMAC_HEADER} header", system=SYSTEM)
    try:
        received = base64.b64decode(signature.strip(), validate=True)
    except (ValueError, TypeError) as exc:
        raise WebhookVerificationError(f"{HMAC_HEADER} is not base64", system=SYSTEM) from exc
    matched = False
    for secret in candidates:
        expected = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).digest()
        # Check every secret without early exit so timing does not reveal which one matched.
        matched |= hmac.compare_digest(expected, received)
    if not matched:
        raise WebhookVerificationError("signature does not match the body", system=SYSTEM)


def parse_timestamp(value: Any) -> datetime | None:
    """Shopify's ISO-8601 timestamps (with offset or `Z`, optional fraction); None if absent/bad."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


@dataclass(frozen=True)
class WebhookDelivery:
    """One verified delivery with its headers typed and its JSON body parsed."""

    topic: str
    shop_domain: str
    webhook_id: str
    event_id: str | None
    triggered_at: datetime | None
    api_version: str | None
    subscription_name: str | None
    raw_body: bytes
    payload: dict[str, Any]

    @property
    def dedupe_key(self) -> str:
        return f"{self.shop_domain}:webhook:{self.webhook_id}"

    @property
    def event_key(self) -> str | None:
        return f"{self.shop_domain}:event:{self.event_id}" if self.event_id else None

    @property
    def resource_key(self) -> str | None:
        """What the delivery describes, so deliveries about one thing can be ordered."""
        p = self.payload
        family = self.topic.split("/", 1)[0]
        if family == "orders" and p.get("id") is not None:
            return f"{self.shop_domain}:order:{p['id']}"
        if family == "products" and p.get("id") is not None:
            return f"{self.shop_domain}:product:{p['id']}"
        if family == "inventory_levels" and p.get("inventory_item_id") is not None:
            return f"{self.shop_domain}:inventory_level:{p['inventory_item_id']}@{p.get('location_id')}"
        if family == "refunds" and p.get("id") is not None:
            return f"{self.shop_domain}:refund:{p['id']}"
        return None

    @property
    def resource_version(self) -> datetime | None:
        """When the described state was current: the payload's `updated_at`, else the trigger time."""
        return parse_timestamp(self.payload.get("updated_at")) or self.triggered_at


def parse_delivery(
    headers: Mapping[str, str], raw_body: bytes, secrets: str | Sequence[str]
) -> WebhookDelivery:
    """Verify and parse a delivery; refuses (WebhookVerificationError) anything unsigned, badly
    signed, without its identifying headers, or whose body is not a JSON object."""
    lowered = {k.lower(): v for k, v in headers.items()}

    def header(name: str) -> str | None:
        value = lowered.get(name.lower())
        return value.strip() if isinstance(value, str) and value.strip() else None

    verify_signature(raw_body, header(HMAC_HEADER), secrets)
    topic, shop, webhook_id = header(TOPIC_HEADER), header(SHOP_HEADER), header(WEBHOOK_ID_HEADER)
    if not topic or not shop or not webhook_id:
        missing = [
            n
            for n, v in ((TOPIC_HEADER, topic), (SHOP_HEADER, shop), (WEBHOOK_ID_HEADER, webhook_id))
            if not v
        ]
        raise WebhookVerificationError(f"missing header(s): {', '.join(missing)}", system=SYSTEM)
    try:
        payload = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookVerificationError("body is not JSON", system=SYSTEM) from exc
    if not isinstance(payload, dict):
        raise WebhookVerificationError("body is not a JSON object", system=SYSTEM)
    return WebhookDelivery(
        topic=topic,
        shop_domain=shop,
        webhook_id=webhook_id,
        event_id=header(EVENT_ID_HEADER),
        triggered_at=parse_timestamp(header(TRIGGERED_AT_HEADER)),
        api_version=header(API_VERSION_HEADER),
        subscription_name=header(NAME_HEADER),
        raw_body=raw_body,
        payload=payload,
    )


class Verdict(StrEnum):
    ACCEPT = "accept"
    DUPLICATE = "duplicate"  # same webhook id (a retry) or same event id (another subscription)
    STALE = "stale"  # older than the newest state already accepted for the same resource


class DeliveryFilter:
    """Decides which verified deliveries to act on: each event once, never an older state after a
    newer one. In-memory and bounded (oldest keys forgotten first); a durable inbox keeps the same
    keys in the database."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._versions: OrderedDict[str, datetime] = OrderedDict()

    def _remember(self, key: str) -> None:
        self._seen[key] = None
        self._seen.move_to_end(key)
        while len(self._seen) > self.capacity:
            self._seen.popitem(last=False)

    def judge(self, delivery: WebhookDelivery) -> Verdict:
        """The verdict, recorded: calling twice with the same delivery answers DUPLICATE."""
        keys = [delivery.dedupe_key] + ([delivery.event_key] if delivery.event_key else [])
        if any(key in self._seen for key in keys):
            return Verdict.DUPLICATE
        for key in keys:
            self._remember(key)
        resource, version = delivery.resource_key, delivery.resource_version
        if resource is None or version is None:
            return Verdict.ACCEPT
        newest = self._versions.get(resource)
        if newest is not None and version < newest:
            return Verdict.STALE
        self._versions[resource] = version
        self._versions.move_to_end(resource)
        while len(self._versions) > self.capacity:
            self._versions.popitem(last=False)
        return Verdict.ACCEPT
