"""Publishing to Shopify runs at the pace of the real cost bucket, not at a guessed calls/s cap.

The connector waits exactly as long as the server's bucket needs (resynced from every answer's
`throttleStatus`), so on an emptied basic-plan bucket (100 points/s) a run of small calls takes
about their cost / 100 s, never surfaces THROTTLED, and the gateway's planning figures follow the
bucket and the observed cost of a call (a ~30-point call is ~3 calls/s, not 1)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import pytest
import sqlalchemy as sa

from channelhub.clock import SystemClock
from channelhub.connectors.shopify import ShopifyConfig, ShopifyConnector
from channelhub.engine.publisher import Publisher, PublisherSettings
from channelhub.sandbox.server import serve_in_thread
from channelhub.sandbox.shopify.app import ShopifyEmulator
from channelhub.sandbox.shopify.settings import EmulatorSettings
from channelhub.service.adapters import ShopifyChannelGateway

from .conftest import Listings

CALLS = 8


@pytest.fixture
def emulator() -> Iterator[tuple[ShopifyEmulator, str]]:
    shop = ShopifyEmulator(
        EmulatorSettings(seed=5, skus=CALLS, plan="basic", locations=1, deliver_webhooks=False)
    )
    with serve_in_thread(shop.app) as server:
        yield shop, server.url


@pytest.fixture
async def gateway(emulator: tuple[ShopifyEmulator, str]) -> AsyncIterator[ShopifyChannelGateway]:
    shop, url = emulator
    connector = ShopifyConnector(ShopifyConfig(shop_url=url, access_token=shop.settings.access_token))
    gateway = ShopifyChannelGateway("shopify", connector, bucket=2000.0, restore_per_second=100.0)
    try:
        yield gateway
    finally:
        await gateway.aclose()


async def test_publishing_follows_the_cost_bucket_without_throttling(
    store: sa.Engine, emulator: tuple[ShopifyEmulator, str], gateway: ShopifyChannelGateway
) -> None:
    shop, _ = emulator
    before = gateway.limits
    assert before.calls_per_second is None  # no cap before the real cost of a call is known
    assert (before.cost_bucket, before.cost_restore_per_second) == (2000.0, 100.0)

    clock = SystemClock()
    listings = Listings(store, clock, "shopify")
    shown = await gateway.read_available()
    listings.desire(shown)
    listings.acknowledge(shown)
    publisher = Publisher(store, [gateway], clock=clock, settings=PublisherSettings(seed=1))
    client = gateway.connector.client
    shop.bucket.drain()  # the flash sale used the bucket up: every call now waits for points

    started = time.monotonic()
    for sku in sorted(shown):  # one change per pass: one call each
        listings.desire({sku: shown[sku] + 3})
        result = await publisher.publish_once("shopify")
        assert (result.applied, result.calls, result.failed) == (1, 1, 0)
    elapsed = time.monotonic() - started

    # The drain happened behind the client's back: at most the first call finds out (THROTTLED
    # resyncs the model and the connector retries by itself); the caller never sees it.
    assert client.stats.throttled_responses <= 1
    assert shop.shop.stats.throttled_requests == client.stats.throttled_responses
    assert publisher.snapshot()["shopify"]["call_failures"] == 0
    points = client.stats.points_actual
    limits = gateway.limits
    assert limits.calls_per_second is not None
    per_call = points / client.stats.calls
    # Paced by the bucket: the drained points come back at 100/s, so the run takes about the
    # points it spent / 100 s, far below the 1 call/s of a guessed 100-point call.
    assert elapsed < CALLS * 0.7
    assert elapsed > 0.5 * (CALLS * per_call / 100.0) - 0.2
    assert (limits.cost_bucket, limits.cost_restore_per_second) == (2000.0, 100.0)
    assert limits.calls_per_second > 2.0
