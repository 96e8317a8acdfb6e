"""The publisher and reconciliation through the real WooCommerce adapter over real HTTP against
the WooCommerce emulator: no compare-and-set there, so the gateway reads the shop before writing
and a storefront sale not ingested yet comes back as a conflict instead of being overwritten; the
level-triggered loop (the ingested order lowers desired) plus reconciliation do the rest."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import sqlalchemy as sa

from channelhub.clock import SystemClock
from channelhub.connectors.woocommerce import WooCommerceClient, WooCommerceConnector
from channelhub.engine.publisher import Publisher, PublisherSettings
from channelhub.engine.reconcile import reconcile
from channelhub.sandbox.server import RunningServer, serve_in_thread
from channelhub.sandbox.woocommerce.app import WooCommerceSettings, create_app
from channelhub.service.adapters import WooCommerceChannelGateway
from channelhub.service.ports import QuantityUpdate

from .conftest import Listings

KEY, SECRET = "ck_publisher", "cs_publisher"


@pytest.fixture(scope="module")
def woo_server() -> Iterator[RunningServer]:
    emulator = create_app(WooCommerceSettings(seed=5, skus=15, consumer_key=KEY, consumer_secret=SECRET))
    with serve_in_thread(emulator) as server:
        yield server


@pytest.fixture
async def gateway(woo_server: RunningServer) -> AsyncIterator[WooCommerceChannelGateway]:
    async with WooCommerceClient(woo_server.url, KEY, SECRET) as client:
        yield WooCommerceChannelGateway("web", WooCommerceConnector(client), webhook_secret="hook")


async def test_publish_and_reconcile_without_compare_and_set(
    store: sa.Engine, woo_server: RunningServer, gateway: WooCommerceChannelGateway
) -> None:
    clock = SystemClock()
    listings = Listings(store, clock, "web")
    shown = await gateway.read_available()
    sku, edited = sorted(shown)[:2]
    listings.desire(shown)
    listings.acknowledge(shown)
    publisher = Publisher(
        store, [gateway], clock=clock, settings=PublisherSettings(seed=5, conflict_grace_s=0.2)
    )

    async with httpx.AsyncClient(base_url=woo_server.url) as storefront:
        placed = await storefront.post("/_sandbox/orders", json={"line_items": [{"sku": sku, "quantity": 2}]})
        assert placed.status_code in (200, 201), placed.text
    after_sale = (await gateway.read_available([sku]))[sku]
    assert after_sale == shown[sku] - 2
    listings.desire({sku: shown[sku] + 10})  # a receipt, computed before the sale was ingested
    first = await publisher.publish_until_clean("web")
    # No compare-and-set, but the gateway read the shop first: the unseen sale is a conflict and
    # is kept instead of being overwritten with a raise that does not count it.
    assert (first.applied, first.conflicts) == (0, 1)
    assert (await gateway.read_available([sku]))[sku] == after_sale
    listings.desire({sku: after_sale + 10})  # the order is ingested: desired counts the sale
    await asyncio.sleep(0.3)  # the raise above the conflict's value waits out the grace
    await publisher.publish_until_clean("web")
    assert (await gateway.read_available([sku]))[sku] == after_sale + 10

    await gateway.set_available([QuantityUpdate(edited, shown[edited] + 30)])  # edited in wp-admin
    dry = await reconcile(store, publisher, channel="web", dry_run=True, clock=clock)
    assert [(d.sku, d.channel_value) for d in dry.diffs] == [(edited, shown[edited] + 30)]
    report = await reconcile(store, publisher, channel="web", clock=clock)
    assert report.fixed == 1 and report.clean
    assert (await gateway.read_available([edited]))[edited] == shown[edited]
