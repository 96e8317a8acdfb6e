"""Real HTTP on loopback, real clock: the client, and webhooks signed by the emulator."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from channelhub.connectors.errors import WebhookVerificationError
from channelhub.connectors.shopify import (
    DeliveryFilter,
    Outcome,
    QuantityUpdate,
    ShopifyConfig,
    ShopifyConnector,
    Verdict,
    order_events,
)
from channelhub.connectors.shopify.mapping import order_from_rest
from channelhub.sandbox.server import serve_in_thread
from channelhub.sandbox.shopify.app import ShopifyEmulator
from channelhub.sandbox.shopify.settings import EmulatorSettings


class Receiver:
    """A webhook endpoint that keeps raw bodies and headers, answering 200 at once."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()

        async def hook(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.deliveries.append((dict(request.headers), body))
            return Response(status_code=200)

        self.app = Starlette(routes=[Route("/hooks", hook, methods=["POST"])])

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.deliveries) >= count:
                    return list(self.deliveries)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} deliveries, got {len(self.deliveries)}")


@pytest.fixture
def shop_and_hooks() -> Iterator[tuple[ShopifyEmulator, str, Receiver]]:
    receiver = Receiver()
    with serve_in_thread(receiver.app) as hooks:
        emulator = ShopifyEmulator(EmulatorSettings(seed=5, skus=300, plan="basic", locations=1))
        emulator.subscribe("orders/create", f"{hooks.url}/hooks", api_version="2026-10")
        with serve_in_thread(emulator.app) as shop:
            yield emulator, shop.url, receiver


async def test_publish_over_real_http(shop_and_hooks: tuple[ShopifyEmulator, str, Receiver]) -> None:
    emulator, url, _ = shop_and_hooks
    config = ShopifyConfig(shop_url=url, access_token=emulator.settings.access_token, api_version="2026-10")
    async with ShopifyConnector(config) as connector:
        index = await connector.load_catalog()
        results = await connector.set_available([QuantityUpdate(sku, 11) for sku in index.by_sku])
    assert len(results) == 300 and {r.outcome for r in results} == {Outcome.APPLIED}
    assert connector.client.stats.by_operation["set_quantities"] == 2
    assert connector.client.stats.throttled_responses == 0


async def test_emulator_webhooks_verify_dedupe_and_map(
    shop_and_hooks: tuple[ShopifyEmulator, str, Receiver],
) -> None:
    emulator, url, receiver = shop_and_hooks
    async with httpx.AsyncClient(base_url=url) as storefront:
        response = await storefront.post(
            "/_sandbox/orders", json={"line_items": [{"sku": "SKU-00002", "quantity": 1}]}
        )
        assert response.status_code == 201, response.text
    [(headers, body)] = receiver.wait_for(1)
    config = ShopifyConfig(
        shop_url=url, access_token=emulator.settings.access_token, api_secret=emulator.settings.api_secret
    )
    connector = ShopifyConnector(config)
    delivery = connector.verify_webhook(headers, body)
    assert delivery.topic == "orders/create"
    assert delivery.shop_domain == emulator.shop_domain
    assert delivery.api_version == "2026-10"
    assert delivery.event_id and delivery.triggered_at is not None
    filter_ = DeliveryFilter()
    assert filter_.judge(delivery) is Verdict.ACCEPT
    assert filter_.judge(connector.verify_webhook(headers, body)) is Verdict.DUPLICATE  # replay
    events = order_events("shopify", order_from_rest(delivery.payload))
    assert events[0].type == "order.placed.v1"
    # The same body under another app's secret is refused.
    wrong = ShopifyConnector(ShopifyConfig(shop_url=url, access_token="x", api_secret="shpss_other"))
    with pytest.raises(WebhookVerificationError):
        wrong.verify_webhook(headers, body)
    await connector.aclose()
    await wrong.aclose()


async def test_bad_signatures_from_chaos_are_refused(
    shop_and_hooks: tuple[ShopifyEmulator, str, Receiver],
) -> None:
    emulator, url, receiver = shop_and_hooks
    emulator.chaos.update({"webhook_bad_signature_rate": 1.0})
    async with httpx.AsyncClient(base_url=url) as storefront:
        response = await storefront.post(
            "/_sandbox/orders", json={"line_items": [{"sku": "SKU-00003", "quantity": 1}]}
        )
        assert response.status_code == 201
    [(headers, body), *_] = receiver.wait_for(1)
    connector = ShopifyConnector(
        ShopifyConfig(shop_url=url, access_token="t", api_secret=emulator.settings.api_secret)
    )
    with pytest.raises(WebhookVerificationError):
        connector.verify_webhook(headers, body)
    await connector.aclose()
