"""The emulator answers `sku` and `include` from indexes and pages cached listings: same answers as
a scan of the whole catalog, through creates, edits, trashing, deletes and batches."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from channelhub.connectors.errors import ValidationFailed
from channelhub.connectors.woocommerce import WooCommerceClient
from channelhub.connectors.woocommerce.client import WooResponse
from channelhub.sandbox.woocommerce.app import WooCommerceEmulator, WooCommerceSettings, create_app
from channelhub.sandbox.woocommerce.shop import Product, Shop

T0 = datetime(2026, 3, 1, 9, 0, 0)


@pytest.fixture
def emulator() -> WooCommerceEmulator:
    return create_app(
        WooCommerceSettings(seed=7, skus=60, consumer_key="ck_h3", consumer_secret="cs_h3", now=lambda: T0)
    )


@pytest.fixture
async def client(emulator: WooCommerceEmulator) -> AsyncIterator[WooCommerceClient]:
    transport = httpx.ASGITransport(app=emulator)
    async with WooCommerceClient("https://shop.test", "ck_h3", "cs_h3", transport=transport) as woo:
        yield woo


def scanned(shop: Shop, sku: str, status: str = "any") -> list[int]:
    """The `sku` filter as a scan of every product and variation (the reference)."""
    wanted = {part.strip() for part in sku.split(",")} | {sku}
    return sorted(
        p.id for p in shop.products.values() if p.sku in wanted and (status == "any" or p.status == status)
    )


async def listed_ids(client: WooCommerceClient, params: dict[str, Any]) -> list[int]:
    ids: list[int] = []
    async for page in client.pages("products", {"orderby": "id", "order": "asc", **params}):
        ids.extend(int(p["id"]) for p in page)
    return ids


async def test_the_sku_filter_matches_a_full_scan_through_every_kind_of_change(
    emulator: WooCommerceEmulator, client: WooCommerceClient
) -> None:
    shop, rng = emulator.shop, random.Random(3)
    parent = next(p for p in shop.products.values() if p.type == "variable")
    for step in range(60):
        ids = [p.id for p in shop.products.values() if p.type != "variation"]
        action = step % 6
        if action == 0:
            await client.post("products", {"name": f"New {step}", "sku": f"NEW-{step}"})
        elif action == 1:  # a SKU renamed (the index must move it)
            await client.put(f"products/{rng.choice(ids)}", {"sku": f"REN-{step}"})
        elif action == 2:
            await client.delete(f"products/{rng.choice(ids)}", {"force": True})
        elif action == 3:  # trashed: still found by `status=any`
            await client.delete(f"products/{rng.choice(ids)}")
        elif action == 4:
            body = {
                "create": [{"name": "B", "sku": f"BATCH-{step}"}, {"name": "No SKU"}],
                "update": [{"id": rng.choice(ids), "sku": f"BREN-{step}"}],
                "delete": [rng.choice(ids)],
            }
            await client.post("products/batch", body)
        elif parent.id in shop.products:
            await client.post(f"products/{parent.id}/variations", {"sku": f"VAR-{step}"})
    skus = sorted({p.sku for p in shop.products.values() if p.sku})
    queries = [
        ",".join(rng.sample(skus, 12)),
        ",".join([*rng.sample(skus, 3), "NOT-THERE"]),
        f" {skus[0]} , {skus[1]}",
        f"{skus[2]},,{skus[3]}",  # an empty part matches the products without a SKU
        "REN-1,NEW-0,BATCH-4,VAR-5",
        "NEW-6",
    ]
    for query in queries:
        assert await listed_ids(client, {"sku": query}) == scanned(shop, query), query
        trashed = await listed_ids(client, {"sku": query, "status": "trash"})
        assert trashed == scanned(shop, query, "trash"), query
    for sku in [*skus, "", "NOT-THERE"]:
        holder = next((p for p in shop.products.values() if p.sku and p.sku == sku), None)
        assert shop.by_sku(sku) is holder
        assert shop.sku_taken(sku) == (holder is not None)


async def test_a_sku_listing_pages_with_the_right_headers(
    emulator: WooCommerceEmulator, client: WooCommerceClient
) -> None:
    sellable = [p for p in emulator.shop.products.values() if p.type != "variable"][:7]
    query = {"sku": ",".join(p.sku for p in sellable), "per_page": 3, "orderby": "id", "order": "asc"}
    second: WooResponse = await client.get("products", {**query, "page": 2})
    assert (second.total, second.total_pages) == (7, 3)
    assert [p["id"] for p in second.data] == sorted(p.id for p in sellable)[3:6]
    links = second.headers["Link"]
    assert 'page=1>; rel="prev"' in links and 'page=3>; rel="next"' in links
    last = await client.get("products", {**query, "page": 3})
    assert len(last.data) == 1 and 'rel="next"' not in last.headers["Link"]


async def test_a_duplicated_sku_finds_every_holder_and_survives_deleting_one(
    emulator: WooCommerceEmulator, client: WooCommerceClient
) -> None:
    shop = emulator.shop
    twins = [
        shop.add_product(
            Product(id=shop.next_id(), name="Twin", type="simple", sku="TWIN", regular_price="1")
        )
        for _ in range(3)
    ]
    assert await listed_ids(client, {"sku": "TWIN"}) == [p.id for p in twins]
    assert shop.by_sku("TWIN") is twins[0]
    await client.delete(f"products/{twins[0].id}", {"force": True})
    assert await listed_ids(client, {"sku": "TWIN"}) == [twins[1].id, twins[2].id]
    assert shop.by_sku("TWIN") is twins[1] and shop.sku_taken("TWIN", except_id=twins[2].id)
    with pytest.raises(ValidationFailed):
        await client.post("products", {"name": "Third", "sku": "TWIN"})


async def test_include_lists_only_those_ids_in_include_order(
    emulator: WooCommerceEmulator, client: WooCommerceClient
) -> None:
    ids = [p.id for p in emulator.shop.products.values() if p.type != "variation"]
    variation = next(p.id for p in emulator.shop.products.values() if p.type == "variation")
    wanted = [ids[5], ids[1], 999_999, variation, ids[3]]
    response = await client.get(
        "products", {"include": ",".join(map(str, wanted)), "orderby": "include", "per_page": 2}
    )
    assert [p["id"] for p in response.data] == [ids[5], ids[1]]
    assert (response.total, response.total_pages) == (3, 2)


async def test_a_paged_full_read_follows_catalog_changes_between_pages(
    emulator: WooCommerceEmulator, client: WooCommerceClient
) -> None:
    shop = emulator.shop
    every = sorted(p.id for p in shop.products.values() if p.type != "variation")
    first = await client.get("products", {"per_page": 10, "orderby": "id", "order": "asc"})
    assert [p["id"] for p in first.data] == every[:10] and first.total == len(every)
    await client.delete(f"products/{every[0]}", {"force": True})
    renamed = await client.put(f"products/{every[11]}", {"name": "Zzz renamed"})
    second = await client.get("products", {"per_page": 10, "orderby": "id", "order": "asc", "page": 2})
    assert second.total == len(every) - 1
    assert [p["id"] for p in second.data] == every[11:21]
    assert second.data[0]["name"] == renamed.data["name"]
    found = await client.get("products", {"search": "zzz renamed"})
    assert [p["id"] for p in found.data] == [every[11]]


async def test_stock_filtered_listings_see_stock_changes_that_do_not_touch_the_catalog(
    emulator: WooCommerceEmulator, client: WooCommerceClient
) -> None:
    shop = emulator.shop
    simple = next(p for p in shop.products.values() if p.type == "simple" and p.manage_stock)
    shop.adjust_stock(simple, 5 - (simple.stock_quantity or 0))
    query = {"stock_status": "outofstock", "type": "simple", "per_page": 100}
    before = {p["id"] for p in (await client.get("products", query)).data}
    version = shop.catalog_version
    shop.adjust_stock(simple, -5)
    after = {p["id"] for p in (await client.get("products", query)).data}
    assert shop.catalog_version == version and after == before | {simple.id}
    await client.put(f"products/{simple.id}", {"stock_quantity": 9})  # stock only: same version
    assert shop.catalog_version == version


async def test_fields_keeps_only_the_requested_keys_of_every_item(
    emulator: WooCommerceEmulator, client: WooCommerceClient
) -> None:
    sellable = [p for p in emulator.shop.products.values() if p.type != "variable"][:3]
    query = {"sku": ",".join(p.sku for p in sellable), "orderby": "id", "order": "asc"}
    full = await client.get("products", query)
    slim = await client.get("products", {**query, "_fields": "id, sku,stock_quantity,no_such_field"})
    assert [set(item) for item in slim.data] == [{"id", "sku", "stock_quantity"}] * 3
    assert slim.data == [{k: item[k] for k in ("id", "sku", "stock_quantity")} for item in full.data]
    assert slim.total == full.total  # the headers are not filtered
    one = await client.get(f"products/{sellable[0].id}", {"_fields[0]": "id", "_fields[1]": "_links.self"})
    assert one.data == {"id": sellable[0].id, "_links": {"self": full.data[0]["_links"]["self"]}}


async def test_fields_leaves_error_answers_whole(client: WooCommerceClient) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await client.get("products", {"per_page": 1000, "_fields": "id"})
    assert "per_page" in str(caught.value)


def test_fields_filtering_follows_wordpress_rules() -> None:
    from channelhub.sandbox.woocommerce.rest import filter_fields, requested_fields

    assert requested_fields("a, b,,c") == ["a", "b", "c"]
    assert requested_fields(["a", " b "]) == ["a", "b"]
    assert requested_fields({"0": "a", "1": "b.c"}) == ["a", "b.c"]  # _fields[]=a&_fields[]=b.c
    data = {"a": 1, "b": {"x": 1, "y": 2}, "c": [1, 2], "d": [{"x": 1}]}
    assert filter_fields(data, ["a", "b.x"]) == {"a": 1, "b": {"x": 1}}
    assert filter_fields(data, ["b", "b.x"]) == {"b": {"x": 1, "y": 2}}  # the parent wanted whole
    assert filter_fields(data, ["c", "d.x"]) == {"c": [1, 2], "d": []}  # a list is not an object
    assert filter_fields([data, {"a": 2}], ["a"]) == [{"a": 1}, {"a": 2}]
