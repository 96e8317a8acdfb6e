"""Pure pricing rules: policy verdicts, set verdicts, life cycle, rounding, windows, canary, impact."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channelhub.domain import (
    ApprovalRefused,
    Approver,
    InvalidTransition,
    InvalidValue,
    MissingApproverRole,
    Money,
    PriceDecision,
    PricePolicy,
    PriceProposal,
    PriceVerdict,
    SelfApprovalForbidden,
    Sku,
)
from channelhub.domain.price_changes import (
    CanaryPlan,
    ChangeSetStatus,
    ImpactLine,
    ReleaseWindow,
    RoundingMode,
    RoundingRule,
    approvals_required,
    blast_radius,
    check_move,
    check_set_approval,
    next_release,
    set_verdict,
)
from channelhub.domain.pricing import policy_from_mapping

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday
POLICY = policy_from_mapping(
    {"min_margin_percent": 10, "max_auto_change_percent": 5, "max_auto_drop_percent": 20,
     "reject_change_above_percent": 90}
)  # fmt: skip


def proposal(new: str, old: str | None = "100", **extra: object) -> PriceProposal:
    values: dict[str, object] = {
        "proposal_id": "p", "sku": Sku("A-1"), "channel": "shop", "new": Money.of(new, "EUR"),
        "proposed_by": "maria", "proposed_at": T0, "old": Money.of(old, "EUR") if old else None,
        "cost": Money.of("40", "EUR"), "channel_currency": "EUR", "tax_included": False,
        "channel_tax_included": False,
    }  # fmt: skip
    values.update(extra)
    return PriceProposal(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("new", "extra", "verdict", "rule"),
    [
        ("103", {}, PriceVerdict.AUTO_APPROVE, "within_threshold"),
        ("85", {}, PriceVerdict.AUTO_APPROVE, "within_threshold"),  # drop within the drop limit
        ("79", {}, PriceVerdict.NEEDS_APPROVAL, "drop_above_threshold"),
        ("50", {}, PriceVerdict.NEEDS_APPROVAL, "drop_above_threshold"),  # the 50 % cut
        ("110", {}, PriceVerdict.NEEDS_APPROVAL, "change_above_threshold"),
        ("1000", {}, PriceVerdict.REJECT, "change_too_large"),
        ("44", {}, PriceVerdict.REJECT, "below_margin_floor"),
        ("80", {"map_floor": Money.of("85", "EUR")}, PriceVerdict.REJECT, "below_map"),
        ("100", {"channel_currency": "USD"}, PriceVerdict.REJECT, "wrong_currency"),
        ("100", {"tax_included": True}, PriceVerdict.REJECT, "tax_mismatch"),
        ("-1", {}, PriceVerdict.REJECT, "malformed"),
    ],
)
def test_policy_names_the_rule(new: str, extra: dict[str, object], verdict: PriceVerdict, rule: str) -> None:
    decision = POLICY.evaluate(proposal(new, **extra))
    assert (decision.verdict, decision.rule) == (verdict, rule)


def test_policy_mapping_refuses_unknown_keys_and_bad_values() -> None:
    with pytest.raises(InvalidValue, match="max_auto_chnage"):
        policy_from_mapping({"max_auto_chnage_percent": 5})
    with pytest.raises(InvalidValue):
        policy_from_mapping({"min_margin_percent": "lots"})
    with pytest.raises(InvalidValue):
        policy_from_mapping({"first_price_needs_approval": "yes"})
    assert policy_from_mapping(None) == PricePolicy()


def test_one_rejected_item_rejects_the_set_and_one_pending_holds_it() -> None:
    ok = PriceDecision(PriceVerdict.AUTO_APPROVE, "within_threshold", "")
    ask = PriceDecision(PriceVerdict.NEEDS_APPROVAL, "drop_above_threshold", "drop 50 %")
    no = PriceDecision(PriceVerdict.REJECT, "below_margin_floor", "margin 2 %")
    assert set_verdict([("a", ok), ("b", ok)]).status is ChangeSetStatus.SCHEDULED
    pending = set_verdict([("a", ok), ("b", ask)])
    assert pending.status is ChangeSetStatus.PENDING_APPROVAL and pending.reason == "b: drop 50 %"
    rejected = set_verdict([("a", ask), ("b", no)])
    assert (rejected.status, rejected.rule) == (ChangeSetStatus.REJECTED, "below_margin_floor")
    with pytest.raises(InvalidValue):
        set_verdict([])


def test_life_cycle_moves() -> None:
    check_move(ChangeSetStatus.PENDING_APPROVAL, ChangeSetStatus.SCHEDULED)
    check_move(ChangeSetStatus.PUBLISHED, ChangeSetStatus.ROLLED_BACK)
    for final in (ChangeSetStatus.REJECTED, ChangeSetStatus.ROLLED_BACK):
        with pytest.raises(InvalidTransition):
            check_move(final, ChangeSetStatus.SCHEDULED)
    with pytest.raises(InvalidTransition):
        check_move(ChangeSetStatus.PENDING_APPROVAL, ChangeSetStatus.PUBLISHED)


def test_maker_checker_for_sets() -> None:
    policy = PricePolicy()
    approver = Approver("alice", frozenset({"price_approver"}))
    check_set_approval("maria", approver, policy)
    with pytest.raises(SelfApprovalForbidden):
        check_set_approval("alice", approver, policy)
    with pytest.raises(MissingApproverRole):
        check_set_approval("maria", Approver("carol"), policy)
    with pytest.raises(ApprovalRefused):
        check_set_approval("maria", approver, policy, frozenset({"alice"}))
    assert approvals_required(Decimal(5001), Decimal(5000)) == 2
    assert approvals_required(Decimal(5000), Decimal(5000)) == 1
    assert approvals_required(Decimal(10**9), None) == 1


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100_000), places=2)
endings = st.sampled_from([Decimal("0.99"), Decimal("0.95"), Decimal("0.00"), Decimal("0.50")])


@given(amounts, endings, st.sampled_from(list(RoundingMode)))
def test_rounding_ends_on_the_ending_and_stays_close(
    amount: Decimal, ending: Decimal, mode: RoundingMode
) -> None:
    rounded = RoundingRule(ending, mode).apply(amount)
    assert rounded > 0 and rounded % 1 == ending
    if rounded - 1 > 0:  # not pushed up to the first positive price
        assert abs(rounded - amount) < 1
        if mode is RoundingMode.DOWN:
            assert rounded <= amount
        if mode is RoundingMode.UP:
            assert rounded >= amount
        if mode is RoundingMode.NEAREST:
            assert abs(rounded - amount) <= Decimal("0.5")


def test_rounding_examples() -> None:
    charm = RoundingRule(Decimal("0.99"))
    assert [charm.apply(Decimal(x)) for x in ("50", "49.40", "49.60", "0.10")] == [
        Decimal("49.99"), Decimal("48.99"), Decimal("49.99"), Decimal("0.99"),
    ]  # fmt: skip
    assert RoundingRule().apply(Decimal("19.995")) == Decimal("20.00")
    with pytest.raises(InvalidValue):
        RoundingRule(Decimal("1.5"))


WEEKDAY_MORNINGS = ReleaseWindow(frozenset({1, 2, 3, 4, 5}), time(6), time(10))
NIGHT = ReleaseWindow(frozenset({6}), time(22), time(2))


def test_next_release_examples() -> None:
    assert next_release(T0, ()) == T0
    assert next_release(T0, (WEEKDAY_MORNINGS,)) == T0  # inside
    assert next_release(T0.replace(hour=11), (WEEKDAY_MORNINGS,)) == T0.replace(day=3, hour=6)
    friday_noon = T0 + timedelta(days=4, hours=3)
    assert next_release(friday_noon, (WEEKDAY_MORNINGS, NIGHT)) == datetime(2026, 3, 7, 22, tzinfo=UTC)
    sunday_1am = datetime(2026, 3, 8, 1, tzinfo=UTC)
    assert next_release(sunday_1am, (NIGHT,)) == sunday_1am  # Saturday's window runs past midnight
    with pytest.raises(InvalidValue):
        ReleaseWindow(frozenset({8}), time(1), time(2))


@given(st.integers(min_value=0, max_value=14 * 24 * 60))
def test_next_release_is_the_first_moment_inside_a_window(minutes: int) -> None:
    at = T0 + timedelta(minutes=minutes)
    windows = (WEEKDAY_MORNINGS, NIGHT)
    released = next_release(at, windows)
    assert released >= at and any(w.contains(released) for w in windows)
    probe = at
    while probe < released:  # nothing earlier was inside a window
        assert not any(w.contains(probe) for w in windows)
        probe += timedelta(minutes=30)


def test_blast_radius_from_velocity_and_delta() -> None:
    lines = [
        ImpactLine("A", "shop", Decimal(100), Decimal(50), Decimal(40), Decimal(2)),
        ImpactLine("A", "web", Decimal(100), Decimal(50), None, Decimal(1)),
        ImpactLine("B", "web", Decimal(10), Decimal(11), Decimal(5), Decimal(0)),
    ]
    radius = blast_radius(lines, days=7)
    assert (radius.skus, radius.channels) == (2, ("shop", "web"))
    assert radius.revenue_delta == Decimal(-50 * 3 * 7) and radius.margin_delta == Decimal(-50 * 2 * 7)
    assert radius.revenue_at_stake == Decimal(50 * 3 * 7) and radius.largest_drop_percent == Decimal(50)


def test_canary_split_and_verdict() -> None:
    by_channel = CanaryPlan(channels=("shop",))
    assert by_channel.in_canary("A", "shop", ["A"]) and not by_channel.in_canary("A", "web", ["A"])
    skus = [f"S-{n}" for n in range(100)]
    share = CanaryPlan(sku_share_percent=Decimal(10))
    chosen = {sku for sku in skus if share.in_canary(sku, "web", skus)}
    assert len(chosen) == 10 and chosen == {sku for sku in skus if share.in_canary(sku, "shop", skus)}
    assert by_channel.verdict(0, Decimal(10), Decimal(9)) == (True, "canary healthy")
    assert not by_channel.verdict(1, Decimal(10), Decimal(10))[0]
    stopped, why = by_channel.verdict(0, Decimal(10), Decimal(4))
    assert not stopped and "order rate fell 60.00 %" in why
    with pytest.raises(InvalidValue):
        CanaryPlan()
