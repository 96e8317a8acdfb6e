"""What differs between the served API versions, and how other versions are answered."""

from __future__ import annotations

from typing import Any

import pytest

from channelhub.sandbox.shopify.app import ShopifyEmulator
from channelhub.sandbox.shopify.graphql_api import resolve_version

from .conftest import Gql

SET = """
mutation Set($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { changes { name delta quantityAfterChange } }
    userErrors { code field message }
  }
}
"""
ADJUST = """
mutation Adjust($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange } }
    userErrors { code field message }
  }
}
"""


def _target(emulator: ShopifyEmulator) -> tuple[str, str, int]:
    level = next(
        lvl for lvl in emulator.shop.levels.values() if emulator.shop.inventory_items[lvl.item_id].tracked
    )
    return (
        f"gid://shopify/InventoryItem/{level.item_id}",
        f"gid://shopify/Location/{level.location_id}",
        level.quantity("available"),
    )


def _set_input(quantity: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"input": {"name": "available", "reason": "correction", "quantities": [quantity], **extra}}


def test_2025_10_requires_compare_quantity_unless_ignored(gql: Gql, emulator: ShopifyEmulator) -> None:
    item, location, available = _target(emulator)
    base = {"inventoryItemId": item, "locationId": location, "quantity": available + 1}
    _, missing = gql(SET, _set_input(base))
    assert missing["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == "COMPARE_QUANTITY_REQUIRED"
    _, ignored = gql(SET, _set_input(base, ignoreCompareQuantity=True))
    assert ignored["data"]["inventorySetQuantities"]["userErrors"] == []
    _, stale = gql(SET, _set_input({**base, "quantity": 3, "compareQuantity": available}))
    assert stale["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == "COMPARE_QUANTITY_STALE"
    _, fresh = gql(SET, _set_input({**base, "quantity": 3, "compareQuantity": available + 1}))
    changes = fresh["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"]["changes"]
    assert changes[0] == {"name": "available", "delta": 3 - (available + 1), "quantityAfterChange": 3}


def test_2025_10_has_no_change_from_quantity(gql: Gql, emulator: ShopifyEmulator) -> None:
    item, location, available = _target(emulator)
    quantity = {
        "inventoryItemId": item,
        "locationId": location,
        "quantity": 1,
        "changeFromQuantity": available,
    }
    _, body = gql(SET, _set_input(quantity))
    assert body["errors"][0]["extensions"]["code"] == "INVALID_VARIABLE"
    assert "changeFromQuantity" in body["errors"][0]["message"]


def test_2026_10_change_from_quantity_is_mandatory_but_nullable(gql: Gql, emulator: ShopifyEmulator) -> None:
    item, location, available = _target(emulator)
    base = {"inventoryItemId": item, "locationId": location, "quantity": 4}
    _, omitted = gql(SET, _set_input(base), version="2026-10")
    errors = omitted["data"]["inventorySetQuantities"]["userErrors"]
    assert errors[0]["field"] == ["input", "quantities", "0", "changeFromQuantity"]
    _, stale = gql(SET, _set_input({**base, "changeFromQuantity": available + 10}), version="2026-10")
    assert stale["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == "CHANGE_FROM_QUANTITY_STALE"
    _, skipped = gql(SET, _set_input({**base, "changeFromQuantity": None}), version="2026-10")
    assert skipped["data"]["inventorySetQuantities"]["userErrors"] == []
    _, matched = gql(SET, _set_input({**base, "quantity": 9, "changeFromQuantity": 4}), version="2026-10")
    assert (
        matched["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"]["changes"][0][
            "quantityAfterChange"
        ]
        == 9
    )


def test_2026_10_has_no_compare_quantity(gql: Gql, emulator: ShopifyEmulator) -> None:
    item, location, available = _target(emulator)
    quantity = {"inventoryItemId": item, "locationId": location, "quantity": 1, "compareQuantity": available}
    _, body = gql(SET, _set_input(quantity, ignoreCompareQuantity=True), version="2026-10")
    assert body["errors"][0]["extensions"]["code"] == "INVALID_VARIABLE"


def test_idempotent_adjust_replays_and_refuses_changed_input(gql: Gql, emulator: ShopifyEmulator) -> None:
    item, location, available = _target(emulator)
    change = {"inventoryItemId": item, "locationId": location, "delta": -2, "changeFromQuantity": available}
    adjust = {"name": "available", "reason": "correction", "changes": [change]}
    _, first = gql(ADJUST, {"input": adjust, "key": "key-1"}, version="2026-10")
    _, replay = gql(ADJUST, {"input": adjust, "key": "key-1"}, version="2026-10")
    assert replay["data"] == first["data"]
    assert (
        first["data"]["inventoryAdjustQuantities"]["inventoryAdjustmentGroup"]["changes"][0][
            "quantityAfterChange"
        ]
        == available - 2
    )
    level = emulator.shop.level(int(item.rsplit("/", 1)[1]), int(location.rsplit("/", 1)[1]))
    assert level is not None and level.quantity("available") == available - 2  # applied once
    other = {**adjust, "changes": [{**change, "delta": -3}]}
    _, mismatch = gql(ADJUST, {"input": other, "key": "key-1"}, version="2026-10")
    assert (
        mismatch["data"]["inventoryAdjustQuantities"]["userErrors"][0]["code"]
        == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    )


def test_2026_10_requires_the_idempotency_key(gql: Gql, emulator: ShopifyEmulator) -> None:
    item, location, _ = _target(emulator)
    without_key = ADJUST.replace(", $key: String!", "").replace(" @idempotent(key: $key)", "")
    adjust = {
        "name": "available",
        "reason": "correction",
        "changes": [{"inventoryItemId": item, "locationId": location, "delta": 1}],
    }
    _, body = gql(without_key, {"input": adjust}, version="2026-10")
    assert body["data"]["inventoryAdjustQuantities"] is None
    assert "@idempotent" in body["errors"][0]["message"]
    _, old = gql(without_key, {"input": adjust}, version="2025-10")
    assert old["data"]["inventoryAdjustQuantities"]["userErrors"] == []


def test_2025_10_does_not_know_the_idempotent_directive(gql: Gql, emulator: ShopifyEmulator) -> None:
    item, location, _ = _target(emulator)
    adjust = {
        "name": "available",
        "reason": "correction",
        "changes": [{"inventoryItemId": item, "locationId": location, "delta": 1}],
    }
    _, body = gql(ADJUST, {"input": adjust, "key": "k"}, version="2025-10")
    assert body["errors"][0]["message"] == "Unknown directive '@idempotent'."


@pytest.mark.parametrize(
    ("requested", "served"),
    [("2025-10", "2025-10"), ("2026-10", "2026-10"), ("2024-01", "2025-10"), ("2026-04", "2026-10")],
)
def test_versions_fall_forward(requested: str, served: str, gql: Gql, emulator: ShopifyEmulator) -> None:
    assert resolve_version(requested) == served
    reply = emulator.endpoint.handle(requested, "shpat_unit", b'{"query": "{ shop { id } }"}', "http://x")
    assert reply.status == 200
    assert reply.headers["X-Shopify-API-Version"] == served


@pytest.mark.parametrize("requested", ["2025-13", "latest", "2099-01", "v1"])
def test_unknown_versions_are_not_found(requested: str, emulator: ShopifyEmulator) -> None:
    reply = emulator.endpoint.handle(requested, "shpat_unit", b'{"query": "{ shop { id } }"}', "http://x")
    assert (reply.status, reply.body) == (404, {"errors": "Not Found"})


REFUND_ONCE = """
mutation Refund($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) { refund { id } userErrors { field message } }
}
"""


def test_refund_create_needs_a_key_in_2026_10_and_runs_once(gql: Gql, emulator: ShopifyEmulator) -> None:
    from channelhub.sandbox.shopify import SaleLine
    from channelhub.sandbox.shopify.operations import place_order

    variant = next(iter(emulator.shop.variants.values()))
    variant.inventory_policy = "CONTINUE"
    order = place_order(emulator.shop, [SaleLine(variant, 2)])
    line = order.line_items[0]
    refund = {
        "orderId": f"gid://shopify/Order/{order.id}",
        "refundLineItems": [
            {"lineItemId": f"gid://shopify/LineItem/{line.id}", "quantity": 1, "restockType": "NO_RESTOCK"}
        ],
    }
    without_key = REFUND_ONCE.replace(", $key: String!", "").replace(" @idempotent(key: $key)", "")
    _, refused = gql(without_key, {"input": refund}, version="2026-10")
    assert refused["data"]["refundCreate"] is None and "@idempotent" in refused["errors"][0]["message"]
    assert order.refund_ids == []
    _, first = gql(REFUND_ONCE, {"input": refund, "key": "r-1"}, version="2026-10")
    _, retry = gql(REFUND_ONCE, {"input": refund, "key": "r-1"}, version="2026-10")
    assert first["data"] == retry["data"] and len(order.refund_ids) == 1
    assert line.refunded_quantity == 1
    _, other = gql(REFUND_ONCE, {"input": {**refund, "note": "changed"}, "key": "r-1"}, version="2026-10")
    assert other["data"]["refundCreate"]["userErrors"][0]["field"] == ["idempotencyKey"]
    _, old = gql(without_key, {"input": refund}, version="2025-10")
    assert old["data"]["refundCreate"]["userErrors"] == [] and len(order.refund_ids) == 2


def test_2026_10_adjust_changes_state_where_they_start(gql: Gql, emulator: ShopifyEmulator) -> None:
    item, location, available = _target(emulator)
    base = {"inventoryItemId": item, "locationId": location, "delta": 3}

    def adjust(change: dict[str, Any], key: str, version: str = "2026-10") -> dict[str, Any]:
        variables = {"input": {"name": "available", "reason": "received", "changes": [change]}, "key": key}
        query = (
            ADJUST
            if version == "2026-10"
            else ADJUST.replace(", $key: String!", "").replace(" @idempotent(key: $key)", "")
        )
        _, body = gql(
            query, variables if version == "2026-10" else {"input": variables["input"]}, version=version
        )
        payload: dict[str, Any] = body["data"]["inventoryAdjustQuantities"]
        return payload

    omitted = adjust(base, "a")
    assert omitted["userErrors"][0]["field"] == ["input", "changes", "0", "changeFromQuantity"]
    stale = adjust({**base, "changeFromQuantity": available - 1}, "b")
    assert stale["userErrors"][0]["code"] == "CHANGE_FROM_QUANTITY_STALE"
    applied = adjust({**base, "changeFromQuantity": available}, "c")
    assert applied["inventoryAdjustmentGroup"]["changes"][0]["quantityAfterChange"] == available + 3
    opted_out = adjust({**base, "changeFromQuantity": None}, "d")
    assert opted_out["inventoryAdjustmentGroup"]["changes"][0]["quantityAfterChange"] == available + 6
    assert adjust(base, "e", version="2025-10")["userErrors"] == []
