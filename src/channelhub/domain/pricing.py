"""Prices, price proposals and the policy that decides on them (DESIGN §4).

A proposal is judged by `PricePolicy.evaluate`, which returns one verdict and the rule behind it:
- reject: malformed (non-positive price, currencies that disagree, an empty effective window),
  in a currency the channel does not sell in (`wrong_currency`), tax-inclusive when the channel
  is not or the other way round (`tax_mismatch`), below the MAP floor, below cost plus the minimum
  margin, or a change so large it is almost certainly a typo (`change_too_large`, when set);
- auto-approve: the change is within the policy's threshold (drops may have a tighter one);
- needs approval: anything bigger, or a first price. Approval is maker-checker: the approver is not
  the proposer and holds the approver role (`check_approval`).

`policy_from_mapping` builds a policy from the `policy:` mapping of the pricing YAML (parsed by
the caller: the domain does no IO).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, cast

from channelhub.domain.allocation import to_percent
from channelhub.domain.catalog import Sku, check_code
from channelhub.domain.codec import encode_decimal
from channelhub.domain.errors import InvalidValue, MissingApproverRole, SelfApprovalForbidden
from channelhub.domain.money import Money, to_decimal


@dataclass(frozen=True, slots=True)
class Price:
    """The selling price of a SKU on a channel, with an optional compare-at (strike-through) price."""

    sku: Sku
    channel: str
    amount: Money
    compare_at: Money | None = None

    def __post_init__(self) -> None:
        check_code(self.channel, "channel code")
        if self.amount.amount <= 0:
            raise InvalidValue(f"price of {self.sku} on {self.channel} must be positive")
        if self.compare_at is not None and self.compare_at.currency != self.amount.currency:
            raise InvalidValue("compare-at price must be in the price's currency")


class PriceVerdict(StrEnum):
    REJECT = "reject"
    AUTO_APPROVE = "auto_approve"
    NEEDS_APPROVAL = "needs_approval"


@dataclass(frozen=True, slots=True)
class PriceProposal:
    """A proposed price change for one SKU on one channel.

    Built from whatever the source said; `PricePolicy.evaluate` (not the constructor) refuses a
    malformed proposal, so the refusal is recorded with its reason like any other decision.
    """

    proposal_id: str
    sku: Sku
    channel: str
    new: Money
    proposed_by: str
    proposed_at: datetime
    old: Money | None = None
    cost: Money | None = None
    map_floor: Money | None = None
    effective_from: datetime | None = None
    effective_until: datetime | None = None
    # What the channel expects: its selling currency and whether its prices include tax. None
    # means "not checked" (e.g. a channel without that setting).
    channel_currency: str | None = None
    tax_included: bool | None = None
    channel_tax_included: bool | None = None

    @property
    def change_percent(self) -> Decimal | None:
        """(new − old) / old × 100; None for a first price (or a zero or foreign-currency old price)."""
        if self.old is None or self.old.amount == 0 or self.old.currency != self.new.currency:
            return None
        return (self.new.amount - self.old.amount) / self.old.amount * 100

    @property
    def margin_percent(self) -> Decimal | None:
        """(new − cost) / new × 100; None without a cost (or a non-positive or foreign-currency price)."""
        if self.cost is None or self.new.amount <= 0 or self.cost.currency != self.new.currency:
            return None
        return (self.new.amount - self.cost.amount) / self.new.amount * 100

    def malformed_reason(self) -> str | None:
        if self.new.amount <= 0:
            return f"new price {self.new} is not positive"
        for name in ("old", "cost", "map_floor"):
            other: Money | None = getattr(self, name)
            if other is not None and other.currency != self.new.currency:
                return f"{name} is in {other.currency}, the new price in {self.new.currency}"
        moments = (self.proposed_at, self.effective_from, self.effective_until)
        if any(moment is not None and moment.tzinfo is None for moment in moments):
            return "times must be timezone-aware"
        if self.effective_from and self.effective_until and self.effective_until <= self.effective_from:
            return "the effective window ends before it starts"
        if not self.proposed_by:
            return "the proposer is unknown"
        return None

    def is_effective(self, at: datetime) -> bool:
        """Whether the price applies at `at` (window start inclusive, end exclusive)."""
        if self.effective_from is not None and at < self.effective_from:
            return False
        return self.effective_until is None or at < self.effective_until

    def to_dict(self) -> dict[str, Any]:
        def money(value: Money | None) -> dict[str, str] | None:
            return (
                None
                if value is None
                else {"amount": encode_decimal(value.amount), "currency": value.currency}
            )

        def percent(value: Decimal | None) -> str | None:
            return None if value is None else encode_decimal(round(value, 2))

        return {
            "proposal_id": self.proposal_id,
            "sku": str(self.sku),
            "channel": self.channel,
            "old": money(self.old),
            "new": money(self.new),
            "cost": money(self.cost),
            "map_floor": money(self.map_floor),
            "change_percent": percent(self.change_percent),
            "margin_percent": percent(self.margin_percent),
            "proposed_by": self.proposed_by,
            "proposed_at": self.proposed_at.isoformat(),
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "effective_until": self.effective_until.isoformat() if self.effective_until else None,
            "channel_currency": self.channel_currency,
            "tax_included": self.tax_included,
        }


@dataclass(frozen=True, slots=True)
class PriceDecision:
    verdict: PriceVerdict
    rule: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"verdict": self.verdict.value, "rule": self.rule, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class PricePolicy:
    """The retailer's price guard rails; percentages are Decimals in [0, 100]."""

    min_margin_percent: Decimal = Decimal(0)
    max_auto_change_percent: Decimal = Decimal(5)
    approver_role: str = "price_approver"
    first_price_needs_approval: bool = True
    # Drops may need approval sooner than increases (a wrong discount costs more than a wrong
    # increase); None: the symmetric `max_auto_change_percent`.
    max_auto_drop_percent: Decimal | None = None
    # Changes beyond this are refused outright (a misplaced decimal point); None: never.
    reject_change_above_percent: Decimal | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "min_margin_percent", to_percent(self.min_margin_percent, "min margin"))
        object.__setattr__(
            self, "max_auto_change_percent", to_percent(self.max_auto_change_percent, "max auto change")
        )
        if self.max_auto_drop_percent is not None:
            object.__setattr__(
                self, "max_auto_drop_percent", to_percent(self.max_auto_drop_percent, "max auto drop")
            )
        if self.reject_change_above_percent is not None:
            limit = to_decimal(self.reject_change_above_percent)
            if limit <= 0:
                raise InvalidValue(f"reject_change_above_percent = {limit} must be positive")
            object.__setattr__(self, "reject_change_above_percent", limit)

    def evaluate(self, proposal: PriceProposal) -> PriceDecision:
        """The verdict on `proposal` and the first rule that decided it (checked in this order)."""
        malformed = proposal.malformed_reason()
        if malformed:
            return PriceDecision(PriceVerdict.REJECT, "malformed", malformed)
        if proposal.channel_currency is not None and proposal.new.currency != proposal.channel_currency:
            return PriceDecision(
                PriceVerdict.REJECT,
                "wrong_currency",
                f"price is in {proposal.new.currency}, {proposal.channel} sells in {proposal.channel_currency}",
            )
        if (
            proposal.tax_included is not None
            and proposal.channel_tax_included is not None
            and proposal.tax_included != proposal.channel_tax_included
        ):
            said = "includes" if proposal.tax_included else "excludes"
            wants = "includes" if proposal.channel_tax_included else "excludes"
            return PriceDecision(
                PriceVerdict.REJECT,
                "tax_mismatch",
                f"the price {said} tax, {proposal.channel} shows prices that {wants} tax",
            )
        if proposal.map_floor is not None and proposal.new < proposal.map_floor:
            return PriceDecision(
                PriceVerdict.REJECT,
                "below_map",
                f"{proposal.new} is below the MAP floor {proposal.map_floor}",
            )
        margin = proposal.margin_percent
        if margin is not None and margin < self.min_margin_percent:
            return PriceDecision(
                PriceVerdict.REJECT,
                "below_margin_floor",
                f"margin {round(margin, 2)} % over cost {proposal.cost} is below {self.min_margin_percent} %",
            )
        change = proposal.change_percent
        if change is None:
            verdict = (
                PriceVerdict.NEEDS_APPROVAL if self.first_price_needs_approval else PriceVerdict.AUTO_APPROVE
            )
            return PriceDecision(verdict, "first_price", "no current price to compare with")
        if self.reject_change_above_percent is not None and abs(change) > self.reject_change_above_percent:
            return PriceDecision(
                PriceVerdict.REJECT,
                "change_too_large",
                f"change {round(change, 2)} % exceeds the hard limit ±{self.reject_change_above_percent} %",
            )
        if change < 0 and self.max_auto_drop_percent is not None:
            if -change <= self.max_auto_drop_percent:
                return PriceDecision(
                    PriceVerdict.AUTO_APPROVE,
                    "within_threshold",
                    f"drop {round(-change, 2)} % is within {self.max_auto_drop_percent} %",
                )
            return PriceDecision(
                PriceVerdict.NEEDS_APPROVAL,
                "drop_above_threshold",
                f"drop {round(-change, 2)} % exceeds {self.max_auto_drop_percent} %",
            )
        if abs(change) <= self.max_auto_change_percent:
            return PriceDecision(
                PriceVerdict.AUTO_APPROVE,
                "within_threshold",
                f"change {round(change, 2)} % is within ±{self.max_auto_change_percent} %",
            )
        return PriceDecision(
            PriceVerdict.NEEDS_APPROVAL,
            "change_above_threshold",
            f"change {round(change, 2)} % exceeds ±{self.max_auto_change_percent} %",
        )


