"""The durable log on SQLite and PostgreSQL: outbox, order, leases, retries, dead letters, tiers."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from channelhub.clock import ManualClock
from channelhub.connectors.errors import PermanentError, TransientError
from channelhub.engine.events import LoggedEvent, NewEvent, Tier
from channelhub.engine.handlers import HandlerContext, HandlerRegistry, is_retryable
from channelhub.engine.outbox import append
from channelhub.engine.worker import Worker, WorkerThread
from channelhub.resilience import RetryPolicy
from tests.integration.engine.conftest import LogDatabase

TOPIC = "stock.changed.v1"


def record_effect(worker: str = "w") -> Callable[[LoggedEvent, HandlerContext], None]:
    def handler(event: LoggedEvent, ctx: HandlerContext) -> None:
        statement = "INSERT INTO test_effect (event_id, key, n, worker) VALUES (?, ?, ?, ?)"
        if ctx.connection.dialect.name == "postgresql":
            statement = statement.replace("?", "%s")
        ctx.connection.exec_driver_sql(statement, (event.event_id, event.key, event.payload["n"], worker))

    return handler


def add(db: LogDatabase, events: list[NewEvent], clock: ManualClock | None = None) -> int:
    with db.engine.begin() as connection:
        return append(connection, events, clock or ManualClock())


def stream(
    count: int, keys: int, topic: str = TOPIC, tier: Tier = Tier.REALTIME, prefix: str = "e"
) -> list[NewEvent]:
    numbers: dict[str, int] = {}
    events = []
    for index in range(count):
        key = f"sku-{index % keys}"
        numbers[key] = numbers.get(key, -1) + 1
        events.append(NewEvent(f"{prefix}{index}", topic, key, {"n": numbers[key]}, tier=tier))
    return events


def policy(max_attempts: int = 3) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=max_attempts,
        base_delay=1.0,
        max_delay=10.0,
        rng=random.Random(3),
        is_retryable=is_retryable,
    )


async def test_outbox_commits_state_and_events_together_or_not_at_all(log_db: LogDatabase) -> None:
    with log_db.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE test_state (sku VARCHAR(50) PRIMARY KEY, on_hand INTEGER)")

    def change_stock(fail: bool) -> None:
        with log_db.engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO test_state VALUES ('A', 5)"))
            append(connection, [NewEvent("stock-A-1", TOPIC, "A", {"n": 0})])
            if fail:
                raise RuntimeError("the use case failed after emitting")

    with pytest.raises(RuntimeError):
        change_stock(fail=True)
    with log_db.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM test_state").scalar_one() == 0
    assert log_db.statuses() == {}

    change_stock(fail=False)
    assert log_db.statuses() == {"stock-A-1": ("pending", 0)}
    # The same event appended again (a redelivered webhook) is stored once.
    assert add(log_db, [NewEvent("stock-A-1", TOPIC, "A", {"n": 0})]) == 0
    assert len(log_db.statuses()) == 1


async def test_per_key_order_holds_with_two_concurrent_workers(log_db: LogDatabase) -> None:
    workers = [
        Worker(
            log_db.engine,
            HandlerRegistry([(TOPIC, record_effect(name))]),
            batch_size=15,
            lease_s=3.0,
            poll_interval_s=0.005,
        )
        for name in ("w1", "w2")
    ]
    threads = [WorkerThread(worker).start() for worker in workers]
    for _ in range(200):  # the second worker registers, the first gives back half the partitions
        if all(len(worker.leases.owned) == 16 for worker in workers):
            break
        await asyncio.sleep(0.05)
    add(log_db, stream(600, keys=12))
    for _ in range(600):
        if len(log_db.effects()) >= 600:
            break
        await asyncio.sleep(0.05)
    for thread in threads:
        thread.stop()
    assert all(worker.leases.owned == [] for worker in workers), "stopping releases the partitions"
    effects = log_db.effects()
    assert sorted(event_id for event_id, *_ in effects) == sorted(f"e{i}" for i in range(600))
    last: dict[str, int] = {}
    for _, key, n, _worker in effects:
        assert n == last.get(key, -1) + 1, f"{key} handled out of order"
        last[key] = n
    assert {worker for *_, worker in effects} == {"w1", "w2"}, "both workers should share the keys"


async def test_crashed_workers_partitions_are_taken_over_after_lease_expiry(log_db: LogDatabase) -> None:
    clock = ManualClock()
    add(log_db, stream(40, keys=8), clock)
    crashed = Worker(
        log_db.engine, HandlerRegistry([(TOPIC, record_effect("crashed"))]), clock=clock, lease_s=10.0
    )
    crashed.leases.maintain(crashed._connect(), clock.now().timestamp())  # claims, then "dies"
    assert len(crashed.leases.owned) == 32
    successor = Worker(
        log_db.engine, HandlerRegistry([(TOPIC, record_effect("successor"))]), clock=clock, lease_s=10.0
    )
    assert await successor.run_until_idle() == 0, "leased partitions must not be touched"
    clock.advance(10.5)
    assert await successor.run_until_idle() == 40
    assert {worker for *_, worker in log_db.effects()} == {"successor"}
    # The old owner wakes up: its renewal finds the partitions gone and it handles nothing.
    assert await crashed.run_once() == 0
    assert crashed.leases.owned == []
    crashed.close()
    successor.close()


async def test_stalled_worker_cannot_commit_a_batch_another_worker_took_over(log_db: LogDatabase) -> None:
    if log_db.backend == "sqlite":
        pytest.skip("SQLite runs one write transaction at a time: two batches cannot overlap")
    clock = ManualClock()
    add(log_db, stream(5, keys=1), clock)
    successor = Worker(
        log_db.engine, HandlerRegistry([(TOPIC, record_effect("successor"))]), clock=clock, lease_s=5.0
    )
    took_over: list[int] = []

    async def stall_then_lose_lease(event: LoggedEvent, ctx: HandlerContext) -> None:
        record_effect("stalled")(event, ctx)
        if not took_over:
            clock.advance(6.0)  # the stalled worker's lease runs out meanwhile
            took_over.append(await successor.run_until_idle())

    stalled = Worker(
        log_db.engine, HandlerRegistry([(TOPIC, stall_then_lose_lease)]), clock=clock, lease_s=5.0
    )
    assert await stalled.run_once() == 0  # its batch rolled back: the acknowledgement no longer matched
    assert took_over == [5]
    assert [worker for *_, worker in log_db.effects()] == ["successor"] * 5
    stalled.close()
    successor.close()


async def test_transient_errors_retry_with_backoff_while_the_key_waits_then_dead_letter(
    log_db: LogDatabase,
) -> None:
    clock = ManualClock()
    add(
        log_db,
        [
            NewEvent("first", TOPIC, "A", {"n": 0}),
            NewEvent("second", TOPIC, "A", {"n": 1}),
            NewEvent("other", TOPIC, "B", {"n": 0}),
        ],
        clock,
    )
    effect = record_effect()

    def flaky(event: LoggedEvent, ctx: HandlerContext) -> None:
        if event.event_id == "first":
            raise TransientError("Odoo is busy", system="odoo")
        effect(event, ctx)

    worker = Worker(log_db.engine, HandlerRegistry([(TOPIC, flaky)]), clock=clock, retry=policy(3))
    # One retry scheduled, B handled; A's second event waits behind the first.
    assert await worker.run_until_idle() == 2
    assert log_db.statuses()["second"] == ("pending", 0)
    for _ in range(3):
        clock.advance(11)  # past the largest backoff of this policy
        await worker.run_until_idle()
    statuses = log_db.statuses()
    assert statuses["first"] == ("dead", 3)
    assert statuses["second"] == ("done", None), "the key moves on once its head is dead-lettered"
    assert [event_id for event_id, *_ in log_db.effects()] == ["other", "second"]
    from channelhub.engine.dead_letters import list_dead_letters

    with log_db.engine.connect() as connection:
        (letter,) = list_dead_letters(connection)
    assert letter.event_id == "first" and letter.attempts == 3
    assert "gave up after 3 attempts" in letter.reason and "Odoo is busy" in letter.last_error
    worker.close()


async def test_permanent_error_dead_letters_at_once_and_the_rest_of_the_batch_commits(
    log_db: LogDatabase,
) -> None:
    clock = ManualClock()
    add(log_db, stream(20, keys=4), clock)
    effect = record_effect()

    def rejects_e5(event: LoggedEvent, ctx: HandlerContext) -> None:
        effect(event, ctx)
        if event.event_id == "e5":
            raise PermanentError("SKU unknown to Shopify", system="shopify")

    worker = Worker(log_db.engine, HandlerRegistry([(TOPIC, rejects_e5)]), clock=clock, retry=policy(5))
    assert await worker.run_until_idle() == 20  # 19 acknowledged, 1 dead-lettered
    statuses = log_db.statuses()
    assert statuses["e5"] == ("dead", 1)
    handled = [event_id for event_id, *_ in log_db.effects()]
    assert sorted(handled) == sorted(f"e{i}" for i in range(20) if i != 5), "e5's effect rolled back"
    assert len(handled) == len(set(handled)), "effects of the retried batch were not applied twice"
    worker.close()


async def test_a_payload_that_is_not_json_is_refused_with_the_event_named(log_db: LogDatabase) -> None:
    from decimal import Decimal

    from channelhub.engine.events import EventError

    with pytest.raises(EventError, match="price-7"), log_db.engine.begin() as connection:
        append(connection, [NewEvent("price-7", TOPIC, "SKU-7", {"amount": object()})])
    # Money stays exact: Decimal is stored as its string.
    add(log_db, [NewEvent("price-8", TOPIC, "SKU-8", {"amount": Decimal("19.90")})])
    seen: list[object] = []
    worker = Worker(log_db.engine, HandlerRegistry([(TOPIC, lambda event, ctx: seen.append(event.payload))]))
    assert await worker.run_until_idle() == 1
    assert seen == [{"amount": "19.90"}]
    worker.close()


async def test_a_delayed_event_holds_back_its_key_but_not_others(log_db: LogDatabase) -> None:
    clock = ManualClock()
    add(
        log_db,
        [
            NewEvent("release-price", "price.release.v1", "SKU-1", {"n": 0}, delay_s=60.0),
            NewEvent("after-release", TOPIC, "SKU-1", {"n": 1}),
            NewEvent("other-sku", TOPIC, "SKU-2", {"n": 0}),
        ],
        clock,
    )
    effect = record_effect()
    worker = Worker(
        log_db.engine, HandlerRegistry([(TOPIC, effect), ("price.release.v1", effect)]), clock=clock
    )
    assert await worker.run_until_idle() == 1
    clock.advance(61)
    assert await worker.run_until_idle() == 2
    assert [event_id for event_id, *_ in log_db.effects()] == ["other-sku", "release-price", "after-release"]
    worker.close()


async def test_an_event_without_a_handler_is_dead_lettered_with_the_topic_named(log_db: LogDatabase) -> None:
    add(log_db, [NewEvent("x-1", "return.received.v1", "RMA-1", {"n": 0})])
    worker = Worker(log_db.engine, HandlerRegistry([(TOPIC, record_effect())]))
    assert await worker.run_until_idle() == 1
    from channelhub.engine.dead_letters import list_dead_letters

    with log_db.engine.connect() as connection:
        (letter,) = list_dead_letters(connection)
    assert letter.attempts == 1 and "return.received.v1" in letter.last_error
    worker.close()
