"""The connector against the emulator in-process (httpx.ASGITransport: real HTTP semantics, no sockets)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from channelhub.connectors.errors import NotFoundError
from channelhub.connectors.woocommerce import PriceChange, Tracking, WooCommerceClient, WooCommerceConnector
from channelhub.sandbox.woocommerce.app import WooCommerceEmulator, WooCommerceSettings, create_app


class SiteClock:
    """The emulated site's clock, moved by hand so same-second behaviour can be provoked."""

    def __init__(self) -> None:
        self.moment = datetime(2026, 3, 1, 9, 0, 0)

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def site_clock() -> SiteClock:
    return SiteClock()


@pytest.fixture
def emulator(site_clock: SiteClock) -> WooCommerceEmulator:
    return create_app(
        WooCommerceSettings(seed=5, skus=240, consumer_key="ck_t", consumer_secret="cs_t", now=site_clock)
    )


@pytest.fixture
async def connector(emulator: WooCommerceEmulator) -> AsyncIterator[WooCommerceConnector]:
    transport = httpx.ASGITransport(app=emulator)
    async with WooCommerceClient("http://shop.test", "ck_t", "cs_t", transport=transport) as client:
        yield WooCommerceConnector(client)


def sellable(emulator: WooCommerceEmulator) -> dict[str, int]:
    return {p.sku: p.id for p in emulator.shop.products.values() if p.type != "variable"}


