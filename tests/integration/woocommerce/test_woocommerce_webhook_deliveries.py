"""Webhook deliveries from the emulator to a real receiver on loopback, verified by the connector."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from channelhub.connectors.errors import WebhookVerificationError
from channelhub.connectors.woocommerce import (
    ResourceVersions,
    WebhookSubscription,
    WooCommerceClient,
    WooCommerceConnector,
    ping_webhook_id,
    verify_webhook,
)
from channelhub.sandbox.server import RunningServer, serve_in_thread
from channelhub.sandbox.woocommerce.app import WooCommerceEmulator, WooCommerceSettings, create_app

KEY, SECRET = "ck_hooks", "cs_hooks"
FROZEN_EPOCH = time.time()  # every delivery falls into "the same second"


class TickingSiteClock:
    """Site time that moves one second per reading, so every change has its own date_modified."""

    def __init__(self) -> None:
        self.moment = datetime(2026, 5, 1, 8, 0, 0)

    def __call__(self) -> datetime:
        self.moment += timedelta(seconds=1)
        return self.moment


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    answers: dict[str, int] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def wait_for(self, path: str, count: int, timeout_s: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout_s
        while len(self.at(path)) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.at(path)


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[Receiver, RunningServer]]:
    state = Receiver()

    async def hook(request: Request) -> Response:
        name = request.path_params["name"]
        state.received.append(Received(name, dict(request.headers), await request.body()))
        return Response(status_code=state.answers.get(name, 200))

    app = Starlette(routes=[Route("/hook/{name}", hook, methods=["POST"])])
    with serve_in_thread(app) as server:
        yield state, server


@pytest.fixture(scope="module")
def shop() -> Iterator[tuple[WooCommerceEmulator, RunningServer]]:
    settings = WooCommerceSettings(
        seed=3,
        skus=30,
        consumer_key=KEY,
        consumer_secret=SECRET,
        epoch=lambda: FROZEN_EPOCH,
        now=TickingSiteClock(),
    )
    emulator = create_app(settings)
    with serve_in_thread(emulator) as server:
        yield emulator, server


@pytest.fixture(autouse=True)
def _calm(shop: tuple[WooCommerceEmulator, RunningServer]) -> Iterator[None]:
    yield
    shop[0].chaos.update(
        {"webhook_duplicate_rate": 0, "webhook_reorder_rate": 0, "webhook_bad_signature_rate": 0}
    )


def subscribe(shop_url: str, topic: str, delivery_url: str, secret: str) -> dict[str, object]:
    from woocommerce import API

    api = API(url=shop_url, consumer_key=KEY, consumer_secret=SECRET, version="wc/v3")
    created = api.post(
        "webhooks", {"name": topic, "topic": topic, "delivery_url": delivery_url, "secret": secret}
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


def storefront_order(shop_url: str, sku: str, quantity: int = 1) -> int:
    placed = httpx.post(
        f"{shop_url}/_sandbox/orders", json={"line_items": [{"sku": sku, "quantity": quantity}]}
    )
    assert placed.status_code == 201, placed.text
    return int(placed.json()["id"])


def in_stock_sku(emulator: WooCommerceEmulator, minimum: int = 5) -> str:
    return next(
        p.sku
        for p in emulator.shop.products.values()
        if p.type == "simple" and (p.stock_quantity or 0) >= minimum
    )


Shop = tuple[WooCommerceEmulator, RunningServer]
Hooks = tuple[Receiver, RunningServer]


def test_creation_pings_then_orders_arrive_signed_with_the_real_headers(shop: Shop, receiver: Hooks) -> None:
    (emulator, server), (hooks, target) = shop, receiver
    webhook = subscribe(server.url, "order.created", f"{target.url}/hook/orders", "s3cret&<ok>")
    ping = hooks.wait_for("orders", 1)[0]
    assert ping.headers["content-type"] == "application/x-www-form-urlencoded"
    assert ping_webhook_id(ping.body, ping.headers) == webhook["id"]
    order_id = storefront_order(server.url, in_stock_sku(emulator))
    delivery = hooks.wait_for("orders", 2)[1]
    for header in (
        "x-wc-webhook-source",
        "x-wc-webhook-topic",
        "x-wc-webhook-resource",
        "x-wc-webhook-event",
        "x-wc-webhook-signature",
        "x-wc-webhook-id",
        "x-wc-webhook-delivery-id",
    ):
        assert delivery.headers[header]
    assert delivery.headers["user-agent"].startswith("WooCommerce/")
    verified = verify_webhook(delivery.body, delivery.headers, "s3cret&<ok>")
    assert (verified.topic, verified.resource, verified.event) == ("order.created", "order", "created")
    assert verified.webhook_id == webhook["id"] and verified.resource_id == order_id
    assert verified.source == f"{server.url}/" and b"\\/" in delivery.body  # PHP-escaped slashes, signed raw
    with pytest.raises(WebhookVerificationError):
        verify_webhook(delivery.body, delivery.headers, "another-secret")
    with pytest.raises(WebhookVerificationError, match="missing"):
        verify_webhook(
            delivery.body, {k: v for k, v in delivery.headers.items() if "signature" not in k}, "s3cret&<ok>"
        )
    with pytest.raises(WebhookVerificationError):
        verify_webhook(delivery.body.replace(b'"status"', b'"Status"'), delivery.headers, "s3cret&<ok>")


def test_bad_signatures_from_chaos_are_refused(shop: Shop, receiver: Hooks) -> None:
    (emulator, server), (hooks, target) = shop, receiver
    subscribe(server.url, "order.created", f"{target.url}/hook/forged", "forge-me")
    emulator.chaos.update({"webhook_bad_signature_rate": 1.0})
    storefront_order(server.url, in_stock_sku(emulator))
    delivery = hooks.wait_for("forged", 2)[1]
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verify_webhook(delivery.body, delivery.headers, "forge-me")


def test_a_replayed_delivery_dedupes_but_distinct_changes_in_the_same_second_do_not(
    shop: Shop, receiver: Hooks
) -> None:
    (emulator, server), (hooks, target) = shop, receiver
    subscribe(server.url, "product.updated", f"{target.url}/hook/stock", "stock-secret")
    sku = in_stock_sku(emulator)
    emulator.chaos.update({"webhook_duplicate_rate": 1.0})
    httpx.post(f"{server.url}/_sandbox/stock", json={"sku": sku, "stock_quantity": 40}).raise_for_status()
    first, replay = [
        verify_webhook(d.body, d.headers, "stock-secret") for d in hooks.wait_for("stock", 3)[1:3]
    ]
    assert first.dedupe_key == replay.dedupe_key and first.delivery_id == replay.delivery_id
    emulator.chaos.update({"webhook_duplicate_rate": 0.0})
    httpx.post(f"{server.url}/_sandbox/stock", json={"sku": sku, "stock_quantity": 39}).raise_for_status()
    change = verify_webhook(hooks.wait_for("stock", 4)[3].body, hooks.at("stock")[3].headers, "stock-secret")
    # Same webhook, same second: WooCommerce repeats the delivery id for a different change.
    assert change.delivery_id == first.delivery_id
    assert change.dedupe_key != first.dedupe_key and change.payload["stock_quantity"] == 39


def test_reordered_deliveries_arrive_out_of_order_and_the_stale_one_is_recognised(
    shop: Shop, receiver: Hooks
) -> None:
    (emulator, server), (hooks, target) = shop, receiver
    subscribe(server.url, "product.updated", f"{target.url}/hook/reorder", "order-secret")
    hooks.wait_for("reorder", 1)
    sku = in_stock_sku(emulator)
    emulator.chaos.update({"webhook_reorder_rate": 1.0})
    for quantity in (21, 20):
        httpx.post(
            f"{server.url}/_sandbox/stock", json={"sku": sku, "stock_quantity": quantity}
        ).raise_for_status()
    arrived = [verify_webhook(d.body, d.headers, "order-secret") for d in hooks.wait_for("reorder", 3)[1:3]]
    assert [d.payload["stock_quantity"] for d in arrived] == [20, 21]  # the older state arrives last
    versions = ResourceVersions()
    assert versions.is_current(arrived[0])
    assert not versions.is_current(arrived[1])  # older date_modified_gmt than what was applied


def test_a_lost_delivery_that_arrives_late_carries_its_old_payload(shop: Shop, receiver: Hooks) -> None:
    (emulator, server), (hooks, target) = shop, receiver
    webhook_id = subscribe(server.url, "product.updated", f"{target.url}/hook/late", "late-secret")["id"]
    hooks.wait_for("late", 1)
    sku = in_stock_sku(emulator)
    emulator.chaos.update({"webhook_drop_rate": 1.0, "webhook_redeliver_after_s": 0.3})
    httpx.post(f"{server.url}/_sandbox/stock", json={"sku": sku, "stock_quantity": 31}).raise_for_status()
    deadline = time.monotonic() + 5  # let the worker drop it before the knob changes
    while time.monotonic() < deadline and not any(
        r.kind == "dropped" and r.webhook_id == webhook_id for r in emulator.webhooks.log
    ):
        time.sleep(0.01)
    emulator.chaos.update({"webhook_drop_rate": 0.0})
    httpx.post(f"{server.url}/_sandbox/stock", json={"sku": sku, "stock_quantity": 30}).raise_for_status()
    arrived = [verify_webhook(d.body, d.headers, "late-secret") for d in hooks.wait_for("late", 3)[1:3]]
    assert [d.payload["stock_quantity"] for d in arrived] == [30, 31]
    versions = ResourceVersions()
    assert versions.is_current(arrived[0]) and not versions.is_current(arrived[1])


def test_a_webhook_is_disabled_after_more_than_five_consecutive_failures(shop: Shop, receiver: Hooks) -> None:
    (emulator, server), (hooks, target) = shop, receiver
    hooks.answers["broken"] = 500
    webhook = subscribe(server.url, "order.created", f"{target.url}/hook/broken", "x")
    sku = in_stock_sku(emulator, minimum=10)
    for _ in range(8):
        storefront_order(server.url, sku)
    deliveries = hooks.wait_for("broken", 8)  # the ping, then seven failed deliveries
    from woocommerce import API

    api = API(url=server.url, consumer_key=KEY, consumer_secret=SECRET, version="wc/v3")
    deadline = time.monotonic() + 5
    while api.get(f"webhooks/{webhook['id']}").json()["status"] != "disabled" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert api.get(f"webhooks/{webhook['id']}").json()["status"] == "disabled"
    assert len(deliveries) == 8  # no retries, and nothing after it was disabled
    time.sleep(0.2)
    assert len(hooks.at("broken")) == 8

    async def revive() -> list[WebhookSubscription]:
        async with WooCommerceClient(server.url, KEY, SECRET) as client:
            connector = WooCommerceConnector(client)
            return [
                await connector.ensure_webhook("order.created", f"{target.url}/hook/broken", "x")
                for _ in range(2)
            ]

    first, second = asyncio.run(revive())
    assert first.webhook_id == second.webhook_id == webhook["id"] and second.status == "active"
