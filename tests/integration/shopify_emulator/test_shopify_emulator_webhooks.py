"""Webhook deliveries over real HTTP: signature, headers, payloads, retries and chaos."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from channelhub.sandbox.server import RunningServer, serve_in_thread
from channelhub.sandbox.shopify.app import ShopifyEmulator
from channelhub.sandbox.shopify.settings import ConfiguredWebhook, EmulatorSettings
from channelhub.sandbox.shopify.webhooks import MAX_RETRIES

from .conftest import SECRET, TOKEN


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Receiver:
    """An app endpoint that records deliveries and answers as told."""

    received: list[Received] = field(default_factory=list)
    failures_left: int = 0
    always_fail: bool = False
    delay_s: float = 0.0
    gate: threading.Event | None = None  # when set, every answer waits for the test to open it
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.received.append(Received(dict(request.headers), body))
                failing = self.always_fail or self.failures_left > 0
                self.failures_left = max(0, self.failures_left - 1)
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if self.gate is not None:
                await asyncio.to_thread(self.gate.wait, 10)
            return Response(status_code=500 if failing else 200)

        return Starlette(routes=[Route("/hooks", hook, methods=["POST"])])

    def topics(self) -> list[str]:
        return [r.headers["x-shopify-topic"] for r in self.received]


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, RunningServer]]:
    target = Receiver()
    with serve_in_thread(target.app()) as running:
        yield target, running


def _emulator(uri: str, **settings: Any) -> ShopifyEmulator:
    topics = ["orders/create", "orders/paid", "inventory_levels/update", "products/update"]
    settings.setdefault("webhooks", [ConfiguredWebhook(topic, uri) for topic in topics])
    settings.setdefault("webhook_time_scale", 0.0001)
    return ShopifyEmulator(
        EmulatorSettings(seed=3, skus=10, access_token=TOKEN, api_secret=SECRET, **settings)
    )


def _sell(server: RunningServer, sku: str = "SKU-00001", quantity: int = 1) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/_sandbox/orders", json={"line_items": [{"sku": sku, "quantity": quantity}]}
    )
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()["order"]
    return order


def _sell_under_chaos(hooks: RunningServer, **chaos: float) -> ShopifyEmulator:
    """One sale (three webhooks) through an emulator with `chaos`, every delivery finished."""
    emulator = _emulator(f"{hooks.url}/hooks")
    emulator.chaos.update(chaos)
    with serve_in_thread(emulator.app) as server:
        _sell(server)
        assert emulator.webhooks.wait_idle(5)
    return emulator


def test_order_webhooks_are_signed_and_carry_shopify_headers(
    receiver: tuple[Receiver, RunningServer],
) -> None:
    target, hooks = receiver
    emulator = _emulator(f"{hooks.url}/hooks")
    with serve_in_thread(emulator.app) as server:
        order = _sell(server, quantity=2)
        assert emulator.webhooks.wait_idle(5)
    assert sorted(target.topics()) == ["inventory_levels/update", "orders/create", "orders/paid"]
    for delivery in target.received:
        expected = base64.b64encode(
            hmac.new(SECRET.encode(), delivery.body, hashlib.sha256).digest()
        ).decode()
        assert hmac.compare_digest(delivery.headers["x-shopify-hmac-sha256"], expected)
        assert delivery.headers["x-shopify-shop-domain"] == emulator.shop_domain
        assert delivery.headers["x-shopify-api-version"] == "2025-10"
        assert delivery.headers["x-shopify-triggered-at"].endswith("Z")
        assert delivery.headers["content-type"] == "application/json"
        assert delivery.headers["x-shopify-webhook-id"] and delivery.headers["x-shopify-event-id"]
    create = next(r for r in target.received if r.headers["x-shopify-topic"] == "orders/create")
    paid = next(r for r in target.received if r.headers["x-shopify-topic"] == "orders/paid")
    assert create.headers["x-shopify-event-id"] != paid.headers["x-shopify-event-id"]
    payload = create.json
    assert payload["id"] == order["id"]
    assert payload["admin_graphql_api_id"] == f"gid://shopify/Order/{order['id']}"
    assert payload["financial_status"] == "paid"
    assert isinstance(payload["total_price"], str) and "." in payload["total_price"]
    line = payload["line_items"][0]
    assert (line["sku"], line["quantity"]) == ("SKU-00001", 2)
    assert isinstance(line["variant_id"], int) and isinstance(line["price"], str)
    level = next(r for r in target.received if r.headers["x-shopify-topic"] == "inventory_levels/update").json
    assert set(level) == {
        "inventory_item_id",
        "location_id",
        "available",
        "updated_at",
        "admin_graphql_api_id",
    }


def test_failed_deliveries_are_retried_with_the_original_payload(
    receiver: tuple[Receiver, RunningServer],
) -> None:
    target, hooks = receiver
    target.failures_left = 2
    emulator = _emulator(f"{hooks.url}/hooks")
    emulator.shop.webhook_subscriptions = {
        k: s for k, s in emulator.shop.webhook_subscriptions.items() if s.topic == "orders/create"
    }
    with serve_in_thread(emulator.app) as server:
        _sell(server)
        _sell(server, "SKU-00002")  # a later event must not change the first one's retried body
        assert emulator.webhooks.wait_idle(5)
    first_id = target.received[0].headers["x-shopify-webhook-id"]
    attempts = [r for r in target.received if r.headers["x-shopify-webhook-id"] == first_id]
    assert len(attempts) == 3
    assert len({r.body for r in attempts}) == 1
    assert [a.attempt for a in emulator.webhooks.attempts if a.webhook_id == first_id] == [0, 1, 2]
    assert emulator.shop.stats.webhooks_delivered == 2


def test_subscription_is_deleted_after_the_last_retry(receiver: tuple[Receiver, RunningServer]) -> None:
    target, hooks = receiver
    target.always_fail = True
    emulator = _emulator(f"{hooks.url}/hooks", webhooks=[], webhook_time_scale=0.00002)
    with serve_in_thread(emulator.app) as server:
        mutation = (
            "mutation($u: String!) { webhookSubscriptionCreate(topic: ORDERS_CREATE, webhookSubscription: {uri: $u})"
            " { webhookSubscription { id } userErrors { message } } }"
        )
        created = httpx.post(
            f"{server.url}/admin/api/2026-10/graphql.json",
            headers={"X-Shopify-Access-Token": TOKEN},
            json={"query": mutation, "variables": {"u": f"{hooks.url}/hooks"}},
        ).json()
        assert created["data"]["webhookSubscriptionCreate"]["userErrors"] == []
        _sell(server)
        assert emulator.webhooks.wait_idle(10)
    assert len(target.received) == 1 + MAX_RETRIES
    assert target.received[0].headers["x-shopify-api-version"] == "2026-10"
    assert emulator.shop.webhook_subscriptions == {}
    assert emulator.shop.stats.webhooks_abandoned == 1


def test_slow_receivers_count_as_failures(receiver: tuple[Receiver, RunningServer]) -> None:
    target, hooks = receiver
    target.delay_s = 0.5
    emulator = _emulator(f"{hooks.url}/hooks", webhook_response_timeout_s=0.1)
    emulator.shop.webhook_subscriptions = {
        k: s for k, s in emulator.shop.webhook_subscriptions.items() if s.topic == "orders/create"
    }
    with serve_in_thread(emulator.app) as server:
        _sell(server)
        for _ in range(100):
            if len(emulator.webhooks.attempts) >= 2:
                break
            threading.Event().wait(0.05)
        target.delay_s = 0.0
        assert emulator.webhooks.wait_idle(10)
    first = emulator.webhooks.attempts[0]
    assert first.status_code is None and first.error is not None and "Timeout" in first.error
    assert emulator.shop.stats.webhooks_delivered == 1


def test_chaos_duplicates_keep_the_webhook_id(receiver: tuple[Receiver, RunningServer]) -> None:
    target, hooks = receiver
    _sell_under_chaos(hooks, webhook_duplicate_rate=1.0)
    by_id: dict[str, list[Received]] = {}
    for delivery in target.received:
        by_id.setdefault(delivery.headers["x-shopify-webhook-id"], []).append(delivery)
    assert len(by_id) == 3
    assert all(len(copies) == 2 and copies[0].body == copies[1].body for copies in by_id.values())


def test_chaos_drop_is_redelivered_later(receiver: tuple[Receiver, RunningServer]) -> None:
    target, hooks = receiver
    emulator = _sell_under_chaos(hooks, webhook_drop_rate=1.0)
    assert len(target.received) == 3
    dropped = [a for a in emulator.webhooks.attempts if a.dropped]
    assert len(dropped) == 3
    sent = [a for a in emulator.webhooks.attempts if not a.dropped]
    assert {a.webhook_id for a in sent} == {a.webhook_id for a in dropped}
    assert all(a.attempt == 1 for a in sent)


def test_chaos_bad_signatures(receiver: tuple[Receiver, RunningServer]) -> None:
    target, hooks = receiver
    _sell_under_chaos(hooks, webhook_bad_signature_rate=1.0)
    for delivery in target.received:
        expected = base64.b64encode(
            hmac.new(SECRET.encode(), delivery.body, hashlib.sha256).digest()
        ).decode()
        assert delivery.headers["x-shopify-hmac-sha256"] != expected


def test_chaos_reordering(receiver: tuple[Receiver, RunningServer]) -> None:
    target, hooks = receiver
    emulator = _emulator(f"{hooks.url}/hooks")
    emulator.shop.webhook_subscriptions = {
        k: s for k, s in emulator.shop.webhook_subscriptions.items() if s.topic == "orders/create"
    }
    emulator.chaos.update({"webhook_reorder_window_s": 0.3})
    with serve_in_thread(emulator.app) as server:
        placed = [_sell(server, f"SKU-0000{n}")["id"] for n in range(1, 9)]
        assert emulator.webhooks.wait_idle(5)
    arrived = [r.json["id"] for r in target.received]
    assert sorted(arrived) == sorted(placed)
    assert arrived != placed


def test_inventory_and_price_changes_fire_webhooks(receiver: tuple[Receiver, RunningServer]) -> None:
    target, hooks = receiver
    emulator = _emulator(f"{hooks.url}/hooks")
    variant = emulator.shop.variant_by_sku("SKU-00004")
    assert variant is not None
    with serve_in_thread(emulator.app) as server:
        behind = httpx.post(f"{server.url}/_sandbox/inventory", json={"sku": "SKU-00004", "available": 77})
        assert behind.status_code == 200 and behind.json()["levels"][0]["available"] == 77
        mutation = (
            "mutation($p: ID!, $v: [ProductVariantsBulkInput!]!) { productVariantsBulkUpdate(productId: $p, variants: $v)"
            " { userErrors { message } } }"
        )
        variables = {
            "p": f"gid://shopify/Product/{variant.product_id}",
            "v": [{"id": f"gid://shopify/ProductVariant/{variant.id}", "price": "12.50"}],
        }
        httpx.post(
            f"{server.url}/admin/api/2025-10/graphql.json",
            headers={"X-Shopify-Access-Token": TOKEN},
            json={"query": mutation, "variables": variables},
        )
        assert emulator.webhooks.wait_idle(5)
    level = next(r.json for r in target.received if r.headers["x-shopify-topic"] == "inventory_levels/update")
    assert (level["inventory_item_id"], level["available"]) == (variant.inventory_item_id, 77)
    product = next(r.json for r in target.received if r.headers["x-shopify-topic"] == "products/update")
    changed = next(v for v in product["variants"] if v["id"] == variant.id)
    assert (changed["price"], changed["sku"]) == ("12.50", "SKU-00004")


def test_a_stuck_endpoint_does_not_hold_up_others(receiver: tuple[Receiver, RunningServer]) -> None:
    fast, fast_server = receiver
    gate = threading.Event()
    stuck = Receiver(gate=gate)
    with serve_in_thread(stuck.app()) as stuck_server:
        emulator = _emulator(
            f"{fast_server.url}/hooks",
            webhooks=[
                ConfiguredWebhook("orders/create", f"{stuck_server.url}/hooks"),
                ConfiguredWebhook("orders/create", f"{fast_server.url}/hooks"),
            ],
        )
        with serve_in_thread(emulator.app) as server:
            try:
                for n in range(1, 4):
                    _sell(server, f"SKU-0000{n}")
                for _ in range(100):
                    if len(fast.received) == 3:
                        break
                    threading.Event().wait(0.05)
                assert len(fast.received) == 3
                assert 1 <= len(stuck.received) <= 3  # those deliveries are still waiting for an answer
            finally:
                gate.set()
            assert emulator.webhooks.wait_idle(10)
    assert len({r.headers["x-shopify-webhook-id"] for r in stuck.received}) == 3
