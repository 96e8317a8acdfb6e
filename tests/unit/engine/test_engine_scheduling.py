"""Pure rules of the log: tier quotas, batch selection with waiting keys, lease planning, ids."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa

from channelhub.connectors.errors import PermanentError, ThrottledError, UnavailableError
from channelhub.engine.events import EventError, LoggedEvent, NewEvent, deterministic_event_id, partition_of
from channelhub.engine.handlers import HandlerRegistry, NoHandlerError, is_retryable
from channelhub.engine.leases import plan_leases
from channelhub.engine.scheduling import cut_for_external, select_batch, tier_quotas
from channelhub.engine.sql import LogSql
from channelhub.engine.worker import default_retry_policy


def logged(seq: int, key: str, tier: int = 1) -> LoggedEvent:
    return LoggedEvent(seq, f"id-{seq}", "t", key, tier, {}, 0.0, 0)


def test_tier_one_takes_everything_it_can_use_when_alone() -> None:
    assert tier_quotas({1: 900}, 500) == {1: 500, 2: 0, 3: 0}


def test_lower_tiers_keep_a_reserved_share_under_tier_one_saturation() -> None:
    assert tier_quotas({1: 10_000, 2: 10_000, 3: 10_000}, 100) == {1: 85, 2: 10, 3: 5}


def test_capacity_tier_one_leaves_flows_down_in_tier_order() -> None:
    assert tier_quotas({1: 20, 2: 50, 3: 500}, 100) == {1: 20, 2: 50, 3: 30}
    assert tier_quotas({3: 500}, 100) == {1: 0, 2: 0, 3: 100}


def test_quotas_never_exceed_batch_or_available_work() -> None:
    rng = random.Random(5)
    for _ in range(500):
        available = {tier: rng.randrange(0, 300) for tier in (1, 2, 3)}
        batch = rng.randrange(1, 400)
        quotas = tier_quotas(available, batch)
        assert sum(quotas.values()) == min(batch, sum(available.values()))
        assert all(0 <= quotas[tier] <= available[tier] for tier in (1, 2, 3))
        if available[1] >= batch:
            assert quotas[1] >= batch * 0.85, "tier 1 is never starved"


def test_select_batch_skips_waiting_keys_and_keeps_log_order_per_tier() -> None:
    candidates = [logged(1, "A"), logged(2, "B"), logged(3, "A"), logged(4, "C"), logged(5, "X", tier=3)]
    chosen = select_batch(candidates, waiting={(1, "A")}, batch_size=10)
    assert [event.seq for event in chosen] == [2, 4, 5]


def test_select_batch_takes_prefixes_so_no_later_event_jumps_ahead() -> None:
    candidates = [logged(seq, "A") for seq in range(1, 8)]
    assert [event.seq for event in select_batch(candidates, set(), batch_size=3)] == [1, 2, 3]


def test_waiting_is_per_tier_and_key() -> None:
    chosen = select_batch([logged(1, "A", tier=2)], waiting={(1, "A")}, batch_size=5)
    assert [event.seq for event in chosen] == [1]


@pytest.mark.parametrize(
    ("owned", "live", "claim", "release"),
    [
        (0, 1, 32, 0),
        (32, 2, 0, 16),
        (16, 2, 0, 0),
        (0, 2, 16, 0),
        (11, 3, 0, 0),
        (0, 3, 11, 0),
        (5, 0, 27, 0),
    ],
)
def test_lease_plan_reaches_the_fair_share(owned: int, live: int, claim: int, release: int) -> None:
    plan = plan_leases(owned, live, partitions=32)
    assert (plan.claim, plan.release) == (claim, release)


def test_partition_and_event_id_are_stable_and_deterministic() -> None:
    assert partition_of("SKU-42") == partition_of("SKU-42")
    assert {partition_of(f"k{i}") for i in range(2000)} == set(range(32))
    first = deterministic_event_id("order.placed.v1", "shopify:1001", "delivery-7")
    assert first == deterministic_event_id("order.placed.v1", "shopify:1001", "delivery-7")
    assert first != deterministic_event_id("order.placed.v1", "shopify:1001", "delivery-8")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"event_id": "", "topic": "t", "key": "k"},
        {"event_id": "e", "topic": "t", "key": "k" * 256},
        {"event_id": "e", "topic": "t", "key": "k", "tier": 4},
        {"event_id": "e", "topic": "t", "key": "k", "delay_s": -1.0},
    ],
)
def test_bad_events_are_refused_with_a_reason(kwargs: dict[str, object]) -> None:
    with pytest.raises(EventError):
        NewEvent(**kwargs)  # type: ignore[arg-type]


def test_transient_and_permanent_errors_are_classified() -> None:
    assert is_retryable(UnavailableError("down"))
    assert is_retryable(ThrottledError("slow down"))
    assert is_retryable(sa.exc.OperationalError("select 1", {}, Exception("connection reset")))
    assert not is_retryable(PermanentError("bad sku"))
    assert not is_retryable(KeyError("programming error"))
    assert not is_retryable(NoHandlerError("no handler"))


def test_default_retry_policy_backs_off_with_full_jitter_then_gives_up() -> None:
    policy = default_retry_policy()
    policy.rng = random.Random(11)
    delays = [policy.decide(attempt, UnavailableError("down")).delay_s for attempt in range(1, 8)]
    assert all(0 <= delay <= min(300.0, 1.0 * 2 ** (n - 1)) for n, delay in enumerate(delays, start=1))
    assert len(set(delays)) == len(delays), "jittered, not a fixed schedule"
    assert not policy.decide(8, UnavailableError("down")).retry
    assert not policy.decide(1, PermanentError("no")).retry


def test_registry_refuses_a_second_handler_and_names_missing_topics() -> None:
    registry = HandlerRegistry([("stock.changed.v1", lambda event, ctx: None)])
    with pytest.raises(ValueError, match="already registered"):
        registry.register("stock.changed.v1", lambda event, ctx: None)
    with pytest.raises(NoHandlerError, match=r"order\.placed\.v1"):
        registry["order.placed.v1"]


def test_sql_is_rendered_per_dialect() -> None:
    postgres, sqlite = LogSql("postgresql"), LogSql("sqlite")
    assert "ANY(%(seqs)s)" in postgres["ack"] and "%(available_at)s" in postgres["retry_later"]
    assert "json_each(:seqs)" in sqlite["ack"] and ":now" in sqlite["dead_letter"]
    assert "SKIP LOCKED" in postgres["claim_partitions"] and "SKIP LOCKED" not in sqlite["claim_partitions"]
    assert sqlite.ids([3, 1]) == "[3, 1]" and postgres.ids([3, 1]) == [3, 1]
    with pytest.raises(ValueError):
        LogSql("mysql")


def test_cut_for_external_stops_before_an_external_event_whose_key_came_earlier() -> None:
    def ev(seq: int, topic: str, key: str) -> LoggedEvent:
        return LoggedEvent(seq, f"e{seq}", topic, key, 1, {}, 0.0, 0)

    def is_external(topic: str) -> bool:
        return topic == "x"

    batch = [
        ev(1, "p", "a"),
        ev(2, "x", "b"),
        ev(3, "p", "b"),
        ev(4, "x", "c"),
        ev(5, "x", "a"),
        ev(6, "p", "d"),
    ]
    assert [e.seq for e in cut_for_external(batch, is_external)] == [1, 2, 3, 4]
    assert [e.seq for e in cut_for_external(batch[:4], is_external)] == [1, 2, 3, 4]
    plain = [ev(1, "p", "a"), ev(2, "p", "a")]
    assert cut_for_external(plain, is_external) == plain
