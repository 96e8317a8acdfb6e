"""Publishing quantities: version differences on the wire, batching, conflicts, per-SKU results."""

from __future__ import annotations

from typing import Any

import pytest

from channelhub.clock import ManualClock
from channelhub.connectors.shopify import (
    Outcome,
    PriceUpdate,
    QuantityUpdate,
    ShopifyConfig,
    ShopifyConnector,
    ShopifyUserError,
)
from channelhub.connectors.shopify.catalog import SkuIndex, VariantRef

from .fake_shop import FakeShop

LOCATION = "gid://shopify/Location/1"


def index_of(count: int, available: int = 5) -> SkuIndex:
    index = SkuIndex(location_id=LOCATION)
    for n in range(count):
        index.add(
            VariantRef(
                sku=f"SKU-{n}",
                variant_id=f"gid://shopify/ProductVariant/{n}",
                product_id=f"gid://shopify/Product/{n // 3}",
                inventory_item_id=f"gid://shopify/InventoryItem/{n}",
                tracked=True,
                price=None,
                compare_at_price=None,
                available=available,
            )
        )
    return index


class InventoryShop(FakeShop):
    """Holds `available` per inventory item; applies a call all-or-nothing like Shopify."""

    def __init__(self, clock: ManualClock, version: str, stock: dict[str, int]) -> None:
        super().__init__(clock, capacity=1000, restore_rate=50)
        self.version = version
        self.stock = stock
        self.answers = {
            "SetAvailable": self.set_available,
            "ItemLevels": self.item_levels,
            "AdjustQuantities": self.adjust,
            "SetPrices": self.set_prices,
        }

    def set_available(self, body: dict[str, Any]) -> dict[str, Any]:
        payload = body["variables"]["input"]
        field = "compareQuantity" if self.version == "2025-10" else "changeFromQuantity"
        code = "COMPARE_QUANTITY_STALE" if self.version == "2025-10" else "CHANGE_FROM_QUANTITY_STALE"
        errors = []
        for position, quantity in enumerate(payload["quantities"]):
            if self.version == "2026-10" and field not in quantity:
                errors.append(
                    {
                        "field": ["input", "quantities", str(position), field],
                        "message": "required",
                        "code": None,
                    }
                )
                continue
            expected = quantity.get(field)
            skip = payload.get("ignoreCompareQuantity") if self.version == "2025-10" else expected is None
            if not skip and expected != self.stock[quantity["inventoryItemId"]]:
                errors.append(
                    {
                        "field": ["input", "quantities", str(position), field],
                        "message": "The compareQuantity value does not match persisted value.",
                        "code": code,
                    }
                )
        if errors:
            return {
                "data": {"inventorySetQuantities": {"inventoryAdjustmentGroup": None, "userErrors": errors}}
            }
        for quantity in payload["quantities"]:
            self.stock[quantity["inventoryItemId"]] = quantity["quantity"]
        return {
            "data": {
                "inventorySetQuantities": {
                    "inventoryAdjustmentGroup": {"id": "gid://shopify/InventoryAdjustmentGroup/1"},
                    "userErrors": [],
                }
            }
        }

    def item_levels(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "data": {
                "nodes": [
                    {
                        "id": item,
                        "inventoryLevel": {
                            "quantities": [{"name": "available", "quantity": self.stock[item]}]
                        },
                    }
                    for item in body["variables"]["ids"]
                ]
            }
        }

    def adjust(self, body: dict[str, Any]) -> dict[str, Any]:
        for change in body["variables"]["input"]["changes"]:
            self.stock[change["inventoryItemId"]] += change["delta"]
        return {
            "data": {"inventoryAdjustQuantities": {"inventoryAdjustmentGroup": {"id": "g"}, "userErrors": []}}
        }

    def set_prices(self, body: dict[str, Any]) -> dict[str, Any]:
        variants = body["variables"]["variants"]
        errors = [
            {
                "field": ["variants", str(i), "price"],
                "message": "Price must be less than 1000000000",
                "code": "INVALID_INPUT",
            }
            for i, v in enumerate(variants)
            if float(v["price"]) >= 1e9
        ]
        ok = [
            {"id": v["id"], "price": v["price"], "compareAtPrice": v["compareAtPrice"]}
            for i, v in enumerate(variants)
            if float(v["price"]) < 1e9
        ]
        return {"data": {"productVariantsBulkUpdate": {"productVariants": ok, "userErrors": errors}}}


def connector_for(shop: FakeShop, clock: ManualClock, version: str, index: SkuIndex) -> ShopifyConnector:
    connector = ShopifyConnector(
        ShopifyConfig(
            shop_url="https://demo.myshopify.com", access_token="t", api_version=version, location_id=LOCATION
        ),
        clock=clock,
        transport=shop.transport(),
    )
    connector._index = index
    return connector


