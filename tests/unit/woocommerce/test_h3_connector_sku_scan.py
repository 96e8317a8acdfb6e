"""Many unknown SKUs are found by reading the product list (100 a page) when that takes fewer calls
than 50-SKU lookups; a few are still looked up; the client's rate limit and 429 handling apply."""

from __future__ import annotations

import httpx

from channelhub.clock import ManualClock
from channelhub.connectors.woocommerce import WooCommerceClient
from channelhub.connectors.woocommerce.catalog import SkuIndex
from channelhub.connectors.woocommerce.mapping import LISTING_FIELDS, listing_from_payload
from channelhub.sandbox.woocommerce.app import WooCommerceEmulator, WooCommerceSettings, create_app
from channelhub.sandbox.woocommerce.shop import Product


def shop_of(simple: int, variable: int = 0) -> WooCommerceEmulator:
    emulator = create_app(WooCommerceSettings(skus=0, consumer_key="ck_h3", consumer_secret="cs_h3"))
    shop = emulator.shop
    for n in range(simple):
        shop.add_product(
            Product(id=shop.next_id(), name=f"P{n}", type="simple", sku=f"S-{n:05d}", regular_price="2")
        )
    for n in range(variable):
        parent = shop.add_product(
            Product(id=shop.next_id(), name=f"V{n}", type="variable", sku=f"V-{n:04d}", regular_price="")
        )
        for size in ("S", "M"):
            shop.add_product(
                Product(
                    id=shop.next_id(),
                    name=f"V{n} {size}",
                    type="variation",
                    sku=f"V-{n:04d}-{size}",
                    regular_price="3",
                    parent_id=parent.id,
                )
            )
    return emulator


class Recording(httpx.AsyncBaseTransport):
    """The emulator behind a transport that records queries, counts requests in flight, and can
    answer one chosen request with a 429."""

    def __init__(self, emulator: WooCommerceEmulator, throttle_page: str | None = None) -> None:
        self._inner = httpx.ASGITransport(app=emulator)
        self.queries: list[dict[str, str]] = []
        self.in_flight = self.most_in_flight = 0
        self._throttle_page = throttle_page

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        query = dict(request.url.params)
        if self._throttle_page is not None and query.get("page") == self._throttle_page:
            self._throttle_page = None
            body = {"code": "rate_limit", "message": "slow down", "data": {"status": 429}}
            return httpx.Response(429, json=body, headers={"Retry-After": "3"})
        self.queries.append(query)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await self._inner.handle_async_request(request)
        finally:
            self.in_flight -= 1


def client_for(transport: httpx.AsyncBaseTransport, **options: object) -> WooCommerceClient:
    return WooCommerceClient("https://shop.test", "ck_h3", "cs_h3", transport=transport, **options)  # type: ignore[arg-type]


