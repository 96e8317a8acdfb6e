"""The connector end to end against the emulator on loopback HTTP: 1,000 SKUs, orders, 429s, 5xx."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from channelhub.connectors.errors import UnavailableError
from channelhub.connectors.woocommerce import ChannelListing, WooCommerceClient, WooCommerceConnector
from channelhub.resilience import RetryPolicy
from channelhub.sandbox.server import RunningServer, serve_in_thread
from channelhub.sandbox.woocommerce.app import WooCommerceEmulator, WooCommerceSettings, create_app

KEY, SECRET = "ck_loop", "cs_loop"


@pytest.fixture(scope="module")
def emulator() -> WooCommerceEmulator:
    return create_app(WooCommerceSettings(seed=21, skus=1000, consumer_key=KEY, consumer_secret=SECRET))


@pytest.fixture(scope="module")
def server(emulator: WooCommerceEmulator) -> Iterator[RunningServer]:
    with serve_in_thread(emulator) as running:
        yield running


@pytest.fixture(scope="module")
def id_map(server: RunningServer) -> dict[str, ChannelListing]:
    """One full catalog read shared by the tests (each test has its own event loop and client)."""

    async def read() -> dict[str, ChannelListing]:
        async with WooCommerceClient(server.url, KEY, SECRET) as client:
            return await WooCommerceConnector(client).read_listings()

    return asyncio.run(read())


def warmed(client: WooCommerceClient, id_map: dict[str, ChannelListing]) -> WooCommerceConnector:
    connector = WooCommerceConnector(client)
    connector.index.adopt(id_map)
    return connector


@pytest.fixture(autouse=True)
def _calm(emulator: WooCommerceEmulator) -> Iterator[None]:
    yield
    emulator.chaos.update({"rate_limit": 0, "rate_burst": 0, "error_rate": 0, "throttle_rate": 0})


def fast_retries(seed: int) -> RetryPolicy:
    return RetryPolicy(max_attempts=8, base_delay=0.05, max_delay=0.5, rng=random.Random(seed))


async def test_stock_for_1000_skus_is_pushed_in_batches_and_read_back(
    server: RunningServer, emulator: WooCommerceEmulator, id_map: dict[str, ChannelListing]
) -> None:
    rng = random.Random(4)
    assert len(id_map) == 1000
    async with WooCommerceClient(server.url, KEY, SECRET) as client:
        connector = warmed(client, id_map)
        wanted = {sku: rng.randint(0, 300) for sku in id_map}
        result = await connector.set_stock(wanted)
        assert len(result.applied) == 1000 and not result.failed and not result.unknown_skus
        assert {sku: listing.quantity for sku, listing in result.applied.items()} == wanted
        shown = await connector.read_listings()
    assert {sku: listing.quantity for sku, listing in shown.items()} == wanted
    assert all(emulator.shop.by_sku(sku).stock_quantity == q for sku, q in wanted.items())  # type: ignore[union-attr]


async def test_orders_placed_on_the_storefront_are_listed_since_a_cursor(
    server: RunningServer, id_map: dict[str, ChannelListing]
) -> None:
    async with WooCommerceClient(server.url, KEY, SECRET) as client:
        connector = warmed(client, id_map)
        cursor = (await connector.orders_since(None)).next_cursor or datetime.now(UTC) - timedelta(hours=1)
        listings = await connector.set_stock({"SKU-00001": 50})
        assert listings.applied
        async with httpx.AsyncClient() as storefront:
            placed = [
                (
                    await storefront.post(
                        f"{server.url}/_sandbox/orders",
                        json={"line_items": [{"sku": "SKU-00001", "quantity": 2}]},
                    )
                ).json()["id"]
                for _ in range(3)
            ]
        page = await connector.orders_since(cursor)
        found = [o for o in page.orders if o.order_id in placed]
        assert sorted(o.order_id for o in found) == sorted(placed)
        assert all(o.lines[0].sku == "SKU-00001" and o.lines[0].quantity == 2 for o in found)
        product_id = id_map["SKU-00001"].ref.product_id
        assert (await client.get(f"products/{product_id}")).data["stock_quantity"] == 44


async def test_a_host_rate_limit_is_followed_through_429_and_retry_after(
    server: RunningServer, emulator: WooCommerceEmulator, id_map: dict[str, ChannelListing]
) -> None:
    async with WooCommerceClient(server.url, KEY, SECRET, retry=fast_retries(1)) as client:
        connector = warmed(client, id_map)
        skus = sorted(id_map)[:300]
        emulator.chaos.update({"rate_limit": 40, "rate_burst": 10})
        result = await connector.set_stock({sku: 7 for sku in skus})
    assert not result.failed and len(result.applied) == 300
    assert client.throttled > 0  # the limit was hit and honoured, not failed


async def test_server_errors_are_retried_until_the_push_succeeds(
    server: RunningServer, emulator: WooCommerceEmulator, id_map: dict[str, ChannelListing]
) -> None:
    async with WooCommerceClient(server.url, KEY, SECRET, retry=fast_retries(2)) as client:
        connector = warmed(client, id_map)
        skus = sorted(id_map)[:200]
        emulator.chaos.update({"error_rate": 0.2})
        result = await connector.set_stock({sku: 5 for sku in skus})
        emulator.chaos.update({"error_rate": 0})
    assert not result.failed and len(result.applied) == 200 and client.retries > 0


async def test_an_outage_surfaces_as_a_transient_error(server: RunningServer) -> None:
    async with httpx.AsyncClient() as admin:
        await admin.post(f"{server.url}/_sandbox/chaos", json={"outage_seconds": 30})
    try:
        async with WooCommerceClient(server.url, KEY, SECRET, retry=RetryPolicy(max_attempts=1)) as client:
            with pytest.raises(UnavailableError) as failed:
                await client.get("products")
        assert failed.value.transient and failed.value.status == 503
        assert failed.value.details["retry_after"] is not None
    finally:
        async with httpx.AsyncClient() as admin:
            await admin.post(f"{server.url}/_sandbox/chaos", json={"outage_seconds": 0})
