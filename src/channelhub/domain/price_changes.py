"""Change sets of prices: their life cycle, rounding, release windows, blast radius and canary.

A change set groups the price changes that belong together (one pricelist edit, one promotion over
300 SKUs): it is reviewed, approved, released and rolled back as one unit. Its life cycle:

    pending_approval ──approve──> scheduled ──release──> published ──date_end──> reverted
          │                          │   │                   │
          └──reject──> rejected      │   └─canary─> canary ──┤
                                     │                       └──rollback──> rolled_back
                                     └─a channel keeps failing─> held ─retry─> (published)

`set_verdict` turns the per-item policy decisions into the set's: one rejected item rejects the
whole set (a promotion is never half-applied), one item needing approval makes the set need it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from channelhub.domain.errors import (
    ApprovalRefused,
    InvalidTransition,
    InvalidValue,
    MissingApproverRole,
    SelfApprovalForbidden,
)
from channelhub.domain.money import to_decimal
from channelhub.domain.pricing import Approver, PriceDecision, PricePolicy, PriceVerdict

CENT = Decimal("0.01")


class ChangeSetStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"
    SCHEDULED = "scheduled"  # approved (by people or by policy), waiting for its release time
    CANARY = "canary"  # published to the canary slice, being watched
    PUBLISHED = "published"  # on every channel, read back and verified
    HELD = "held"  # a channel kept failing: a business exception, nothing half-published
    REJECTED = "rejected"
    ROLLED_BACK = "rolled_back"
    REVERTED = "reverted"  # the effective window ended and the prior prices are back


_MOVES: dict[ChangeSetStatus, frozenset[ChangeSetStatus]] = {
    ChangeSetStatus.PENDING_APPROVAL: frozenset({ChangeSetStatus.SCHEDULED, ChangeSetStatus.REJECTED}),
    ChangeSetStatus.SCHEDULED: frozenset(
        {
            ChangeSetStatus.CANARY,
            ChangeSetStatus.PUBLISHED,
            ChangeSetStatus.HELD,
            ChangeSetStatus.ROLLED_BACK,
        }
    ),
    ChangeSetStatus.CANARY: frozenset(
        {
            ChangeSetStatus.SCHEDULED,  # the canary was healthy: the rest follows on schedule
            ChangeSetStatus.PUBLISHED,
            ChangeSetStatus.HELD,
            ChangeSetStatus.ROLLED_BACK,
        }
    ),
    ChangeSetStatus.HELD: frozenset(
        {ChangeSetStatus.SCHEDULED, ChangeSetStatus.PUBLISHED, ChangeSetStatus.ROLLED_BACK}
    ),
    ChangeSetStatus.PUBLISHED: frozenset({ChangeSetStatus.ROLLED_BACK, ChangeSetStatus.REVERTED}),
    ChangeSetStatus.REJECTED: frozenset(),
    ChangeSetStatus.ROLLED_BACK: frozenset(),
    ChangeSetStatus.REVERTED: frozenset({ChangeSetStatus.ROLLED_BACK}),
}


def check_move(current: ChangeSetStatus, target: ChangeSetStatus) -> None:
    """Raise `InvalidTransition` unless a change set may go from `current` to `target`."""
    if target not in _MOVES[current]:
        allowed = ", ".join(sorted(_MOVES[current])) or "none (final)"
        raise InvalidTransition(f"change set is {current}, cannot become {target} (allowed: {allowed})")


@dataclass(frozen=True, slots=True)
class SetVerdict:
    status: ChangeSetStatus
    rule: str
    reason: str


def set_verdict(decisions: Sequence[tuple[str, PriceDecision]]) -> SetVerdict:
    """The set's verdict from its items' decisions (`(item label, decision)`), naming the rule."""
    if not decisions:
        raise InvalidValue("a change set needs at least one price change")
    for label, decision in decisions:
        if decision.verdict is PriceVerdict.REJECT:
            return SetVerdict(ChangeSetStatus.REJECTED, decision.rule, f"{label}: {decision.reason}")
    for label, decision in decisions:
        if decision.verdict is PriceVerdict.NEEDS_APPROVAL:
            return SetVerdict(ChangeSetStatus.PENDING_APPROVAL, decision.rule, f"{label}: {decision.reason}")
    return SetVerdict(
        ChangeSetStatus.SCHEDULED, "within_threshold", "every change is within the auto threshold"
    )


def approvals_required(revenue_at_risk: Decimal, two_approver_threshold: Decimal | None) -> int:
    """Two approvers above the revenue-at-risk threshold, else one."""
    if two_approver_threshold is not None and abs(revenue_at_risk) > two_approver_threshold:
        return 2
    return 1


def check_set_approval(
    proposed_by: str, approver: Approver, policy: PricePolicy, already_approved: frozenset[str] = frozenset()
) -> None:
    """Raise unless `approver` may approve (or reject) a change set proposed by `proposed_by`:
    maker-checker, the approver role, and one vote per person (two approvers means two people)."""
    if not approver.user:
        raise ApprovalRefused("the approver is unknown")
    if approver.user == proposed_by:
        raise SelfApprovalForbidden(f"{approver.user} proposed this change set")
    if policy.approver_role not in approver.roles:
        raise MissingApproverRole(f"{approver.user} lacks role {policy.approver_role!r}")
    if approver.user in already_approved:
        raise ApprovalRefused(f"{approver.user} has already approved this change set")


# --- rounding ------------------------------------------------------------------------------------


class RoundingMode(StrEnum):
    NEAREST = "nearest"
    DOWN = "down"
    UP = "up"


@dataclass(frozen=True, slots=True)
class RoundingRule:
    """How a channel's prices end: to the cent, or on a fixed ending such as `.99` or `.95`.

    `ending` is the fractional part every price must end with (0 <= ending < 1, whole cents);
    NEAREST picks the closest such price (ties go down: a customer never pays more because of a
    tie), DOWN the highest not above the value, UP the lowest not below it. A result that would
    be zero or negative moves up to the first positive price with that ending.
    """

    ending: Decimal | None = None
    mode: RoundingMode = RoundingMode.NEAREST

    def __post_init__(self) -> None:
        if self.ending is not None:
            ending = to_decimal(self.ending)
            if not 0 <= ending < 1 or ending != ending.quantize(CENT):
                raise InvalidValue(f"rounding ending {ending} must be whole cents in [0, 1)")
            object.__setattr__(self, "ending", ending)
        object.__setattr__(self, "mode", RoundingMode(self.mode))

    def apply(self, amount: Decimal) -> Decimal:
        if self.ending is None:
            rounding = {
                RoundingMode.NEAREST: ROUND_HALF_EVEN,
                RoundingMode.DOWN: ROUND_FLOOR,
                RoundingMode.UP: ROUND_CEILING,
            }[self.mode]
            return amount.quantize(CENT, rounding=rounding)
        below = (amount - self.ending).to_integral_value(rounding=ROUND_FLOOR) + self.ending
        above = below if below == amount else below + 1
        if self.mode is RoundingMode.DOWN:
            chosen = below
        elif self.mode is RoundingMode.UP:
            chosen = above
        else:
            chosen = below if amount - below <= above - amount else above
        while chosen <= 0:
            chosen += 1
        return chosen.quantize(CENT)

    def describe(self) -> str:
        return "to the cent" if self.ending is None else f"{self.mode} to .{str(self.ending)[2:]:0<2}"


# --- release windows -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReleaseWindow:
    """A weekly slot in which a channel accepts price releases, in UTC.

    `weekdays` are ISO numbers (1 Monday … 7 Sunday) of the day the window *opens*; a window whose
    end is not after its start runs past midnight (22:00-02:00)."""

    weekdays: frozenset[int]
    start: time
    end: time

    def __post_init__(self) -> None:
        if not self.weekdays or not self.weekdays <= frozenset(range(1, 8)):
            raise InvalidValue(f"release window weekdays {sorted(self.weekdays)} must be within 1-7")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise InvalidValue("release window times are UTC wall times without a zone")

    def _length(self) -> timedelta:
        start = timedelta(hours=self.start.hour, minutes=self.start.minute, seconds=self.start.second)
        end = timedelta(hours=self.end.hour, minutes=self.end.minute, seconds=self.end.second)
        return end - start if end > start else end - start + timedelta(days=1)

    def openings_around(self, at: datetime) -> Iterable[datetime]:
        """Window openings from the day before `at` up to 8 days after, ascending."""
        day0 = at.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
        for offset in range(10):
            day = day0 + timedelta(days=offset)
            if day.isoweekday() in self.weekdays:
                yield day.replace(hour=self.start.hour, minute=self.start.minute, second=self.start.second)

    def contains(self, at: datetime) -> bool:
        return any(opening <= at < opening + self._length() for opening in self.openings_around(at))


def next_release(at: datetime, windows: Sequence[ReleaseWindow]) -> datetime:
    """The earliest moment at or after `at` inside one of `windows` (`at` itself with none)."""
    if at.tzinfo is None:
        raise InvalidValue("release times must be timezone-aware")
    if not windows or any(window.contains(at) for window in windows):
        return at
    return min(opening for window in windows for opening in window.openings_around(at) if opening > at)


# --- blast radius --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImpactLine:
    """One SKU × channel of a change set with its recent sales velocity (units per day)."""

    sku: str
    channel: str
    old_price: Decimal | None
    new_price: Decimal
    cost: Decimal | None
    units_per_day: Decimal


@dataclass(frozen=True, slots=True)
class BlastRadius:
    skus: int
    channels: tuple[str, ...]
    days: int
    revenue_delta: Decimal  # change in revenue over `days` at unchanged velocity
    revenue_at_stake: Decimal  # revenue over `days` at the new prices
    margin_delta: Decimal  # change in gross margin over `days` (items without cost count zero)
    largest_drop_percent: Decimal | None

    def to_dict(self) -> dict[str, object]:
        return {
            "skus": self.skus,
            "channels": list(self.channels),
            "days": self.days,
            "revenue_delta": str(self.revenue_delta),
            "revenue_at_stake": str(self.revenue_at_stake),
            "margin_delta": str(self.margin_delta),
            "largest_drop_percent": None
            if self.largest_drop_percent is None
            else str(self.largest_drop_percent),
        }


def blast_radius(lines: Sequence[ImpactLine], days: int = 7) -> BlastRadius:
    """Revenue and margin at stake over `days` from velocity × price delta (velocity held flat:
    the estimate says what is at stake, it does not predict elasticity)."""
    if days < 1:
        raise InvalidValue("the preview horizon must be at least one day")
    revenue_delta = revenue_at_stake = margin_delta = Decimal(0)
    drops: list[Decimal] = []
    for line in lines:
        units = line.units_per_day * days
        delta = line.new_price - (line.old_price if line.old_price is not None else line.new_price)
        revenue_delta += units * delta
        revenue_at_stake += units * line.new_price
        if line.cost is not None:
            margin_delta += units * delta
        if line.old_price and line.new_price < line.old_price:
            drops.append((line.old_price - line.new_price) / line.old_price * 100)
    return BlastRadius(
        skus=len({line.sku for line in lines}),
        channels=tuple(sorted({line.channel for line in lines})),
        days=days,
        revenue_delta=revenue_delta.quantize(CENT),
        revenue_at_stake=revenue_at_stake.quantize(CENT),
        margin_delta=margin_delta.quantize(CENT),
        largest_drop_percent=max(drops).quantize(CENT) if drops else None,
    )


# --- canary --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CanaryPlan:
    """Publish to `channels` (or `sku_share_percent` % of the SKUs) first, watch for `watch`, and
    go on only while errors and the order rate stay within bounds; otherwise roll back."""

    channels: tuple[str, ...] = ()
    sku_share_percent: Decimal | None = None
    watch: timedelta = timedelta(minutes=15)
    max_errors: int = 0
    max_order_rate_drop_percent: Decimal = Decimal(50)

    def __post_init__(self) -> None:
        if bool(self.channels) == (self.sku_share_percent is not None):
            raise InvalidValue("a canary names either channels or a share of SKUs (one of them)")
        if self.sku_share_percent is not None and not 0 < self.sku_share_percent < 100:
            raise InvalidValue("the canary share of SKUs must be between 0 and 100 %")
        if self.watch <= timedelta(0):
            raise InvalidValue("the canary watch time must be positive")

    def in_canary(self, sku: str, channel: str, all_skus: Sequence[str]) -> bool:
        """Whether this SKU × channel goes out first. The SKU share is chosen by a stable hash,
        so the same SKUs are the canary on every run and every channel."""
        if self.channels:
            return channel in self.channels
        assert self.sku_share_percent is not None
        ranked = sorted(set(all_skus), key=lambda code: hashlib.sha256(code.encode()).hexdigest())
        count = max(1, int(len(ranked) * self.sku_share_percent / 100))
        return sku in ranked[:count]

    def verdict(self, errors: int, orders_before: Decimal, orders_after: Decimal) -> tuple[bool, str]:
        """(go on?, why) from the errors and order rates (orders per hour) seen while watching."""
        if errors > self.max_errors:
            return False, f"{errors} error(s) during the canary (at most {self.max_errors} allowed)"
        if orders_before > 0:
            drop = (orders_before - orders_after) / orders_before * 100
            if drop > self.max_order_rate_drop_percent:
                return False, (
                    f"order rate fell {drop.quantize(CENT)} % "
                    f"(more than {self.max_order_rate_drop_percent} %)"
                )
        return True, "canary healthy"