async def test_a_cold_start_on_a_big_catalog_reads_pages_then_looks_up_the_rest() -> None:
    emulator = shop_of(simple=1_450, variable=50)  # 1,500 products, 100 variations
    shop = emulator.shop
    transport = Recording(emulator)
    wanted = [f"S-{n:05d}" for n in range(1_400)] + [f"V-{n:04d}-M" for n in range(30)] + ["GONE-1"]
    async with client_for(transport) as client:
        index = SkuIndex(client)
        known, unknown = await index.resolve(wanted)
    assert unknown == ["GONE-1"] and set(known) == set(wanted) - {"GONE-1"}
    for sku, listing in known.items():
        item = shop.by_sku(sku)
        assert item is not None and listing.ref.item_id == item.id
        assert listing.ref.product_id == (item.parent_id or item.id)
    pages = [q for q in transport.queries if "sku" not in q]
    lookups = [q for q in transport.queries if "sku" in q]
    assert sorted(int(q["page"]) for q in pages) == list(range(1, 16))
    assert all((q["orderby"], q["order"], q["per_page"]) == ("id", "asc", "100") for q in pages)
    assert len(lookups) == 1 and index.scans == 1 and index.loads == 0  # 31 left: one lookup
    assert len(transport.queries) < -(-len(wanted) // 50)  # 16 calls instead of 29
    assert transport.most_in_flight <= 4
    assert all(q["_fields"] == ",".join(LISTING_FIELDS) for q in transport.queries)  # listings only


async def test_listings_read_with_fields_equal_those_of_the_whole_payloads() -> None:
    emulator = shop_of(simple=30, variable=5)
    emulator.shop.by_sku("S-00003").sale_price = "1.50"  # type: ignore[union-attr]
    async with client_for(Recording(emulator)) as client:
        index = SkuIndex(client)
        slim = await index.load()
        products = (await client.get("products", {"per_page": 100})).data
        whole = [listing_from_payload(p) for p in products if p["type"] != "variable"]
        for product in emulator.shop.products.values():
            if product.type == "variation":
                payload = (await client.get(f"products/{product.parent_id}/variations/{product.id}")).data
                whole.append(listing_from_payload({**payload, "parent_id": product.parent_id}))
    assert slim == {listing.sku: listing for listing in whole} and len(slim) == 40


async def test_a_few_unknown_skus_are_only_looked_up() -> None:
    emulator = shop_of(simple=2_000)
    transport = Recording(emulator)
    async with client_for(transport) as client:
        index = SkuIndex(client)
        known, _ = await index.resolve([f"S-{n:05d}" for n in range(0, 2_000, 5)])  # 400 SKUs
    assert len(known) == 400 and index.scans == 0
    assert len(transport.queries) == 8 and all("sku" in q for q in transport.queries)


async def test_a_huge_catalog_is_not_read_for_a_small_share_of_it() -> None:
    emulator = shop_of(simple=5_000)
    transport = Recording(emulator)
    wanted = [f"S-{n:05d}" for n in range(0, 5_000, 8)]  # 625 SKUs: 13 lookups < 49 more pages
    async with client_for(transport) as client:
        index = SkuIndex(client)
        known, unknown = await index.resolve(wanted)
    assert len(known) == len(wanted) and not unknown and index.scans == 0
    assert transport.queries[0].get("page") == "1" and "sku" not in transport.queries[0]
    lookups = [q for q in transport.queries if "sku" in q]
    assert len(transport.queries) == 1 + len(lookups) and len(lookups) == -(-(len(wanted) - 13) // 50)


async def test_the_page_read_keeps_to_the_clients_rate_and_waits_out_a_429() -> None:
    emulator = shop_of(simple=1_200)
    transport = Recording(emulator, throttle_page="7")
    clock = ManualClock()
    async with client_for(transport, clock=clock, requests_per_second=5.0) as client:
        index = SkuIndex(client, clock=clock)
        known, unknown = await index.resolve([f"S-{n:05d}" for n in range(1_200)])
        assert len(known) == 1_200 and not unknown and index.scans == 1
        assert client.throttled == 1 and client.calls == 13  # 12 pages + the refused one
        # Every page went through the client's bucket, which the 429 slowed down.
        assert client.bucket is not None and client.bucket.rate < 5.0
    assert clock.monotonic() >= 3.0  # the Retry-After pause held every caller


async def test_a_fetch_of_known_skus_asks_a_full_page_of_them_per_call() -> None:
    emulator = shop_of(simple=250)
    transport = Recording(emulator)
    wanted = [f"S-{n:05d}" for n in range(150)]
    async with client_for(transport) as client:
        index = SkuIndex(client)
        found = await index.fetch(wanted, per_call=100)  # the write guard's read
        assert sorted(found) == wanted
        assert sorted(len(q["sku"].split(",")) for q in transport.queries) == [50, 100]
        transport.queries.clear()
        await index.fetch(wanted)  # lookups keep `lookup_batch` (50)
        assert len(transport.queries) == 3
