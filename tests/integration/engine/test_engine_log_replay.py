"""Dead-letter replay, tier priority and the idempotency ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from channelhub.clock import ManualClock
from channelhub.connectors.errors import PermanentError
from channelhub.engine.dead_letters import (
    DeadLetterFilter,
    list_dead_letters,
    purge_event_ids,
    replay,
    replay_all,
    replay_one,
)
from channelhub.engine.events import LoggedEvent, NewEvent, Tier
from channelhub.engine.handlers import HandlerContext, HandlerRegistry
from channelhub.engine.worker import Worker
from tests.integration.engine.conftest import LogDatabase
from tests.integration.engine.test_engine_log_delivery import add, record_effect


async def _dead_letters(db: LogDatabase, clock: ManualClock) -> None:
    add(
        db,
        [
            NewEvent("price-1", "price.released.v1", "SKU-1", {"n": 0}),
            NewEvent("price-2", "price.released.v1", "SKU-2", {"n": 0}),
            NewEvent("order-1", "order.placed.v1", "SO-1", {"n": 0}),
            NewEvent("order-2", "order.placed.v1", "SO-2", {"n": 0}),
        ],
        clock,
    )

    def reject(event: LoggedEvent, ctx: HandlerContext) -> None:
        reason = "below margin floor" if event.topic.startswith("price") else "customer missing"
        raise PermanentError(reason, system="odoo")

    worker = Worker(
        db.engine, HandlerRegistry([("price.released.v1", reject), ("order.placed.v1", reject)]), clock=clock
    )
    await worker.run_until_idle()
    worker.close()


async def test_a_batch_of_failures_does_not_stop_run_until_idle(log_db: LogDatabase) -> None:
    add(log_db, [NewEvent(f"bad-{i}", "order.placed.v1", f"SO-{i}", {"n": 0}) for i in range(30)])

    def reject(event: LoggedEvent, ctx: HandlerContext) -> None:
        raise PermanentError("customer missing")

    worker = Worker(log_db.engine, HandlerRegistry([("order.placed.v1", reject)]), batch_size=10)
    assert await worker.run_until_idle() == 30
    assert {status for status, _ in log_db.statuses().values()} == {"dead"}
    worker.close()


async def test_replay_one_by_filter_and_all(log_db: LogDatabase) -> None:
    clock = ManualClock()
    await _dead_letters(log_db, clock)
    with log_db.engine.connect() as connection:
        assert [letter.event_id for letter in list_dead_letters(connection)] == [
            "price-1",
            "price-2",
            "order-1",
            "order-2",
        ]
        margin = list_dead_letters(connection, DeadLetterFilter(error_contains="MARGIN"))
        assert [letter.event_id for letter in margin] == ["price-1", "price-2"]
    with log_db.engine.begin() as connection:
        assert replay_one(connection, "order-2", clock)
        assert not replay_one(connection, "order-2", clock), "no longer dead"
    with log_db.engine.begin() as connection:
        assert replay(connection, DeadLetterFilter(topic="price.released.v1", key="SKU-2"), clock) == 1
    with log_db.engine.begin() as connection:
        assert replay(connection, DeadLetterFilter(error_contains="margin floor"), clock) == 1  # price-1 left
    statuses = log_db.statuses()
    assert statuses["order-2"] == ("pending", 0) and statuses["price-1"] == ("pending", 0)
    with log_db.engine.begin() as connection:
        assert replay_all(connection, clock) == 1  # order-1 was the last dead letter
    fixed = Worker(
        log_db.engine,
        HandlerRegistry([("price.released.v1", record_effect()), ("order.placed.v1", record_effect())]),
        clock=clock,
    )
    assert await fixed.run_until_idle() == 4
    assert set(log_db.statuses().values()) == {("done", None)}
    fixed.close()


async def test_tier_one_goes_first_and_is_not_starved_by_a_batch_backlog(log_db: LogDatabase) -> None:
    clock = ManualClock()
    add(
        log_db,
        [NewEvent(f"audit-{i}", "audit.v1", f"A{i}", {"n": 0}, tier=Tier.BATCH) for i in range(300)],
        clock,
    )
    add(log_db, [NewEvent(f"stock-{i}", "stock.v1", f"S{i}", {"n": 0}) for i in range(30)], clock)
    order: list[str] = []
    handlers = HandlerRegistry(
        [
            ("audit.v1", lambda e, c: order.append(e.event_id)),
            ("stock.v1", lambda e, c: order.append(e.event_id)),
        ]
    )
    worker = Worker(log_db.engine, handlers, clock=clock, batch_size=40)
    assert await worker.run_once() == 40
    assert order[:30] == [f"stock-{i}" for i in range(30)], "tier 1 first, in log order"
    assert order[30:] == [f"audit-{i}" for i in range(10)], "the batch tier fills the remaining room"
    worker.close()


async def test_idempotency_ledger_guards_effects_and_rolls_back_with_the_batch(log_db: LogDatabase) -> None:
    clock = ManualClock()
    add(log_db, [NewEvent(f"paid-{i}", "order.paid.v1", "SO-9", {"n": i}) for i in range(3)], clock)
    external_calls: list[str] = []
    fail_once = [True]

    def confirm_order(event: LoggedEvent, ctx: HandlerContext) -> None:
        key = "odoo:confirm:SO-9"
        if ctx.claim_once(key, result="sale.order,41"):
            external_calls.append(event.event_id)
        else:
            assert ctx.recorded_result(key) == "sale.order,41"
        if event.event_id == "paid-0" and fail_once:
            fail_once.clear()
            raise PermanentError("stop here")

    worker = Worker(log_db.engine, HandlerRegistry([("order.paid.v1", confirm_order)]), clock=clock)
    assert await worker.run_until_idle() == 3
    # paid-0 failed: its ledger entry rolled back with it, so paid-1 made the call and recorded it.
    assert external_calls == ["paid-0", "paid-1"]
    with log_db.engine.begin() as connection:
        replay_one(connection, "paid-0", clock)
    assert await worker.run_until_idle() == 1
    assert external_calls == ["paid-0", "paid-1"], "the replayed event found the key in the ledger"
    worker.close()


@pytest.mark.slow
def test_selftest_crash_with_sigkilled_worker_processes(log_db: LogDatabase) -> None:
    from channelhub.engine.crash import selftest_crash

    backend = "sqlite" if log_db.backend == "sqlite" else "postgres"
    url = log_db.url if backend == "postgres" else log_db.url.replace("channelhub.db", "crash.db")
    result = selftest_crash(backend, events=3000, kills=2, url=url, lease_s=0.5)
    assert (result["lost"], result["duplicated"], result["order_violations"]) == (0, 0, 0)
    assert result["effects"] == 3000 and result["kills"] == 2


def test_crash_verdict_detects_lost_duplicated_and_reordered_effects(tmp_sqlite_url: str) -> None:
    from channelhub.engine.crash import EFFECTS_DDL, verify_effects
    from channelhub.store.db import create_store_engine, upgrade_to_head

    upgrade_to_head(tmp_sqlite_url)
    engine = create_store_engine(tmp_sqlite_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(EFFECTS_DDL["sqlite"])
        rows = [("crash-0", "k", 0), ("crash-2", "k", 2), ("crash-1", "k", 1), ("crash-2", "k", 2)]
        for event_id, key, n in rows:  # crash-3 never applied, crash-2 twice, k's 1 after its 2
            connection.exec_driver_sql(
                "INSERT INTO selftest_effect (event_id, key, n, worker) VALUES (?, ?, ?, 'w')",
                (event_id, key, n),
            )
    verdict = verify_effects(engine, events=4)
    engine.dispose()
    assert (verdict["lost"], verdict["duplicated"], verdict["order_violations"]) == (1, 1, 2)


async def test_appends_stay_deduplicated_after_handling_until_the_ids_are_purged(log_db: LogDatabase) -> None:
    clock = ManualClock()
    twice = [
        NewEvent("refund-1", "refund.v1", "SO-1", {"n": 0}),
        NewEvent("refund-1", "refund.v1", "SO-1", {"n": 0}),
    ]
    assert add(log_db, twice, clock) == 1, "a duplicate inside one append is stored once"
    worker = Worker(log_db.engine, HandlerRegistry([("refund.v1", record_effect())]), clock=clock)
    assert await worker.run_until_idle() == 1
    assert add(log_db, twice[:1], clock) == 0, "a handled event appended again is not handled again"
    assert await worker.run_until_idle() == 0
    clock.advance(3600)
    with log_db.engine.begin() as connection:
        assert purge_event_ids(connection, older_than_s=1800, clock=clock) == 1
    assert add(log_db, twice[:1], clock) == 1, "past the retention window the id is new again"
    worker.close()
