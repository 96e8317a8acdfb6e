"""Operator actions on availability: warehouse hold/release/offline/online, SKU suppression.

Each action is persisted (it survives restarts and wins over the landscape file) and recomputes
every SKU it affects, so the channels the warehouse fed (or the channel of the suppression) get
their new desired quantities at once: in the same transaction, or for a warehouse that stocks many
SKUs (`set_warehouse_in_steps`) in short transactions right after the one that changes its status.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa

from channelhub.domain import Sku, Warehouse
from channelhub.service.availability import AvailabilityService, RecomputeResult
from channelhub.service.state import OperatorStateRepository, WarehouseOverride

# SKUs recomputed per transaction by `set_warehouse_in_steps` (about 2 x 250 listing rows).
WAREHOUSE_RECOMPUTE_STEP = 250


class UnknownWarehouse(LookupError):
    """The landscape file has no warehouse with this code."""


class UnknownChannelName(LookupError):
    """The landscape file has no channel with this name."""


class WarehouseAction(StrEnum):
    HOLD = "hold"  # quality hold / stock take: stop selling from it
    RELEASE = "release"  # lift the hold
    OFFLINE = "offline"  # its feed is down or it is closed
    ONLINE = "online"


@dataclass(frozen=True)
class WarehouseChange:
    warehouse: Warehouse  # the status after the action
    changed: bool
    channels: tuple[str, ...]  # channels the warehouse feeds
    recompute: RecomputeResult


class AvailabilityOperations:
    def __init__(self, availability: AvailabilityService) -> None:
        self.availability = availability

    def _warehouse(self, connection: sa.Connection, code: str) -> Warehouse:
        for warehouse in self.availability.warehouses(connection):
            if warehouse.code == code:
                return warehouse
        known = ", ".join(w.code for w in self.availability.policy.warehouses) or "none"
        raise UnknownWarehouse(f"no warehouse {code!r} in the landscape (known: {known})")

    def set_warehouse(
        self,
        connection: sa.Connection,
        code: str,
        action: WarehouseAction | str,
        at: datetime,
        *,
        reason: str = "",
        by: str = "",
    ) -> WarehouseChange:
        """Apply `action` to warehouse `code` and recompute every SKU it stocks."""
        after, changed, skus = self._change_status(connection, code, action, at, reason, by)
        recompute = self.availability.recompute(connection, skus, at)
        return WarehouseChange(after, changed, self.availability.policy.channels_fed_by(code), recompute)

    def set_warehouse_in_steps(
        self,
        engine: sa.Engine,
        code: str,
        action: WarehouseAction | str,
        at: datetime,
        *,
        reason: str = "",
        by: str = "",
        step: int = WAREHOUSE_RECOMPUTE_STEP,
        first: Callable[[sa.Connection, WarehouseChange], object] | None = None,
        after_step: Callable[[], object] | None = None,
    ) -> WarehouseChange:
        """`set_warehouse` for a warehouse that stocks many SKUs: the status and the first `step`
        SKUs are committed together (`first(connection, change)` runs in that transaction too,
        e.g. an audit record), then the other SKUs are recomputed `step` at a time, each step its
        own short transaction. A warehouse of 10,000 SKUs thus never holds the store's write lock
        for seconds: webhooks and channel orders are stored and handled between the steps (and
        their own recomputes already see the new status). `after_step()` runs after each commit
        (e.g. wake the publisher, so the first steps' SKUs go out while the rest are computed).
        Should the process stop between two steps, the start-up snapshot recomputes every SKU."""
        if step < 1:
            raise ValueError("step must be at least 1")
        with engine.begin() as connection:
            after, changed, skus = self._change_status(connection, code, action, at, reason, by)
            recompute = self.availability.recompute(connection, skus[:step], at)
            change = WarehouseChange(
                after, changed, self.availability.policy.channels_fed_by(code), recompute
            )
            if first is not None:
                first(connection, change)
        if after_step is not None and changed:
            after_step()
        quantities = dict(recompute.quantities)
        for start in range(step, len(skus), step):
            with engine.begin() as connection:
                quantities.update(
                    self.availability.recompute(connection, skus[start : start + step], at).quantities
                )
            if after_step is not None:
                after_step()
        return replace(change, recompute=RecomputeResult(quantities))

    def _change_status(
        self,
        connection: sa.Connection,
        code: str,
        action: WarehouseAction | str,
        at: datetime,
        reason: str,
        by: str,
    ) -> tuple[Warehouse, bool, list[Sku]]:
        """Store the warehouse's new status; returns it, whether it changed, and the SKUs the
        warehouse stocks when it did (the ones to recompute)."""
        action = WarehouseAction(action)
        current = self._warehouse(connection, code)
        online, on_hold = current.online, current.on_hold
        if action is WarehouseAction.HOLD:
            on_hold = True
        elif action is WarehouseAction.RELEASE:
            on_hold = False
        elif action is WarehouseAction.OFFLINE:
            online = False
        else:
            online = True
        changed = (online, on_hold) != (current.online, current.on_hold)
        OperatorStateRepository(connection).set_warehouse(
            WarehouseOverride(code, online, on_hold, reason or action.value, by, at)
        )
        skus = self.availability.skus_in_warehouse(connection, code) if changed else []
        return Warehouse(code=code, name=current.name, online=online, on_hold=on_hold), changed, skus

    def _check_channel(self, channel: str) -> None:
        if channel not in self.availability.policy.channels:
            known = ", ".join(self.availability.policy.channels)
            raise UnknownChannelName(f"no channel {channel!r} in the landscape (known: {known})")

    def suppress(
        self, connection: sa.Connection, channel: str, sku: str, at: datetime, *, reason: str = "suppressed"
    ) -> RecomputeResult:
        """Show 0 for `sku` on `channel` until lifted."""
        self._check_channel(channel)
        code = Sku(sku)
        OperatorStateRepository(connection).suppress(channel, code, reason, at)
        return self.availability.recompute(connection, [code], at)

    def lift_suppression(
        self, connection: sa.Connection, channel: str, sku: str, at: datetime
    ) -> RecomputeResult:
        self._check_channel(channel)
        code = Sku(sku)
        OperatorStateRepository(connection).lift(channel, code)
        return self.availability.recompute(connection, [code], at)

    def recompute_all(self, connection: sa.Connection, at: datetime) -> RecomputeResult:
        """Recompute every SKU with stock (after a rule change in the landscape file)."""
        return self.availability.recompute(connection, self.availability.all_skus(connection), at)
