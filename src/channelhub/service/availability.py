"""Available to sell: recompute it for every channel of some SKUs, and explain one number.

`AvailabilityService.recompute(connection, skus, at)` loads what DESIGN §3 needs from the store
(stock positions, open soft reservations, warehouse status with operator overrides, suppressions,
pack sizes), runs the domain's `available_to_sell_all_channels` and writes the *desired*
quantities. The listing repository changes only values that differ, so only those become dirty
for the publisher; recomputing twice is harmless.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from channelhub.domain import (
    AllocationRules,
    AvailabilityResult,
    ChannelListing,
    PackSize,
    Sku,
    SoftReservation,
    Warehouse,
    apply_fence,
    available_to_sell_all_channels,
    fence_after,
    units_left,
)
from channelhub.service.state import OperatorStateRepository
from channelhub.store.repositories import StateRepositories

if TYPE_CHECKING:
    from channelhub.config import Landscape


@dataclass(frozen=True)
class AvailabilityPolicy:
    """The rules of the landscape file that ATS needs (the store adds operator overrides)."""

    rules: AllocationRules
    warehouses: tuple[Warehouse, ...]
    pack_sizes: Mapping[tuple[str, str], int] = field(default_factory=dict)

    @classmethod
    def from_landscape(cls, landscape: Landscape) -> AvailabilityPolicy:
        return cls(
            rules=landscape.allocation_rules(),
            warehouses=landscape.domain_warehouses(),
            pack_sizes={(rule.channel, rule.sku): rule.units for rule in landscape.pack_sizes},
        )

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(allocation.channel for allocation in self.rules.channels)

    def channels_fed_by(self, warehouse: str) -> tuple[str, ...]:
        return tuple(a.channel for a in self.rules.channels if warehouse in a.warehouses)


@dataclass(frozen=True)
class RecomputeResult:
    """What one recompute decided: (channel, SKU) → desired quantity, for every channel."""

    quantities: dict[tuple[str, Sku], int]

    def for_channel(self, channel: str) -> dict[Sku, int]:
        return {sku: q for (c, sku), q in self.quantities.items() if c == channel}


class AvailabilityService:
    def __init__(self, policy: AvailabilityPolicy) -> None:
        self.policy = policy

    # -- inputs --------------------------------------------------------------------------------

    def warehouses(self, connection: sa.Connection) -> tuple[Warehouse, ...]:
        """The landscape's warehouses with the operator's overrides applied (they win)."""
        overrides = OperatorStateRepository(connection).warehouses()
        known = []
        for warehouse in self.policy.warehouses:
            override = overrides.get(warehouse.code)
            known.append(
                warehouse
                if override is None
                else replace(warehouse, online=override.online, on_hold=override.on_hold)
            )
        return tuple(known)

    def _rules(self, connection: sa.Connection, skus: Iterable[Sku]) -> AllocationRules:
        suppressions = OperatorStateRepository(connection).suppressions(skus)
        if not suppressions:
            return self.policy.rules
        return replace(self.policy.rules, suppressions=(*self.policy.rules.suppressions, *suppressions))

    def _listings(self, sku: Sku) -> list[ChannelListing]:
        return [
            ChannelListing(channel=channel, sku=sku, pack_size=PackSize(units))
            for channel in self.policy.channels
            if (units := self.policy.pack_sizes.get((channel, sku.value), 1)) != 1
        ]

    # -- recompute -----------------------------------------------------------------------------

    def results(
        self, connection: sa.Connection, skus: Iterable[Sku], *, detailed: bool = False
    ) -> dict[Sku, dict[str, AvailabilityResult]]:
        """ATS of every channel for `skus`, with the low-stock fence as it stands (read only).
        `detailed` lists each soft reservation (explain); otherwise one total per SKU stands for
        them (same number, far fewer rows read)."""
        return self._fenced(connection, sorted(set(skus)), detailed=detailed, at=None)

    def _unfenced(
        self, connection: sa.Connection, wanted: list[Sku], *, detailed: bool
    ) -> dict[Sku, dict[str, AvailabilityResult]]:
        if not wanted:
            return {}
        repos = StateRepositories.on(connection)
        positions: dict[Sku, list[Any]] = {sku: [] for sku in wanted}
        for position in repos.stock.positions(wanted):
            positions[position.sku].append(position)
        if detailed:
            soft: dict[Sku, list[SoftReservation]] = {
                sku: repos.reservations.open_reservations(sku) for sku in wanted
            }
        else:
            soft = {
                sku: [SoftReservation(order_key="open orders", channel="all", sku=sku, units=units)]
                for sku, units in repos.reservations.open_units(wanted).items()
            }
        warehouses = self.warehouses(connection)
        rules = self._rules(connection, wanted)
        return {
            sku: available_to_sell_all_channels(
                sku,
                positions=positions[sku],
                warehouses=warehouses,
                rules=rules,
                listings=self._listings(sku),
                soft_reservations=soft.get(sku, ()),
            )
            for sku in wanted
        }

    def _fenced(
        self, connection: sa.Connection, wanted: list[Sku], *, detailed: bool, at: datetime | None
    ) -> dict[Sku, dict[str, AvailabilityResult]]:
        """ATS with the low-stock fence applied. With `at` (a recompute) the fence is put up or
        taken down where the units left cross its threshold; without, it is applied as stored."""
        raw = self._unfenced(connection, wanted, detailed=detailed)
        fence = self.policy.rules.fence
        if fence is None or not raw:
            return raw
        fences = StateRepositories.on(connection).fences
        before = fences.sold(wanted, lock=at is not None)
        if at is None:
            return {sku: apply_fence(r, fence, before[sku]) if sku in before else r for sku, r in raw.items()}
        up: dict[Sku, tuple[str, ...]] = {}
        down: list[Sku] = []
        fenced: dict[Sku, dict[str, AvailabilityResult]] = {}
        for sku, results in raw.items():
            sold = fence_after(fence, units_left(results, fence), before.get(sku))
            if sold is None:
                if sku in before:
                    down.append(sku)
                fenced[sku] = results
                continue
            missing = tuple(c for c in fence.channels if c not in before.get(sku, {}))
            if missing:  # new, or a channel added to the fence since it went up
                up[sku] = missing
            fenced[sku] = apply_fence(results, fence, sold)
        fences.take_down(down)
        fences.put_up(up, at)
        return fenced

    def recompute(self, connection: sa.Connection, skus: Iterable[Sku], at: datetime) -> RecomputeResult:
        """Recompute and store the desired quantity of `skus` on every channel."""
        quantities = {
            (channel, sku): result.quantity
            for sku, by_channel in self._fenced(connection, sorted(set(skus)), detailed=False, at=at).items()
            for channel, result in by_channel.items()
        }
        # Rows in (channel, SKU) order, as every bulk write of listings: concurrent transactions
        # (a warehouse-wide recompute, worker batches, the publisher) then take the row locks in
        # one order and wait for each other instead of deadlocking.
        StateRepositories.on(connection).listings.set_desired_quantities(
            [(channel, sku, quantity) for (channel, sku), quantity in sorted(quantities.items())], at
        )
        return RecomputeResult(quantities)

    def skus_in_warehouse(self, connection: sa.Connection, warehouse: str) -> list[Sku]:
        return sorted({p.sku for p in StateRepositories.on(connection).stock.positions(warehouse=warehouse)})

    def all_skus(self, connection: sa.Connection) -> list[Sku]:
        return sorted({p.sku for p in StateRepositories.on(connection).stock.positions()})
