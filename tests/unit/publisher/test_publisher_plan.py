"""Pure planning rules of the publisher: risk classes, order, velocity, batches, held updates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from channelhub.domain import Sku
from channelhub.engine.publish_plan import (
    PlannedUpdate,
    Risk,
    RiskRules,
    SalesVelocity,
    batches,
    plan_updates,
    risk_batches,
    risk_of,
)
from channelhub.engine.publish_state import ChannelMemory
from channelhub.store.repositories import ListingState

T0 = datetime(2026, 1, 1, tzinfo=UTC)
RULES = RiskRules(near_zero=3, high_velocity_units=5.0, velocity_half_life_s=60.0)


def listing(sku: str, desired: int | None, acknowledged: int | None, waited_s: float = 0.0) -> ListingState:
    return ListingState(
        channel="shop",
        sku=Sku(sku),
        item_ids=(),
        pack_size=1,
        desired_quantity=desired,
        acknowledged_quantity=acknowledged,
        desired_price=None,
        acknowledged_price=None,
        desired_at=T0 - timedelta(seconds=waited_s),
        acknowledged_at=None,
        last_error=None,
    )


@pytest.mark.parametrize(
    ("desired", "acknowledged", "velocity", "risk"),
    [
        (0, 5, 0.0, Risk.AT_RISK),  # sold out
        (3, None, 0.0, Risk.AT_RISK),  # near zero, never published
        (40, 50, 0.0, Risk.AT_RISK),  # dropping: the channel shows too much
        (40, 30, 9.0, Risk.FAST),  # rising, but selling fast
        (40, 30, 4.9, Risk.ROUTINE),
        (4, None, 0.0, Risk.ROUTINE),  # first publish of a healthy quantity
    ],
)
def test_risk_classes(desired: int, acknowledged: int | None, velocity: float, risk: Risk) -> None:
    assert risk_of(listing("S", desired, acknowledged), velocity, RULES) is risk


def test_plan_orders_by_risk_then_quantity_velocity_and_waiting_time() -> None:
    states = [
        listing("ROUTINE-NEW", 50, 20, waited_s=1),
        listing("ROUTINE-OLD", 50, 20, waited_s=9),
        listing("FAST-SLOWER", 50, 20),
        listing("FAST-FASTER", 50, 20),
        listing("DROP-40", 40, 60),
        listing("ZERO", 0, 2),
        listing("PRICE-ONLY", 5, 5),  # quantity already acknowledged: not a quantity update
        listing("NO-DESIRE", None, 5),
    ]
    velocities = {"FAST-SLOWER": 6.0, "FAST-FASTER": 12.0, "DROP-40": 1.0}

    planned = plan_updates(states, velocities, RULES)

    assert [p.sku for p in planned] == [
        "ZERO",
        "DROP-40",
        "FAST-FASTER",
        "FAST-SLOWER",
        "ROUTINE-OLD",
        "ROUTINE-NEW",
    ]
    assert planned[0] == PlannedUpdate("ZERO", 0, 2, T0, Risk.AT_RISK, 0.0)


def test_among_the_at_risk_the_skus_selling_now_follow_those_near_zero() -> None:
    states = [
        listing("DROP-10", 10, 60),
        listing("SELLING-74", 74, 93),
        listing("LOW-2", 2, 8),
        listing("SELLING-RISING", 50, 20),  # selling, but rising: its risk decides, as before
        listing("ROUTINE", 50, 20, waited_s=5),
    ]
    planned = plan_updates(states, {}, RULES, selling=frozenset({"SELLING-74", "SELLING-RISING"}))
    assert [p.sku for p in planned] == ["LOW-2", "SELLING-74", "DROP-10", "ROUTINE", "SELLING-RISING"]
    assert [p.sku for p in plan_updates(states, {}, RULES)][:3] == ["LOW-2", "DROP-10", "SELLING-74"]


def test_velocity_counts_drops_decays_and_forgets_quiet_skus() -> None:
    velocity = SalesVelocity(half_life_s=60.0)
    assert velocity.observe("S", 8, acknowledged=10, now=0.0) == 2.0  # first sight: drop since ack
    assert velocity.observe("S", 5, acknowledged=10, now=0.0) == 5.0  # then since the last sight
    assert velocity.observe("S", 9, acknowledged=10, now=0.0) == 5.0  # a receipt does not count
    assert velocity.velocity("S", 60.0) == pytest.approx(2.5)  # one half-life later
    velocity.settled("S", 60.0)
    assert len(velocity) == 1  # still moving: remembered
    velocity.settled("S", 600.0)
    assert len(velocity) == 0 and velocity.velocity("S", 600.0) == 0.0


def test_batches_keep_order_and_size() -> None:
    assert batches([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert batches([], 3) == []
    with pytest.raises(ValueError, match="at least 1"):
        batches([1], 0)


def test_rules_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="near_zero"):
        RiskRules(near_zero=-1)
    with pytest.raises(ValueError, match="half_life"):
        RiskRules(velocity_half_life_s=0)


def update(sku: str, quantity: int) -> PlannedUpdate:
    return PlannedUpdate(sku, quantity, None, T0, Risk.ROUTINE, 0.0)


def test_memory_holds_backoff_parked_and_conflict_floor_until_due() -> None:
    memory = ChannelMemory(SalesVelocity(60.0))
    memory.failed_transiently("FLAKY", now=0.0, delay_for_attempt=lambda attempt: attempt * 2.0)
    memory.failed_transiently("FLAKY", now=0.0, delay_for_attempt=lambda attempt: attempt * 2.0)
    assert memory.held_until(update("FLAKY", 1), now=1.0) == 4.0  # second attempt: 2 × 2 s
    assert memory.held_until(update("FLAKY", 1), now=4.0) is None

    memory.failed_permanently("BROKEN", quantity=3, now=0.0, retry_s=100.0)
    assert memory.held_until(update("BROKEN", 3), now=50.0) == 100.0
    assert memory.held_until(update("BROKEN", 2), now=50.0) is None  # new value: try again

    memory.conflicted("SOLD", expected=10, found=9, now=0.0, grace_s=5.0)
    assert memory.held_until(update("SOLD", 12), now=1.0) == 5.0  # a raise waits
    assert memory.held_until(update("SOLD", 8), now=1.0) is None  # a lowering goes
    assert memory.held_until(update("SOLD", 12), now=5.0) is None  # grace over

    memory.conflicted("ROSE", expected=10, found=11, now=0.0, grace_s=5.0)
    assert memory.held_until(update("ROSE", 12), now=1.0) is None  # the channel rose: no sale to wait for


def test_snapshot_reports_latency_percentiles() -> None:
    memory = ChannelMemory(SalesVelocity(60.0))
    for latency in range(1, 101):
        memory.applied(f"S{latency}", now=0.0, latency_s=latency / 100)
    snapshot = memory.snapshot(now=0.0)
    assert snapshot["propagation_p50_ms"] == pytest.approx(500, abs=10)
    assert snapshot["propagation_p99_ms"] == pytest.approx(990, abs=10)
    assert snapshot["propagation_max_ms"] == 1000.0
    assert ChannelMemory(SalesVelocity(60.0)).snapshot(0.0)["propagation_p99_ms"] is None


def test_urgent_updates_never_share_a_batch_with_routine_ones() -> None:
    planned = plan_updates(
        [listing("ZERO", 0, 4), listing("DROP", 10, 12), listing("UP-1", 30, 20), listing("UP-2", 31, 20)],
        {},
        RULES,
    )
    assert [[u.sku for u in batch] for batch in risk_batches(planned, 3)] == [
        ["ZERO", "DROP"],
        ["UP-1", "UP-2"],
    ]
    assert [[u.sku for u in batch] for batch in risk_batches(planned, 1)] == [
        ["ZERO"],
        ["DROP"],
        ["UP-1"],
        ["UP-2"],
    ]
