"""`inventorySetQuantities` and `inventoryAdjustQuantities`, version-aware.

Both mutations are all-or-nothing: any user error leaves every quantity untouched. Idempotency
keys (`@idempotent(key:)`, 2026-10) replay the first result for a repeated key with the same
input and refuse a reused key with different input.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from graphql import GraphQLResolveInfo

from channelhub.sandbox.shopify.idempotency import run_mutation_once
from channelhub.sandbox.shopify.operations import change_quantity
from channelhub.sandbox.shopify.relay import parse_gid
from channelhub.sandbox.shopify.resolvers import Resolver
from channelhub.sandbox.shopify.schema import uses_change_from_quantity
from channelhub.sandbox.shopify.state import ON_HAND_PARTS, InventoryLevel, ShopState, gid, iso

# shopify.dev "inventory reasons" list.
VALID_REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_canceled",
        "movement_created",
        "movement_received",
        "movement_updated",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)
SETTABLE_NAMES = frozenset({"available", "on_hand"})
ADJUSTABLE_NAMES = frozenset(
    {"available", "damaged", "incoming", "on_hand", "quality_control", "reserved", "safety_stock"}
)
QUANTITY_LIMIT = 1_000_000_000


def _error(field: list[str | int], message: str, code: str) -> dict[str, Any]:
    return {"field": [str(part) for part in field], "message": message, "code": code}


def _check_common(
    name: str, allowed: frozenset[str], reason: str, uri: str | None, name_code: str
) -> list[dict[str, Any]]:
    errors = []
    if name not in allowed:
        errors.append(
            _error(
                ["input", "name"],
                f"The quantity name must be one of: {', '.join(sorted(allowed))}.",
                name_code,
            )
        )
    if reason not in VALID_REASONS:
        errors.append(_error(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON"))
    if uri is not None and not urlparse(uri).scheme:
        errors.append(
            _error(
                ["input", "referenceDocumentUri"],
                "The reference document URI must be a valid URI.",
                "INVALID_REFERENCE_DOCUMENT",
            )
        )
    return errors


def _find_level(
    state: ShopState, item_gid: str, location_gid: str, path: list[str | int]
) -> tuple[InventoryLevel | None, dict[str, Any] | None]:
    item_id = parse_gid(item_gid, "InventoryItem")
    if item_id is None or item_id not in state.inventory_items:
        return None, _error(
            [*path, "inventoryItemId"],
            "The specified inventory item could not be found.",
            "INVALID_INVENTORY_ITEM",
        )
    location_id = parse_gid(location_gid, "Location")
    if location_id is None or location_id not in state.locations:
        return None, _error(
            [*path, "locationId"], "The specified location could not be found.", "INVALID_LOCATION"
        )
    level = state.level(item_id, location_id)
    if level is None:
        return None, _error(
            [*path, "locationId"],
            "The specified inventory item is not stocked at the location.",
            "ITEM_NOT_STOCKED_AT_LOCATION",
        )
    return level, None


def _group(state: ShopState, reason: str, uri: str | None, changes: list[dict[str, Any]]) -> dict[str, Any]:
    group_id = state.new_id()

    def select(_info: GraphQLResolveInfo, **filters: Any) -> list[dict[str, Any]]:
        names = filters.get("quantityNames")
        items = {parse_gid(i, "InventoryItem") for i in filters.get("inventoryItemIds") or []}
        locations = {parse_gid(i, "Location") for i in filters.get("locationIds") or []}
        return [
            c
            for c in changes
            if (not names or c["name"] in names)
            and (not items or c["_item_id"] in items)
            and (not locations or c["_location_id"] in locations)
        ]

    return {
        "__typename": "InventoryAdjustmentGroup",
        "id": gid("InventoryAdjustmentGroup", group_id),
        "createdAt": iso(state.now()),
        "reason": reason,
        "referenceDocumentUri": uri,
        "changes": select,
    }


def _change(
    state: ShopState, level: InventoryLevel, name: str, delta: int, ledger: str | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "delta": delta,
        "quantityAfterChange": level.quantity(name),
        "ledgerDocumentUri": ledger,
        "item": state.inventory_items[level.item_id],
        "location": state.locations[level.location_id],
        "_item_id": level.item_id,
        "_location_id": level.location_id,
    }


def _range_error(value: int, path: list[str | int]) -> dict[str, Any] | None:
    if value > QUANTITY_LIMIT:
        return _error(path, "The quantity can't be higher than 1,000,000,000.", "INVALID_QUANTITY_TOO_HIGH")
    if value < -QUANTITY_LIMIT:
        return _error(path, "The quantity can't be lower than -1,000,000,000.", "INVALID_QUANTITY_TOO_LOW")
    return None


def _compare_error(
    state: ShopState,
    version: str,
    level: InventoryLevel,
    name: str,
    quantity: dict[str, Any],
    ignore_compare: bool,
    path: list[str | int],
) -> dict[str, Any] | None:
    """The compare-and-set check of one quantity, as the requested API version words it."""
    if uses_change_from_quantity(version):
        if "changeFromQuantity" not in quantity:
            message = (
                "The changeFromQuantity argument must be given to each quantity; pass null to skip the check."
            )
            return _error([*path, "changeFromQuantity"], message, "COMPARE_QUANTITY_REQUIRED")
        return _stale_change_from(state, level, name, quantity, [*path, "changeFromQuantity"])
    if ignore_compare:
        return None
    expected = quantity.get("compareQuantity")
    if expected is None:
        message = "The compareQuantity argument must be given to each quantity or ignored using ignoreCompareQuantity."
        return _error([*path, "compareQuantity"], message, "COMPARE_QUANTITY_REQUIRED")
    if expected != level.quantity(name):
        state.stats.stale_compare_rejections += 1
        message = "The compareQuantity argument no longer matches the persisted quantity."
        return _error([*path, "compareQuantity"], message, "COMPARE_QUANTITY_STALE")
    return None


def _stale_change_from(
    state: ShopState, level: InventoryLevel, name: str, change: dict[str, Any], path: list[str | int]
) -> dict[str, Any] | None:
    """2026-04+: each change states the quantity it starts from (explicit null opts out)."""
    if "changeFromQuantity" not in change:
        message = "The changeFromQuantity argument must be given to each change; pass null to skip the check."
        return _error(path, message, "CHANGE_FROM_QUANTITY_STALE")
    expected = change["changeFromQuantity"]
    if expected is not None and expected != level.quantity(name):
        state.stats.stale_compare_rejections += 1
        return _error(
            path,
            "The specified changeFromQuantity does not match the persisted value.",
            "CHANGE_FROM_QUANTITY_STALE",
        )
    return None


def _key_mismatch() -> dict[str, Any]:
    message = "The same idempotency key cannot be used with different operation parameters."
    return {
        "inventoryAdjustmentGroup": None,
        "userErrors": [_error(["idempotencyKey"], message, "IDEMPOTENCY_KEY_PARAMETER_MISMATCH")],
    }


def inventory_set_quantities(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    return run_mutation_once(info, "inventorySetQuantities", input, _set_quantities, _key_mismatch)


def _set_quantities(state: ShopState, version: str, input: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        name, reason, uri = input["name"], input["reason"], input.get("referenceDocumentUri")
        errors = _check_common(name, SETTABLE_NAMES, reason, uri, "INVALID_NAME")
        plan: list[tuple[InventoryLevel, int]] = []
        seen: set[tuple[int, int]] = set()
        for index, quantity in enumerate(input["quantities"]):
            path: list[str | int] = ["input", "quantities", index]
            level, problem = _find_level(state, quantity["inventoryItemId"], quantity["locationId"], path)
            if level is not None and (level.item_id, level.location_id) in seen:
                message = "The combination of inventoryItemId and locationId must be unique."
                problem = _error(path, message, "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR")
            if problem is None:
                assert level is not None
                seen.add((level.item_id, level.location_id))
                problem = _range_error(quantity["quantity"], [*path, "quantity"]) or _compare_error(
                    state, version, level, name, quantity, bool(input.get("ignoreCompareQuantity")), path
                )
            if problem is not None:
                errors.append(problem)
                continue
            assert level is not None
            plan.append((level, quantity["quantity"] - level.quantity(name)))
        if errors:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        changes: list[dict[str, Any]] = []
        for level, delta in plan:
            change_quantity(state, level, name, delta)
            other = "on_hand" if name == "available" else "available"
            changes.append(_change(state, level, name, delta))
            changes.append(_change(state, level, other, delta))
        state.stats.inventory_writes += len(plan)
        return {"inventoryAdjustmentGroup": _group(state, reason, uri, changes), "userErrors": []}


def inventory_adjust_quantities(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    return run_mutation_once(info, "inventoryAdjustQuantities", input, _adjust_quantities, _key_mismatch)


def _adjust_quantities(state: ShopState, version: str, input: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        name, reason, uri = input["name"], input["reason"], input.get("referenceDocumentUri")
        errors = _check_common(name, ADJUSTABLE_NAMES, reason, uri, "INVALID_QUANTITY_NAME")
        plan: list[tuple[InventoryLevel, int, str | None]] = []
        for index, change in enumerate(input["changes"]):
            path: list[str | int] = ["input", "changes", index]
            level, problem = _find_level(state, change["inventoryItemId"], change["locationId"], path)
            if problem:
                errors.append(problem)
                continue
            assert level is not None
            ledger = change.get("ledgerDocumentUri")
            if name == "available" and ledger:
                errors.append(
                    _error(
                        [*path, "ledgerDocumentUri"],
                        "A ledger document URI is not allowed when adjusting available.",
                        "INVALID_AVAILABLE_DOCUMENT",
                    )
                )
                continue
            if name not in ("available", "on_hand") and not ledger:
                errors.append(
                    _error(
                        [*path, "ledgerDocumentUri"],
                        "A ledger document URI is required for quantity names other than available.",
                        "INVALID_QUANTITY_DOCUMENT",
                    )
                )
                continue
            if uses_change_from_quantity(version):
                problem = _stale_change_from(state, level, name, change, [*path, "changeFromQuantity"])
                if problem:
                    errors.append(problem)
                    continue
            out_of_range = _range_error(level.quantity(name) + change["delta"], [*path, "delta"])
            if out_of_range:
                errors.append(out_of_range)
                continue
            plan.append((level, change["delta"], ledger))
        if errors:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        changes: list[dict[str, Any]] = []
        for level, delta, ledger in plan:
            change_quantity(state, level, name, delta)
            changes.append(_change(state, level, name, delta, ledger))
            if name in ON_HAND_PARTS:  # these states are part of on_hand, so it moves too
                changes.append(_change(state, level, "on_hand", delta))
        state.stats.inventory_writes += len(plan)
        return {"inventoryAdjustmentGroup": _group(state, reason, uri, changes), "userErrors": []}


INVENTORY_MUTATIONS: dict[str, dict[str, Resolver]] = {
    "Mutation": {
        "inventorySetQuantities": inventory_set_quantities,
        "inventoryAdjustQuantities": inventory_adjust_quantities,
    }
}