@pytest.mark.parametrize("version", ["2025-10", "2026-10"])
async def test_many_skus_go_out_in_full_batches(version: str) -> None:
    clock = ManualClock()
    index = index_of(600)
    shop = InventoryShop(clock, version, {ref.inventory_item_id: 5 for ref in index.by_sku.values()})
    async with connector_for(shop, clock, version, index) as connector:
        results = await connector.set_available([QuantityUpdate(f"SKU-{n}", n % 7) for n in range(600)])
    assert [r.outcome for r in results] == [Outcome.APPLIED] * 600
    sizes = [len(r["variables"]["input"]["quantities"]) for r in shop.requests]
    assert sizes == [250, 250, 100]  # ≤ 250 per input array, as few calls as possible
    assert shop.stock["gid://shopify/InventoryItem/13"] == 13 % 7
    assert index.get("SKU-13").available == 13 % 7  # the index remembers the acknowledged value


def test_wire_shape_2025_10_uses_compare_quantity() -> None:
    from channelhub.connectors.shopify.versions import profile_for

    profile = profile_for("2025-10")
    entry = profile.quantity_entry("item", LOCATION, 7, 5)
    assert entry == {"inventoryItemId": "item", "locationId": LOCATION, "quantity": 7, "compareQuantity": 5}
    assert (
        profile.set_quantities_input("available", "correction", [entry], None)["ignoreCompareQuantity"]
        is False
    )
    forced = profile.quantity_entry("item", LOCATION, 7, None)
    assert "compareQuantity" not in forced
    assert (
        profile.set_quantities_input("available", "correction", [forced], None)["ignoreCompareQuantity"]
        is True
    )


def test_wire_shape_2026_10_puts_change_from_quantity_on_every_quantity() -> None:
    from channelhub.connectors.shopify.versions import profile_for

    profile = profile_for("2026-10")
    compared = profile.quantity_entry("a", LOCATION, 7, 5)
    forced = profile.quantity_entry("b", LOCATION, 7, None)
    assert compared["changeFromQuantity"] == 5
    assert "changeFromQuantity" in forced and forced["changeFromQuantity"] is None  # explicit null
    payload = profile.set_quantities_input("available", "correction", [compared, forced], None)
    assert "ignoreCompareQuantity" not in payload
    with pytest.raises(ValueError, match="unsupported"):
        profile_for("2024-01")


@pytest.mark.parametrize("version", ["2025-10", "2026-10"])
async def test_concurrent_sale_is_reported_as_conflict_not_overwritten(version: str) -> None:
    clock = ManualClock()
    index = index_of(3, available=5)
    shop = InventoryShop(clock, version, {f"gid://shopify/InventoryItem/{n}": 5 for n in range(3)})
    shop.stock["gid://shopify/InventoryItem/1"] = 4  # a storefront sale since our last publish
    async with connector_for(shop, clock, version, index) as connector:
        results = await connector.set_available([QuantityUpdate(f"SKU-{n}", 9) for n in range(3)])
    by_sku = {r.sku: r for r in results}
    assert by_sku["SKU-0"].outcome is Outcome.APPLIED and by_sku["SKU-2"].outcome is Outcome.APPLIED
    conflict = by_sku["SKU-1"]
    assert conflict.outcome is Outcome.CONFLICT and conflict.current == 4
    assert conflict.code == (
        "COMPARE_QUANTITY_STALE" if version == "2025-10" else "CHANGE_FROM_QUANTITY_STALE"
    )
    assert shop.stock["gid://shopify/InventoryItem/1"] == 4  # the sale was not overwritten
    assert index.get("SKU-1").available == 4  # next attempt compares against the fresh value


async def test_last_acknowledged_value_is_the_compare_base() -> None:
    clock = ManualClock()
    index = index_of(1, available=2)  # stale cache…
    shop = InventoryShop(clock, "2026-10", {"gid://shopify/InventoryItem/0": 8})
    async with connector_for(shop, clock, "2026-10", index) as connector:
        [result] = await connector.set_available(
            [QuantityUpdate("SKU-0", 3, expected=8)]
        )  # …the engine knows better
    assert result.outcome is Outcome.APPLIED
    assert shop.requests[0]["variables"]["input"]["quantities"][0]["changeFromQuantity"] == 8


async def test_force_skips_the_compare_check() -> None:
    clock = ManualClock()
    index = index_of(2)
    shop = InventoryShop(
        clock, "2025-10", {"gid://shopify/InventoryItem/0": 1, "gid://shopify/InventoryItem/1": 2}
    )
    async with connector_for(shop, clock, "2025-10", index) as connector:
        results = await connector.set_available(
            [QuantityUpdate("SKU-0", 3), QuantityUpdate("SKU-1", 4)], force=True
        )
    assert all(r.outcome is Outcome.APPLIED for r in results)
    assert shop.requests[0]["variables"]["input"]["ignoreCompareQuantity"] is True