@dataclass(frozen=True, slots=True)
class Approver:
    user: str
    roles: frozenset[str] = frozenset()


def check_approval(proposal: PriceProposal, approver: Approver, policy: PricePolicy) -> None:
    """Raise unless `approver` may approve `proposal` (maker-checker)."""
    if approver.user == proposal.proposed_by:
        raise SelfApprovalForbidden(f"{approver.user} proposed {proposal.proposal_id}")
    if policy.approver_role not in approver.roles:
        raise MissingApproverRole(f"{approver.user} lacks role {policy.approver_role!r}")


_POLICY_KEYS = {
    "min_margin_percent",
    "max_auto_change_percent",
    "max_auto_drop_percent",
    "reject_change_above_percent",
    "approver_role",
    "first_price_needs_approval",
}


def policy_from_mapping(data: object) -> PricePolicy:
    """A `PricePolicy` from the `policy:` mapping of the pricing YAML (already parsed).

    Unknown keys are errors: a typo in a guard rail must not silently loosen it."""
    if data is None:
        return PricePolicy()
    if not isinstance(data, dict):
        raise InvalidValue(f"the price policy must be a mapping, not {type(data).__name__}")
    values = cast(dict[str, Any], data)
    unknown = sorted(set(values) - _POLICY_KEYS)
    if unknown:
        raise InvalidValue(f"unknown price policy key(s): {', '.join(map(str, unknown))}")
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key == "approver_role":
            if not isinstance(value, str) or not value:
                raise InvalidValue("approver_role must be a role name")
            kwargs[key] = value
        elif key == "first_price_needs_approval":
            if not isinstance(value, bool):
                raise InvalidValue("first_price_needs_approval must be true or false")
            kwargs[key] = value
        elif value is not None:
            if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
                raise InvalidValue(f"{key} must be a number")
            kwargs[key] = to_decimal(str(value))
    return PricePolicy(**kwargs)
