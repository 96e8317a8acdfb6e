"""Available to sell (ATS), exactly as DESIGN §3 defines it, with its explanation.

    free(s,w) = max(0, on_hand − reserved − hold)
    pool(s,c) = Σ free(s,w) over warehouses mapped to c that are online and not on hold
    ats(s,c)  = max(0, floor(share(c)·pool − safety(s,c) − soft(s)))  in units,
                then floor(units / pack size) in the channel's unit; 0 when suppressed.

`share(c)·pool` is the pool for a shared channel, p % of it for a percentage channel, and the
units carved for a fixed-cap channel (see `allocation.py`). `safety(s,c)` is the SKU's safety
stock on the channel (units + percent of the share). `soft(s)` is every soft reservation of the
SKU, whichever channel took the order: one unit sold anywhere is gone everywhere.

Under the low-stock fence (`fence.py`, opt-in) a fenced channel shows the lower of this and its
deal of the SKU's last units (`apply_fence`).

The arithmetic is exact (`Decimal` with a wide local context, one floor at the end), so a number
never rounds up. Every result carries its inputs and steps so an operator can ask why a channel
shows what it shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_FLOOR, Decimal, localcontext
from typing import Any

from channelhub.domain.allocation import (
    AllocationRules,
    ChannelAllocation,
    ChannelShare,
    SafetyStock,
    ShareKind,
    SoftReservation,
)
from channelhub.domain.catalog import ChannelListing, PackSize, Sku
from channelhub.domain.errors import InvalidValue
from channelhub.domain.fence import FenceShare, LowStockFence, fenced_units
from channelhub.domain.stock import StockPosition, Warehouse, index_positions


@dataclass(frozen=True, slots=True)
class WarehouseContribution:
    """One warehouse's stock for the SKU and whether it feeds the channel, with the reason."""

    warehouse: str
    on_hand: int
    reserved: int
    hold: int
    free: int
    included: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "warehouse": self.warehouse,
            "on_hand": self.on_hand,
            "reserved": self.reserved,
            "hold": self.hold,
            "free": self.free,
            "included": self.included,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class AvailabilityResult:
    """The number to publish for one SKU on one channel, and everything that produced it."""

    sku: Sku
    channel: str
    quantity: int
    units: int
    pack_size: int
    warehouses: tuple[WarehouseContribution, ...]
    pool: int
    share: ChannelShare
    carved_by_earlier_caps: int
    share_units: Decimal
    safety: SafetyStock
    safety_units: Decimal
    soft_reservations: tuple[SoftReservation, ...]
    soft_reserved: int
    suppressed: bool
    suppression_reason: str | None
    tracks_inventory: bool
    continue_selling: bool
    fence: FenceShare | None = None  # set while the low-stock fence limits the channel

    @property
    def unit(self) -> str:
        return PackSize(self.pack_size).describe()

    def explain(self) -> list[str]:
        """The steps behind the number, one sentence each, for people."""
        lines = [f"SKU {self.sku} on {self.channel}: {self.quantity} {self.unit}."]
        for w in self.warehouses:
            verdict = "counted" if w.included else "not counted"
            clamp = " (never below 0)" if w.on_hand - w.reserved - w.hold < 0 else ""
            lines.append(
                f"Warehouse {w.warehouse}: on hand {w.on_hand} − reserved {w.reserved} − hold {w.hold}"
                f" = free {w.free}{clamp}; {verdict} ({w.reason})."
            )
        lines.append(f"Pool = {self.pool} units.")
        if self.share.kind is ShareKind.FIXED_CAP:
            lines.append(
                f"Share: {self.share.describe()}; {self.carved_by_earlier_caps} units already carved by"
                f" earlier fixed-cap channels → {_plain(self.share_units)} units."
            )
        else:
            lines.append(f"Share: {self.share.describe()} → {_plain(self.share_units)} units.")
        lines.append(
            f"Safety stock: {self.safety.units} units + {_plain(self.safety.percent)} % of the share"
            f" = {_plain(self.safety_units)} units."
        )
        orders = ", ".join(f"{r.order_key} ({r.units})" for r in self.soft_reservations) or "none"
        lines.append(
            f"Soft reservations (orders not yet reserved in Odoo): {self.soft_reserved} units: {orders}."
        )
        lines.append(
            f"Units = max(0, floor({_plain(self.share_units)} − {_plain(self.safety_units)}"
            f" − {self.soft_reserved})) = {self.units}."
        )
        if self.fence is not None:
            f = self.fence
            lines.append(
                f"Low-stock fence: {f.total} units dealt between the fenced channels, {f.dealt} to this"
                f" one, which sold {f.sold} since → at most {f.units} units; shows {self.units}."
            )
        if self.pack_size != 1:
            lines.append(f"Pack conversion: floor({self.units} / {self.pack_size}) = {self.quantity} packs.")
        if self.suppressed:
            lines.append(f"Suppressed on this channel ({self.suppression_reason}): shows 0.")
        if not self.tracks_inventory:
            lines.append(
                "The channel does not track inventory for this listing: the number is informational."
            )
        if self.continue_selling:
            lines.append("The channel continues selling when out of stock (its own setting).")
        return lines

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (Decimals as strings) for the API and audit."""
        return {
            "sku": str(self.sku),
            "channel": self.channel,
            "quantity": self.quantity,
            "unit": self.unit,
            "units": self.units,
            "pack_size": self.pack_size,
            "warehouses": [w.to_dict() for w in self.warehouses],
            "pool": self.pool,
            "share": self.share.to_dict(),
            "carved_by_earlier_caps": self.carved_by_earlier_caps,
            "share_units": _plain(self.share_units),
            "safety": self.safety.to_dict(),
            "safety_units": _plain(self.safety_units),
            "soft_reserved": self.soft_reserved,
            "soft_reservations": [
                {"order_key": r.order_key, "channel": r.channel, "units": r.units}
                for r in self.soft_reservations
            ],
            "suppressed": self.suppressed,
            "suppression_reason": self.suppression_reason,
            "tracks_inventory": self.tracks_inventory,
            "continue_selling": self.continue_selling,
            "fence": None if self.fence is None else self.fence.to_dict(),
            "explanation": self.explain(),
        }


def available_to_sell(
    sku: Sku,
    channel: str,
    *,
    positions: Iterable[StockPosition],
    warehouses: Iterable[Warehouse],
    rules: AllocationRules,
    listings: Iterable[ChannelListing] = (),
    soft_reservations: Iterable[SoftReservation] = (),
) -> AvailabilityResult:
    """ATS of `sku` on `channel`. Fixed caps of other channels are carved first when they come
    earlier in the carve order, so this agrees with `available_to_sell_all_channels`."""
    rules.allocation(channel)  # raises UnknownChannel before any work
    return available_to_sell_all_channels(
        sku,
        positions=positions,
        warehouses=warehouses,
        rules=rules,
        listings=listings,
        soft_reservations=soft_reservations,
    )[channel]


def available_to_sell_all_channels(
    sku: Sku,
    *,
    positions: Iterable[StockPosition],
    warehouses: Iterable[Warehouse],
    rules: AllocationRules,
    listings: Iterable[ChannelListing] = (),
    soft_reservations: Iterable[SoftReservation] = (),
) -> dict[str, AvailabilityResult]:
    """ATS of `sku` on every channel of `rules`, keyed by channel code (rule order).

    Positions, listings and soft reservations of other SKUs are ignored, so callers may pass
    everything they have. A channel without a listing for the SKU sells single units and tracks
    inventory. A warehouse that has no position for the SKU contributes 0.
    """
    stock = {w: p for (s, w), p in index_positions(p for p in positions if p.sku == sku).items()}
    known = _index_warehouses(warehouses)
    soft = tuple(r for r in soft_reservations if r.sku == sku)
    pack_sizes = {listing.channel: listing for listing in listings if listing.sku == sku}

    # Per-warehouse free stock that fixed caps have not taken yet.
    remaining = {code: stock[code].free if code in stock else 0 for code, w in known.items() if w.can_sell}
    carved: dict[str, tuple[int, int]] = {}
    for allocation in rules.carve_order():
        if rules.suppression(allocation.channel, sku) is not None:
            continue
        carved[allocation.channel] = _carve(allocation, remaining)

    return {
        allocation.channel: _result(
            sku, allocation, rules, stock, known, soft, pack_sizes.get(allocation.channel), carved
        )
        for allocation in rules.channels
    }


def units_left(results: Mapping[str, AvailabilityResult], fence: LowStockFence) -> int:
    """Units of the fenced pool no order has taken yet: the pool minus every soft reservation."""
    first = results[fence.channels[0]]
    return max(0, first.pool - first.soft_reserved)


def apply_fence(
    results: Mapping[str, AvailabilityResult], fence: LowStockFence, sold: Mapping[str, int]
) -> dict[str, AvailabilityResult]:
    """The results with each fenced channel limited to its share of the fence (see `fence`)."""
    shares = fenced_units(units_left(results, fence), sold, fence)
    fenced = dict(results)
    for channel, share in shares.items():
        result = results[channel]
        units = min(result.units, share.units)
        fenced[channel] = replace(
            result, units=units, quantity=PackSize(result.pack_size).packs_from_units(units), fence=share
        )
    return fenced


def _index_warehouses(warehouses: Iterable[Warehouse]) -> dict[str, Warehouse]:
    index: dict[str, Warehouse] = {}
    for warehouse in warehouses:
        if warehouse.code in index:
            raise InvalidValue(f"warehouse {warehouse.code} is listed twice")
        index[warehouse.code] = warehouse
    return index


def _carve(allocation: ChannelAllocation, remaining: dict[str, int]) -> tuple[int, int]:
    """Take up to the cap from the channel's sellable warehouses in code order.

    Returns (units taken, units earlier caps had already taken from these warehouses' view)."""
    feeding = sorted(code for code in allocation.warehouses if code in remaining)
    available = sum(remaining[code] for code in feeding)
    wanted = min(allocation.share.cap, available)
    still_needed = wanted
    for code in feeding:
        taken = min(remaining[code], still_needed)
        remaining[code] -= taken
        still_needed -= taken
    return wanted, available


def _contributions(
    allocation: ChannelAllocation, stock: dict[str, StockPosition], known: dict[str, Warehouse]
) -> tuple[WarehouseContribution, ...]:
    mapped = set(allocation.warehouses)
    rows = []
    for code in sorted(mapped | set(stock) | set(known)):
        position = stock.get(code)
        warehouse = known.get(code)
        if code not in mapped:
            included, reason = False, "not mapped to this channel"
        elif warehouse is None:
            included, reason = False, "mapped, but not in the warehouse list"
        elif not warehouse.online:
            included, reason = False, "warehouse offline"
        elif warehouse.on_hold:
            included, reason = False, "warehouse on hold"
        else:
            included, reason = True, "mapped, online, not on hold"
        rows.append(
            WarehouseContribution(
                warehouse=code,
                on_hand=position.on_hand if position else 0,
                reserved=position.reserved if position else 0,
                hold=position.hold if position else 0,
                free=position.free if position else 0,
                included=included,
                reason=reason if position else f"{reason}; no stock position",
            )
        )
    return tuple(rows)


def _result(
    sku: Sku,
    allocation: ChannelAllocation,
    rules: AllocationRules,
    stock: dict[str, StockPosition],
    known: dict[str, Warehouse],
    soft: tuple[SoftReservation, ...],
    listing: ChannelListing | None,
    carved: dict[str, tuple[int, int]],
) -> AvailabilityResult:
    contributions = _contributions(allocation, stock, known)
    pool = sum(c.free for c in contributions if c.included)
    share = allocation.share
    safety = rules.safety_for(allocation.channel, sku)
    suppression = rules.suppression(allocation.channel, sku)
    soft_reserved = sum(r.units for r in soft)
    carved_by_earlier = 0
    with localcontext() as ctx:
        ctx.prec = 80  # far beyond any quantity × percentage: the arithmetic stays exact
        if share.kind is ShareKind.FIXED_CAP:
            taken, available = carved.get(allocation.channel, (0, pool))
            carved_by_earlier = pool - available
            share_units = Decimal(taken)
        else:
            share_units = Decimal(pool) * share.percent / 100
        safety_units = safety.units + share_units * safety.percent / 100
        raw = share_units - safety_units - soft_reserved
        units = max(0, int(raw.to_integral_value(rounding=ROUND_FLOOR)))
    if suppression is not None:
        units = 0
    pack = listing.pack_size if listing else PackSize()
    return AvailabilityResult(
        sku=sku,
        channel=allocation.channel,
        quantity=pack.packs_from_units(units),
        units=units,
        pack_size=pack.units,
        warehouses=contributions,
        pool=pool,
        share=share,
        carved_by_earlier_caps=carved_by_earlier,
        share_units=share_units,
        safety=safety,
        safety_units=safety_units,
        soft_reservations=soft,
        soft_reserved=soft_reserved,
        suppressed=suppression is not None,
        suppression_reason=suppression.reason if suppression else None,
        tracks_inventory=listing.tracks_inventory if listing else True,
        continue_selling=listing.continue_selling if listing else False,
    )


def _plain(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros (`12.50` → `12.5`, `1E+1` → `10`)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
