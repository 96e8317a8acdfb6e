"""The publisher and reconciliation through the real Shopify adapter and connector, over real HTTP
on loopback, against the Shopify emulator: compare-and-set survives a storefront sale, and a
quantity changed in the shop admin is found and fixed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa

from channelhub.clock import SystemClock
from channelhub.connectors.shopify import ShopifyConfig, ShopifyConnector
from channelhub.engine.publisher import Publisher, PublisherSettings
from channelhub.engine.reconcile import reconcile
from channelhub.sandbox.server import RunningServer, serve_in_thread
from channelhub.sandbox.shopify.app import ShopifyEmulator
from channelhub.sandbox.shopify.settings import EmulatorSettings
from channelhub.service.adapters import ShopifyChannelGateway
from channelhub.service.ports import QuantityUpdate

from .conftest import Listings


@dataclass
class Shop:
    server: RunningServer
    emulator: ShopifyEmulator


@pytest.fixture(scope="module")
def shop_server() -> Iterator[Shop]:
    emulator = ShopifyEmulator(
        EmulatorSettings(seed=11, skus=12, plan="basic", locations=1, deliver_webhooks=False)
    )
    with serve_in_thread(emulator.app) as server:
        yield Shop(server, emulator)


@pytest.fixture
async def gateway(shop_server: Shop) -> AsyncIterator[ShopifyChannelGateway]:
    connector = ShopifyConnector(
        ShopifyConfig(
            shop_url=shop_server.server.url, access_token=shop_server.emulator.settings.access_token
        )
    )
    gateway = ShopifyChannelGateway("shopify", connector)
    try:
        yield gateway
    finally:
        await gateway.aclose()


async def test_publish_with_compare_and_set_and_reconcile_against_the_emulator(
    store: sa.Engine, shop_server: Shop, gateway: ShopifyChannelGateway
) -> None:
    clock = SystemClock()
    listings = Listings(store, clock, "shopify")
    shown = await gateway.read_available()
    hot, calm, edited = sorted(shown)[:3]
    listings.desire(shown)  # in sync to start with
    listings.acknowledge(shown)
    target = 1 if shown[hot] == 2 else 2  # the emulator is shared by the backends' runs
    for remaining in range(shown[hot] + 20, target - 1, -1):  # a burst on the hot SKU
        listings.desire({hot: remaining})
    listings.desire({calm: shown[calm] + 5})
    publisher = Publisher(store, [gateway], clock=clock, settings=PublisherSettings(seed=3))

    first = await publisher.publish_until_clean("shopify")

    # The whole burst is one update; the urgent drop and the restock go in separate calls.
    assert (first.sent, first.applied, first.calls) == (2, 2, 2)
    assert await gateway.read_available([hot, calm]) == {hot: target, calm: shown[calm] + 5}

    async with httpx.AsyncClient(base_url=shop_server.server.url) as storefront:
        placed = await storefront.post(
            "/_sandbox/orders",
            json={"line_items": [{"sku": calm, "quantity": 1}], "financial_status": "paid"},
        )
        assert placed.status_code == 201, placed.text
    listings.desire({calm: 3})  # an Odoo adjustment computed before the storefront sale was seen
    second = await publisher.publish_until_clean("shopify")
    # The sale made our compare stale: the gateway reads the value back and, since 3 lowers it
    # further, sends 3 against it in the same publish (no conflict, no second pass).
    assert (second.conflicts, second.applied, second.calls) == (0, 1, 1)
    assert (await gateway.read_available([calm]))[calm] == 3

    [changed] = await gateway.set_available([QuantityUpdate(edited, 77, expected_previous=shown[edited])])
    assert changed.applied  # someone edited the quantity in the shop admin
    report = await reconcile(store, publisher, channel="shopify", clock=clock)
    assert [(d.sku, d.channel_value, d.kind) for d in report.diffs] == [(edited, 77, "drift")]
    assert report.fixed == 1 and report.clean
    assert (await gateway.read_available([edited]))[edited] == shown[edited]
