"""What the publisher sends next, and in which order: pure planning, no IO, no clock.

Risk decides the order (DESIGN principle 2, issue 6 §4). Overselling happens when a channel shows
more than the retailer has, so the first updates out are the ones that close that gap:

1. `Risk.AT_RISK`: the channel is about to show too much. The desired quantity is *near zero*
   (`≤ RiskRules.near_zero`) or *dropping* (lower than what the channel last acknowledged).
   Among these: near zero first, then the SKUs *selling now* (an order for them was just taken,
   on any channel: the engine names them, see `Publisher.wake`), then the rest; within each,
   the smallest desired quantity first (0 before 2 before 40). A SKU selling during a bulk
   rewrite (a warehouse gone offline lowers thousands of SKUs at once) thus goes out in the
   next call instead of waiting for the rewrite to reach it.
2. `Risk.FAST`: the SKU is selling fast (its *velocity*, below, is at least
   `RiskRules.high_velocity_units`), fastest first: it will be at risk soon.
3. `Risk.ROUTINE`: everything else (restocks, first publishes), longest waiting first.

*Velocity* is defined simply: the units by which the SKU's desired quantity has dropped, as the
publisher observed it, in an exponentially decaying sum with half-life
`RiskRules.velocity_half_life_s` (60 s by default: roughly "units sold in the last minute and a
half"). Rises (receipts) do not count. The publisher sees coalesced values, so ten sales of one
unit between two passes count as one drop of ten units: the sum is the same.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import TypeVar

from channelhub.store.repositories import ListingState

T = TypeVar("T")


class Risk(IntEnum):
    AT_RISK = 0
    FAST = 1
    ROUTINE = 2


@dataclass(frozen=True, slots=True)
class RiskRules:
    near_zero: int = 3
    high_velocity_units: float = 5.0
    velocity_half_life_s: float = 60.0

    def __post_init__(self) -> None:
        if self.near_zero < 0:
            raise ValueError("near_zero must not be negative")
        if self.velocity_half_life_s <= 0:
            raise ValueError("velocity_half_life_s must be positive")


@dataclass(frozen=True, slots=True)
class PlannedUpdate:
    """One quantity the publisher will send, with why it goes where it goes."""

    sku: str
    quantity: int
    expected_previous: int | None
    desired_at: datetime | None
    risk: Risk
    velocity: float


class SalesVelocity:
    """Decaying sum of observed drops of the desired quantity, per SKU of one channel.

    Only SKUs that were seen dirty are remembered, and an entry is forgotten once its SKU is
    acknowledged and its velocity has decayed to almost nothing, so memory follows the SKUs
    that are actually moving, not the catalogue (100,000 SKUs cost nothing while quiet).
    """

    _FORGET_BELOW = 0.5

    def __init__(self, half_life_s: float) -> None:
        self._decay_per_s = math.log(2) / half_life_s
        # sku -> (velocity at `at`, last desired quantity seen, `at` on the monotonic clock)
        self._seen: dict[str, tuple[float, int, float]] = {}
        self._next_prune = 0.0

    def __len__(self) -> int:
        return len(self._seen)

    def _decayed(self, velocity: float, since: float, now: float) -> float:
        return velocity * math.exp(-self._decay_per_s * max(0.0, now - since))

    def observe(self, sku: str, desired: int, acknowledged: int | None, now: float) -> float:
        """Record that `sku` should now show `desired`; returns its velocity.

        The first sighting compares with what the channel acknowledged (the drop since the last
        publish); later ones with the previous sighting."""
        seen = self._seen.get(sku)
        previous: int | None
        if seen is None:
            velocity, previous, at = 0.0, acknowledged, now
        else:
            velocity, previous, at = seen
        velocity = self._decayed(velocity, at, now)
        if previous is not None and desired < previous:
            velocity += previous - desired
        self._seen[sku] = (velocity, desired, now)
        return velocity

    def velocity(self, sku: str, now: float) -> float:
        seen = self._seen.get(sku)
        return 0.0 if seen is None else self._decayed(seen[0], seen[2], now)

    def prune_every(self, interval_s: float, now: float) -> None:
        """At most once per `interval_s`, forget every SKU whose velocity has decayed away (SKUs
        acknowledged while still hot would otherwise stay forever)."""
        if now < self._next_prune:
            return
        self._next_prune = now + interval_s
        quiet = [
            sku for sku, (v, _, at) in self._seen.items() if self._decayed(v, at, now) < self._FORGET_BELOW
        ]
        for sku in quiet:
            del self._seen[sku]

    def settled(self, sku: str, now: float) -> None:
        """`sku` was acknowledged: forget it once it has gone quiet."""
        if self.velocity(sku, now) < self._FORGET_BELOW:
            self._seen.pop(sku, None)


def risk_of(state: ListingState, velocity: float, rules: RiskRules) -> Risk:
    desired = state.desired_quantity
    if desired is None:
        return Risk.ROUTINE
    acknowledged = state.acknowledged_quantity
    if desired <= rules.near_zero or (acknowledged is not None and desired < acknowledged):
        return Risk.AT_RISK
    if velocity >= rules.high_velocity_units:
        return Risk.FAST
    return Risk.ROUTINE


def plan_updates(
    states: Iterable[ListingState],
    velocities: dict[str, float],
    rules: RiskRules,
    selling: AbstractSet[str] = frozenset(),
) -> list[PlannedUpdate]:
    """The quantity updates for `states` (dirty listings of one channel), riskiest first.

    `velocities` maps SKU → velocity (missing: 0); `selling`: SKUs selling now (first among the
    at-risk ones after those near zero). Listings without a desired quantity, or whose quantity is
    already acknowledged (only the price differs), are left out. Compare-and-set expects the
    acknowledged quantity: what the channel showed after our last publish.
    """
    planned = []
    for state in states:
        if state.desired_quantity is None or not state.quantity_differs:
            continue
        velocity = velocities.get(state.sku.value, 0.0)
        planned.append(
            PlannedUpdate(
                sku=state.sku.value,
                quantity=state.desired_quantity,
                expected_previous=state.acknowledged_quantity,
                desired_at=state.desired_at,
                risk=risk_of(state, velocity, rules),
                velocity=velocity,
            )
        )
    planned.sort(key=lambda update: _priority(update, rules.near_zero, selling))
    return planned


def _priority(
    update: PlannedUpdate, near_zero: int, selling: AbstractSet[str]
) -> tuple[int, int, float, float, str]:
    waited = update.desired_at.timestamp() if update.desired_at is not None else 0.0
    if update.risk is Risk.AT_RISK:
        rank = 0 if update.quantity <= near_zero else 1 if update.sku in selling else 2
        return (update.risk, rank, update.quantity, -update.velocity, update.sku)
    if update.risk is Risk.FAST:
        return (update.risk, 0, -update.velocity, waited, update.sku)
    return (update.risk, 0, waited, 0.0, update.sku)


def batches(items: Sequence[T], size: int) -> list[list[T]]:
    """`items` in consecutive batches of at most `size` (order kept)."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


def risk_batches(planned: Sequence[PlannedUpdate], size: int) -> list[list[PlannedUpdate]]:
    """`planned` (riskiest first) in batches of at most `size`, the at-risk updates never sharing
    a batch with the others: on a cost-limited channel a small urgent batch is cheap and goes out
    at once, instead of waiting for the budget of a full batch padded with restocks."""
    urgent = [update for update in planned if update.risk is Risk.AT_RISK]
    rest = [update for update in planned if update.risk is not Risk.AT_RISK]
    return batches(urgent, size) + batches(rest, size)
