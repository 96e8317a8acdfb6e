from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from channelhub.domain import (
    Approver,
    InvalidAllocationRule,
    InvalidValue,
    MissingApproverRole,
    Money,
    Price,
    PricePolicy,
    PriceProposal,
    PriceVerdict,
    SelfApprovalForbidden,
    Sku,
    check_approval,
)

T0 = datetime(2026, 6, 1, tzinfo=UTC)
POLICY = PricePolicy(min_margin_percent=Decimal(20), max_auto_change_percent=Decimal(5))


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def proposal(new: str, old: str | None = "100.00", **overrides: object) -> PriceProposal:
    values: dict[str, object] = {
        "proposal_id": "P1",
        "sku": Sku("A-1"),
        "channel": "shopify",
        "new": eur(new),
        "proposed_by": "maker",
        "proposed_at": T0,
        "old": eur(old) if old else None,
        "cost": eur("60.00"),
        "map_floor": eur("89.00"),
    }
    values.update(overrides)
    return PriceProposal(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("new", "old", "verdict", "rule"),
    [
        ("104.00", "100.00", PriceVerdict.AUTO_APPROVE, "within_threshold"),
        ("95.00", "100.00", PriceVerdict.AUTO_APPROVE, "within_threshold"),
        ("94.99", "100.00", PriceVerdict.NEEDS_APPROVAL, "change_above_threshold"),
        ("120.00", "100.00", PriceVerdict.NEEDS_APPROVAL, "change_above_threshold"),
        ("88.99", "100.00", PriceVerdict.REJECT, "below_map"),
        ("120.00", None, PriceVerdict.NEEDS_APPROVAL, "first_price"),
        ("0", "100.00", PriceVerdict.REJECT, "malformed"),
    ],
)
def test_policy_verdicts_name_the_deciding_rule(
    new: str, old: str | None, verdict: PriceVerdict, rule: str
) -> None:
    decision = POLICY.evaluate(proposal(new, old))
    assert (decision.verdict, decision.rule) == (verdict, rule)
    assert decision.to_dict()["verdict"] == verdict.value


def test_margin_floor_rejects_prices_too_close_to_cost() -> None:
    # margin (74 − 60) / 74 = 18.9 % < 20 %
    decision = POLICY.evaluate(proposal("74.00", "75.00", map_floor=None))
    assert decision.verdict is PriceVerdict.REJECT and decision.rule == "below_margin_floor"
    assert "18.92 %" in decision.reason
    assert POLICY.evaluate(proposal("75.00", "76.00", map_floor=None)).verdict is PriceVerdict.AUTO_APPROVE


def test_malformed_proposals_are_rejected_with_the_reason() -> None:
    usd_cost = proposal("100.00", cost=Money.of("60", "USD"))
    assert POLICY.evaluate(usd_cost).reason == "cost is in USD, the new price in EUR"
    window = proposal("100.00", effective_from=T0, effective_until=T0 - timedelta(hours=1))
    assert POLICY.evaluate(window).reason == "the effective window ends before it starts"
    naive = proposal("100.00", effective_from=datetime(2026, 6, 1))
    assert POLICY.evaluate(naive).rule == "malformed"


def test_change_and_margin_percentages() -> None:
    p = proposal("110.00")
    assert p.change_percent == Decimal(10)
    assert p.margin_percent is not None and round(p.margin_percent, 2) == Decimal("45.45")
    assert proposal("110.00", old=None).change_percent is None
    data = p.to_dict()
    assert data["change_percent"] == "10.00" and data["new"] == {"amount": "110.00", "currency": "EUR"}


def test_effective_window_is_start_inclusive_end_exclusive() -> None:
    p = proposal("100.00", effective_from=T0, effective_until=T0 + timedelta(days=1))
    assert not p.is_effective(T0 - timedelta(seconds=1))
    assert p.is_effective(T0)
    assert not p.is_effective(T0 + timedelta(days=1))
    assert proposal("100.00").is_effective(T0)


def test_maker_checker() -> None:
    p = proposal("120.00")
    check_approval(p, Approver("checker", frozenset({"price_approver"})), POLICY)
    with pytest.raises(SelfApprovalForbidden):
        check_approval(p, Approver("maker", frozenset({"price_approver"})), POLICY)
    with pytest.raises(MissingApproverRole, match="price_approver"):
        check_approval(p, Approver("checker", frozenset({"viewer"})), POLICY)


def test_price_and_policy_validation() -> None:
    with pytest.raises(InvalidValue):
        Price(Sku("A"), "shopify", eur("0"))
    with pytest.raises(InvalidValue):
        Price(Sku("A"), "shopify", eur("10"), compare_at=Money.of("12", "USD"))
    with pytest.raises(InvalidAllocationRule):
        PricePolicy(max_auto_change_percent=Decimal(-1))
