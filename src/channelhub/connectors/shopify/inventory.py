"""Publishing `available` quantities: many SKUs per call, compare-and-set, conflicts reported.

Each quantity is sent with the value we believe Shopify holds (the last acknowledged value, else
the one read into the SKU index) as `compareQuantity` (2025-10) or `changeFromQuantity` (2026-10).
If a storefront sale changed it meanwhile, Shopify refuses that quantity with a stale-compare user
error; we never overwrite blindly: we re-read the current value and report a *conflict* carrying
it, so the engine recomputes from fresh facts. With `lower_on_conflict` (what the engine's gateway
uses) a refused quantity that is lower than the value read back is sent again at once, compared
against it, in the call that resends the quantities the refusal held back; a raise stays a
conflict. A batch is as large as Shopify allows (250 per input array, within the cost budget), so
10,000 SKUs take 40 calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from channelhub.connectors.shopify.catalog import SkuIndex, available_of
from channelhub.connectors.shopify.client import ShopifyGraphQLClient
from channelhub.connectors.shopify.cost import MAX_INPUT_ARRAY
from channelhub.connectors.shopify.errors import UserError
from channelhub.connectors.shopify.queries import ITEM_LEVELS, SET_QUANTITIES

# Items per `nodes(ids:)` re-read: each costs a few points; 100 keeps one read well under 1,000.
REREAD_CHUNK = 100


class Outcome(StrEnum):
    APPLIED = "applied"
    CONFLICT = "conflict"  # Shopify holds a different value than expected; `current` says which
    ERROR = "error"


@dataclass(frozen=True)
class QuantityUpdate:
    """Set `available` of `sku` to `quantity`; `expected` is the last acknowledged value (None:
    use the value in the SKU index)."""

    sku: str
    quantity: int
    expected: int | None = None


@dataclass(frozen=True)
class QuantityResult:
    sku: str
    outcome: Outcome
    quantity: int | None = None  # applied value
    current: int | None = None  # on conflict: what Shopify holds now
    code: str | None = None
    message: str = ""


@dataclass(frozen=True)
class _Pending:
    sku: str
    inventory_item_id: str
    quantity: int
    expected: int | None


async def set_available(
    client: ShopifyGraphQLClient,
    index: SkuIndex,
    updates: list[QuantityUpdate],
    *,
    reason: str = "correction",
    reference_document_uri: str | None = None,
    force: bool = False,
    lower_on_conflict: bool = False,
) -> list[QuantityResult]:
    """Publish `updates`; one result per distinct SKU (the last update of a SKU wins).

    `force=True` skips the compare check (only for a system that is the source of truth and
    accepts overwriting concurrent sales).

    `lower_on_conflict=True`: a quantity refused as stale is sent once more, compared against the
    value just read back, when it is lower than that value (a storefront sale lowered Shopify,
    and we lower it further: lowering never puts a sold unit back on sale); a raise above the
    value read is reported as a conflict, as without the flag. This saves the caller a pass.
    """
    results: dict[str, QuantityResult] = {}
    pending: list[_Pending] = []
    for update in {u.sku: u for u in updates}.values():
        ref = index.get(update.sku)
        if update.quantity < 0:
            results[update.sku] = QuantityResult(
                update.sku, Outcome.ERROR, code="INVALID_QUANTITY_NEGATIVE", message="quantity is negative"
            )
        elif ref is None:
            code = "AMBIGUOUS_SKU" if update.sku in index.duplicates else "UNKNOWN_SKU"
            results[update.sku] = QuantityResult(
                update.sku,
                Outcome.ERROR,
                code=code,
                message=f"SKU {update.sku!r} is not mapped to one variant",
            )
        else:
            expected = None if force else (update.expected if update.expected is not None else ref.available)
            if expected is None and not force and ref.available is None:
                results[update.sku] = QuantityResult(
                    update.sku,
                    Outcome.ERROR,
                    code="ITEM_NOT_STOCKED_AT_LOCATION",
                    message=f"{update.sku} is not stocked at {index.location_id}",
                )
                continue
            pending.append(_Pending(update.sku, ref.inventory_item_id, update.quantity, expected))

    stale = await _send_all(
        client,
        index,
        pending,
        results,
        reason=reason,
        reference_document_uri=reference_document_uri,
        lower_on_conflict=lower_on_conflict,
    )
    if stale:
        await _report_conflicts(client, index, stale, results)
    return [results[u.sku] for u in {u.sku: u for u in updates}.values()]


async def _send_all(
    client: ShopifyGraphQLClient,
    index: SkuIndex,
    pending: list[_Pending],
    results: dict[str, QuantityResult],
    *,
    reason: str,
    reference_document_uri: str | None,
    lower_on_conflict: bool,
) -> list[_Pending]:
    """Send `pending` in calls as large as allowed; returns the quantities refused as stale (with
    `lower_on_conflict`, those refused again after one lowering)."""
    stale: list[_Pending] = []
    lowered_once: set[str] = set()
    for group in _homogeneous_groups(client, pending):
        while group:
            size = client.largest_batch(
                "set_quantities", SET_QUANTITIES, upper=MAX_INPUT_ARRAY, variables_for=lambda n: {}
            )
            batch, group = group[:size], group[size:]
            refused: list[_Pending] = []
            retry_later = await _send_batch(
                client,
                index,
                batch,
                results,
                refused,
                reason=reason,
                reference_document_uri=reference_document_uri,
            )
            if lower_on_conflict:
                # Read the refused ones back now: their lowerings travel with the quantities the
                # refusal held back, in the same next call.
                first = [item for item in refused if item.sku not in lowered_once]
                stale.extend(item for item in refused if item.sku in lowered_once)
                if first:
                    lowered_once.update(item.sku for item in first)
                    retry_later = retry_later + await _lowered(client, index, first, results)
            else:
                stale.extend(refused)
            group = retry_later + group
    return stale


async def _lowered(
    client: ShopifyGraphQLClient, index: SkuIndex, stale: list[_Pending], results: dict[str, QuantityResult]
) -> list[_Pending]:
    """Read the stale quantities back: the ones already at their target are applied, the raises
    are conflicts, and the lowerings come back compared against the value read."""
    again: list[_Pending] = []
    for item, now in await _read_back(client, index, stale):
        if now is not None and item.quantity < now:
            again.append(_Pending(item.sku, item.inventory_item_id, item.quantity, now))
        else:
            _settle_stale(client, item, now, results)
    return again


def _homogeneous_groups(client: ShopifyGraphQLClient, pending: list[_Pending]) -> list[list[_Pending]]:
    """2025-10 compares all quantities of a call or none (`ignoreCompareQuantity` is per input), so
    forced and compared quantities travel separately; 2026-10 mixes them (null per quantity)."""
    if not client.profile.has_ignore_compare_flag:
        return [pending] if pending else []
    compared = [p for p in pending if p.expected is not None]
    forced = [p for p in pending if p.expected is None]
    return [g for g in (compared, forced) if g]


async def _send_batch(
    client: ShopifyGraphQLClient,
    index: SkuIndex,
    batch: list[_Pending],
    results: dict[str, QuantityResult],
    stale: list[_Pending],
    *,
    reason: str,
    reference_document_uri: str | None,
) -> list[_Pending]:
    """Send one call; returns the quantities to resend (refused only because a sibling failed)."""
    profile = client.profile
    quantities = [
        profile.quantity_entry(p.inventory_item_id, index.location_id, p.quantity, p.expected) for p in batch
    ]
    payload = profile.set_quantities_input("available", reason, quantities, reference_document_uri)
    result = await client.execute(
        SET_QUANTITIES, {"input": payload}, operation="set_quantities", items=len(batch)
    )
    body: dict[str, Any] = result.data.get("inventorySetQuantities") or {}
    errors = [UserError.from_payload(e) for e in body.get("userErrors") or []]
    failed: dict[int, UserError] = {}
    general: list[UserError] = []
    for user_error in errors:
        position = _quantity_position(user_error, len(batch))
        if position is None:
            general.append(user_error)
        else:
            failed.setdefault(position, user_error)
    applied_all = body.get("inventoryAdjustmentGroup") is not None or not errors
    retry: list[_Pending] = []
    for position, item in enumerate(batch):
        error = failed.get(position)
        if error is not None and profile.is_stale_quantity(error.code):
            stale.append(item)
        elif error is not None or (general and not failed):
            reported = error or general[0]
            results[item.sku] = QuantityResult(
                item.sku, Outcome.ERROR, code=reported.code, message=reported.message
            )
        elif applied_all:
            results[item.sku] = QuantityResult(item.sku, Outcome.APPLIED, quantity=item.quantity)
            index.remember_available(item.sku, item.quantity)
        else:
            # Shopify applies a call all-or-nothing: this quantity was fine but not applied.
            retry.append(item)
    return retry


def _quantity_position(error: UserError, batch_size: int) -> int | None:
    """Which quantity a user error names (`field: ["input", "quantities", "3", ...]`)."""
    parts = list(error.field)
    if "quantities" in parts:
        after = parts.index("quantities") + 1
        if after < len(parts) and parts[after].isdigit():
            position = int(parts[after])
            return position if 0 <= position < batch_size else None
    return None


async def read_available(
    client: ShopifyGraphQLClient, location_id: str, inventory_item_ids: list[str]
) -> dict[str, int | None]:
    """Current `available` per inventory item at `location_id` (None: not stocked there)."""
    found: dict[str, int | None] = {}
    for start in range(0, len(inventory_item_ids), REREAD_CHUNK):
        chunk = inventory_item_ids[start : start + REREAD_CHUNK]
        result = await client.execute(
            ITEM_LEVELS, {"ids": chunk, "locationId": location_id}, operation="item_levels", items=len(chunk)
        )
        for node in result.data.get("nodes") or []:
            if isinstance(node, dict) and node.get("id"):
                found[str(node["id"])] = available_of(node.get("inventoryLevel"))
    return found


async def _report_conflicts(
    client: ShopifyGraphQLClient, index: SkuIndex, stale: list[_Pending], results: dict[str, QuantityResult]
) -> None:
    for item, now in await _read_back(client, index, stale):
        _settle_stale(client, item, now, results)


async def _read_back(
    client: ShopifyGraphQLClient, index: SkuIndex, stale: list[_Pending]
) -> list[tuple[_Pending, int | None]]:
    """What Shopify holds now for each quantity refused as stale (remembered in the SKU index)."""
    current = await read_available(client, index.location_id, [p.inventory_item_id for p in stale])
    found = []
    for item in stale:
        now = current.get(item.inventory_item_id)
        if now is not None:
            index.remember_available(item.sku, now)
        found.append((item, now))
    return found


def _settle_stale(
    client: ShopifyGraphQLClient, item: _Pending, now: int | None, results: dict[str, QuantityResult]
) -> None:
    """The result of a quantity refused as stale, given what Shopify holds now."""
    if now == item.quantity:
        # Already at the target (e.g. our own earlier attempt landed before a timeout).
        results[item.sku] = QuantityResult(item.sku, Outcome.APPLIED, quantity=item.quantity)
    else:
        results[item.sku] = QuantityResult(
            item.sku,
            Outcome.CONFLICT,
            current=now,
            code=client.profile.stale_quantity_code,
            message=f"expected {item.expected}, Shopify holds {now}",
        )