async def test_unknown_negative_and_ambiguous_skus_are_per_sku_errors() -> None:
    clock = ManualClock()
    index = index_of(1)
    index.add(VariantRef("DUP", "gid://shopify/ProductVariant/100", "p", "i100", True, None, None, 1))
    index.add(VariantRef("DUP", "gid://shopify/ProductVariant/101", "p", "i101", True, None, None, 1))
    shop = InventoryShop(clock, "2025-10", {"gid://shopify/InventoryItem/0": 5})
    async with connector_for(shop, clock, "2025-10", index) as connector:
        results = await connector.set_available(
            [QuantityUpdate("NOPE", 1), QuantityUpdate("SKU-0", -1), QuantityUpdate("DUP", 1)]
        )
    assert [(r.outcome, r.code) for r in results] == [
        (Outcome.ERROR, "UNKNOWN_SKU"),
        (Outcome.ERROR, "INVALID_QUANTITY_NEGATIVE"),
        (Outcome.ERROR, "AMBIGUOUS_SKU"),
    ]
    assert shop.requests == []  # nothing worth sending


@pytest.mark.parametrize("version", ["2025-10", "2026-10"])
async def test_adjust_carries_an_idempotency_key_only_where_required(version: str) -> None:
    clock = ManualClock()
    index = index_of(1)
    shop = InventoryShop(clock, version, {"gid://shopify/InventoryItem/0": 5})
    async with connector_for(shop, clock, version, index) as connector:
        await connector.adjust_available({"SKU-0": -2}, idempotency_key="key-1")
    sent = shop.requests[0]
    if version == "2026-10":
        assert "@idempotent(key: $idempotencyKey)" in sent["query"]
        assert sent["variables"]["idempotencyKey"] == "key-1"
        [change] = sent["variables"]["input"]["changes"]
        assert "changeFromQuantity" in change and change["changeFromQuantity"] is None  # mandatory, null
    else:
        assert "changeFromQuantity" not in sent["variables"]["input"]["changes"][0]
        assert "@idempotent" not in sent["query"] and "idempotencyKey" not in sent["variables"]
    assert shop.stock["gid://shopify/InventoryItem/0"] == 3


async def test_prices_go_per_product_with_per_sku_results() -> None:
    from decimal import Decimal

    clock = ManualClock()
    index = index_of(6)  # products: SKU-0..2 → Product/0, SKU-3..5 → Product/1
    shop = InventoryShop(clock, "2025-10", {})
    async with connector_for(shop, clock, "2025-10", index) as connector:
        results = await connector.set_prices(
            [PriceUpdate(f"SKU-{n}", Decimal("19.90") + n, Decimal("25")) for n in range(5)]
            + [PriceUpdate("SKU-5", Decimal("1000000000"))]
        )
    assert [r["variables"]["productId"] for r in shop.requests] == [
        "gid://shopify/Product/0",
        "gid://shopify/Product/1",
    ]
    assert shop.requests[0]["variables"]["variants"][0] == {
        "id": "gid://shopify/ProductVariant/0",
        "price": "19.90",
        "compareAtPrice": "25.00",
    }
    assert [r.outcome for r in results] == [Outcome.APPLIED] * 5 + [Outcome.ERROR]
    assert results[5].code == "INVALID_INPUT"
    assert index.get("SKU-1").price == Decimal("20.90")


async def test_adjust_of_unknown_sku_is_refused_before_sending() -> None:
    clock = ManualClock()
    shop = InventoryShop(clock, "2026-10", {})
    async with connector_for(shop, clock, "2026-10", index_of(1)) as connector:
        with pytest.raises(ShopifyUserError, match="unknown SKU"):
            await connector.adjust_available({"MISSING": 1})
    assert shop.requests == []


@pytest.mark.parametrize("version", ["2025-10", "2026-10"])
async def test_refund_carries_an_idempotency_key_from_2026_04(version: str) -> None:
    from decimal import Decimal

    clock = ManualClock()
    shop = InventoryShop(clock, version, {})
    shop.answers["CreateRefund"] = lambda body: {
        "data": {
            "refundCreate": {
                "refund": {
                    "id": "gid://shopify/Refund/9",
                    "totalRefundedSet": {"shopMoney": {"amount": "5.00"}},
                },
                "userErrors": [],
            }
        }
    }
    async with connector_for(shop, clock, version, index_of(1)) as connector:
        refund = await connector.create_refund(7, amount=Decimal("5"), idempotency_key="refund:ERP-7")
    assert refund.refund_id == "gid://shopify/Refund/9" and refund.amount == Decimal("5.00")
    sent = shop.requests[0]
    assert sent["variables"]["input"]["transactions"][0] == {
        "amount": "5.00",
        "gateway": "manual",
        "kind": "REFUND",
        "orderId": "gid://shopify/Order/7",
    }
    if version == "2026-10":
        assert "@idempotent(key: $idempotencyKey)" in sent["query"]
        assert sent["variables"]["idempotencyKey"] == "refund:ERP-7"
    else:
        assert "@idempotent" not in sent["query"]