async def test_stock_for_every_sku_goes_out_in_as_few_batch_calls_as_the_endpoints_allow(
    emulator: WooCommerceEmulator, connector: WooCommerceConnector
) -> None:
    skus = sellable(emulator)
    await connector.read_listings()
    calls_before = connector.client.calls
    result = await connector.set_stock({sku: 11 for sku in skus} | {"NO-SUCH-SKU": 1})
    simple = sum(1 for p in emulator.shop.products.values() if p.type == "simple")
    parents = sum(1 for p in emulator.shop.products.values() if p.type == "variable")
    assert result.unknown_skus == ["NO-SUCH-SKU"] and not result.failed
    assert set(result.applied) == set(skus)
    assert result.calls == -(-simple // 100) + parents
    assert connector.client.calls - calls_before == result.calls + 1  # + one sku lookup for the unknown SKU
    assert all(emulator.shop.products[pid].stock_quantity == 11 for pid in skus.values())


async def test_a_smaller_batch_limit_named_by_the_shop_is_adopted(site_clock: SiteClock) -> None:
    emulator = create_app(
        WooCommerceSettings(
            seed=5, skus=120, consumer_key="k", consumer_secret="s", batch_limit=25, now=site_clock
        )
    )
    async with WooCommerceClient(
        "http://shop.test", "k", "s", transport=httpx.ASGITransport(app=emulator)
    ) as client:
        connector = WooCommerceConnector(client)
        result = await connector.set_stock({sku: 3 for sku in sellable(emulator)})
    assert not result.failed and len(result.applied) == 120 and connector.batch_limit == 25


async def test_a_product_deleted_behind_our_back_fails_alone_and_leaves_the_id_map(
    emulator: WooCommerceEmulator, connector: WooCommerceConnector
) -> None:
    skus = sellable(emulator)
    await connector.read_listings()
    victim = next(p for p in emulator.shop.products.values() if p.type == "simple")
    emulator.shop.delete_product(victim)
    result = await connector.set_stock({sku: 4 for sku in skus})
    assert set(result.failed) == {victim.sku} and isinstance(result.failed[victim.sku], NotFoundError)
    assert len(result.applied) == len(skus) - 1
    assert victim.sku not in connector.index.listings
    again = await connector.set_stock({victim.sku: 4})
    assert again.unknown_skus == [victim.sku] and connector.index.loads == 1  # looked up, not reloaded


async def test_a_cold_id_map_is_filled_by_sku_lookups_that_find_variations_too(
    emulator: WooCommerceEmulator, connector: WooCommerceConnector
) -> None:
    skus = sellable(emulator)
    result = await connector.set_stock({sku: 8 for sku in skus})
    assert len(result.applied) == len(skus) and not result.failed and connector.index.loads == 0
    lookups = connector.client.calls - result.calls
    assert lookups == -(-len(skus) // 50)
    variation = next(p for p in emulator.shop.products.values() if p.type == "variation")
    ref = connector.index.listings[variation.sku].ref
    assert (ref.product_id, ref.variation_id) == (variation.parent_id, variation.id)


async def test_prices_are_set_as_strings_and_read_back(
    emulator: WooCommerceEmulator, connector: WooCommerceConnector
) -> None:
    sku = next(p.sku for p in emulator.shop.products.values() if p.type == "variation")
    result = await connector.set_prices({sku: PriceChange(Decimal("19.9"), Decimal("15"))})
    assert sku in result.applied
    listing = (await connector.read_listings([sku]))[sku]
    assert (listing.regular_price, listing.sale_price) == (Decimal("19.90"), Decimal("15.00"))
    assert emulator.shop.by_sku(sku).price == "15.00"  # type: ignore[union-attr]


async def test_orders_since_a_cursor_survives_hundreds_of_orders_in_one_second(
    emulator: WooCommerceEmulator, connector: WooCommerceConnector, site_clock: SiteClock
) -> None:
    tee = next(p for p in emulator.shop.products.values() if p.type == "simple")
    tee.backorders = "yes"
    orders = [emulator.shop.place_order([(tee, 1)], {"email": "a@b.c"}, "processing") for _ in range(230)]
    page = await connector.orders_since(None)
    assert sorted(o.order_id for o in page.orders) == sorted(o.id for o in orders)
    assert page.next_cursor is not None and page.next_cursor.replace(tzinfo=None) == site_clock.moment
    site_clock.moment += timedelta(seconds=30)
    changed = orders[5]
    emulator.shop.set_order_status(changed, "completed")
    later = await connector.orders_since(page.next_cursor)
    refreshed = [o for o in later.orders if o.order_id == changed.id and o.status == "completed"]
    assert refreshed and later.next_cursor is not None and later.next_cursor > page.next_cursor
    site_clock.moment += timedelta(seconds=30)
    assert (await connector.orders_since(later.next_cursor)).orders == [refreshed[0]]


async def test_fulfil_cancel_and_refund(
    emulator: WooCommerceEmulator, connector: WooCommerceConnector
) -> None:
    tee = next(
        p for p in emulator.shop.products.values() if p.type == "simple" and (p.stock_quantity or 0) >= 2
    )
    stock = tee.stock_quantity or 0
    shipped = emulator.shop.place_order([(tee, 1)], {}, "processing")
    order = await connector.fulfil(shipped.id, Tracking("DHL", "JD0001", "https://dhl.test/JD0001"))
    assert order.status == "completed" and "JD0001" in emulator.shop.orders[shipped.id].notes[0].note
    refund = await connector.refund(shipped.id, Decimal("1.00"), "goodwill", idempotency_key="r-1")
    again = await connector.refund(shipped.id, Decimal("1.00"), "goodwill", idempotency_key="r-1")
    assert refund == again and len(emulator.shop.orders[shipped.id].refunds) == 1
    cancelled = emulator.shop.place_order([(tee, 1)], {}, "processing")
    assert (await connector.cancel(cancelled.id)).status == "cancelled"
    assert tee.stock_quantity == stock - 1  # the cancelled order gave its unit back


async def test_relative_stock_changes_keep_a_sale_taken_in_between(
    emulator: WooCommerceEmulator, connector: WooCommerceConnector
) -> None:
    tee = next(p for p in emulator.shop.products.values() if p.type == "simple")
    tee.stock_quantity, tee.backorders = 10, "no"
    emulator.shop.place_order([(tee, 3)], {}, "processing")  # the storefront sells 3 meanwhile
    result = await connector.adjust_stock({tee.sku: 5})  # the ERP received 5 more
    assert result.applied[tee.sku].quantity == 12 and tee.stock_quantity == 12


async def test_variations_can_ride_along_in_products_batch_when_opted_in(
    emulator: WooCommerceEmulator,
) -> None:
    skus = sellable(emulator)
    transport = httpx.ASGITransport(app=emulator)
    async with WooCommerceClient("http://shop.test", "ck_t", "cs_t", transport=transport) as client:
        connector = WooCommerceConnector(client, variations_in_products_batch=True)
        await connector.read_listings()
        result = await connector.set_stock({sku: 13 for sku in skus})
        variation = next(p for p in emulator.shop.products.values() if p.type == "variation")
        shown = (await client.get(f"products/{variation.id}")).data
    assert not result.failed and result.calls == -(-len(skus) // 100)
    assert all(emulator.shop.products[pid].stock_quantity == 13 for pid in skus.values())
    assert (shown["type"], shown["parent_id"], shown["stock_quantity"]) == (
        "variation",
        variation.parent_id,
        13,
    )


class CorruptFirstOrder(httpx.AsyncBaseTransport):
    """Serves the emulator, but the first order of every order listing loses its line items."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not request.url.path.endswith("/orders"):
            return response
        body = json.loads(await response.aread())
        if body:
            body[0]["line_items"] = []
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(response.status_code, headers=headers, json=body)


async def test_one_malformed_order_is_rejected_with_its_reason_and_the_rest_still_listed(
    emulator: WooCommerceEmulator,
) -> None:
    tee = next(p for p in emulator.shop.products.values() if p.type == "simple")
    tee.backorders = "yes"
    orders = [emulator.shop.place_order([(tee, 1)], {"email": "a@b.c"}, "processing") for _ in range(3)]
    transport = CorruptFirstOrder(httpx.ASGITransport(app=emulator))
    async with WooCommerceClient("http://shop.test", "ck_t", "cs_t", transport=transport) as client:
        page = await WooCommerceConnector(client).orders_since(None)
    assert len(page.orders) == 2 and len(page.rejected) == 1
    ((order_id, reason),) = page.rejected.items()
    assert order_id in {str(o.id) for o in orders} and "line_items" in reason
    assert int(order_id) not in {o.order_id for o in page.orders}
