"""External (two-phase) handlers: the call to another system runs with no transaction open, the
apply step commits with the acknowledgement, failures of the call are retried or dead-lettered
like any handler's, and per-key order holds across phases."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from channelhub.clock import ManualClock
from channelhub.connectors.errors import PermanentError, TransientError
from channelhub.engine.events import LoggedEvent, NewEvent, Tier
from channelhub.engine.handlers import Apply, ExternalContext, HandlerContext, HandlerRegistry
from channelhub.engine.worker import Worker
from channelhub.store.log_tables import PARTITIONS
from tests.integration.engine.conftest import LogDatabase
from tests.integration.engine.test_engine_log_delivery import add, policy, record_effect, stream

ERP = "erp.order.sync.v1"


def last_n(ctx: ExternalContext, key: str) -> int | None:
    with ctx.read() as connection:
        statement = "SELECT max(n) FROM test_effect WHERE key = ?"
        if connection.dialect.name == "postgresql":
            statement = statement.replace("?", "%s")
        return connection.exec_driver_sql(statement, (key,)).scalar()


def external(
    seen: list[tuple[str, int, int | None]],
    fail: Callable[[LoggedEvent], Exception | None] | None = None,
    gate: asyncio.Event | None = None,
) -> Callable[[LoggedEvent, ExternalContext], Awaitable[Apply | None]]:
    """Reads the key's last applied number in phase one, records it in phase two; with `gate`,
    phase one first waits for it (the other system hangs until released)."""

    async def call(event: LoggedEvent, ctx: ExternalContext) -> Apply | None:
        if gate is not None:
            await gate.wait()
        before = last_n(ctx, event.key)
        await asyncio.sleep(0)  # "the other system answers"
        error = fail(event) if fail else None
        if error is not None:
            raise error

        def apply(hctx: HandlerContext) -> None:
            seen.append((event.key, int(event.payload["n"]), before))
            record_effect("erp")(event, hctx)

        return apply

    return call


def lane(db: LogDatabase, handlers: HandlerRegistry, clock: ManualClock, **options: object) -> Worker:
    return Worker(
        db.engine,
        handlers,
        clock=clock,
        tiers=(Tier.MINUTES,),
        partitions=range(PARTITIONS),
        retry=policy(),
        **options,  # type: ignore[arg-type]
    )


async def test_the_external_call_holds_no_transaction_so_tier_one_moves(log_db: LogDatabase) -> None:
    """The ERP lane waits on a hung Odoo; the tier-1 worker drains its work meanwhile, on SQLite
    too (where a transaction would hold the single write lock)."""
    clock = ManualClock()
    add(log_db, stream(1, 1, topic=ERP, tier=Tier.MINUTES, prefix="erp"), clock)
    add(log_db, stream(6, 2, tier=Tier.REALTIME, prefix="stock"), clock)
    release = asyncio.Event()
    hanging = external([], gate=release)
    lane_handlers = HandlerRegistry()
    lane_handlers.register_external(ERP, hanging)
    main_handlers = HandlerRegistry()
    main_handlers.register("stock.changed.v1", record_effect("main"))
    main = Worker(log_db.engine, main_handlers, clock=clock, tiers=(Tier.REALTIME, Tier.BATCH))
    erp = lane(log_db, lane_handlers, clock, batch_size=1)
    stuck = asyncio.ensure_future(erp.run_once())
    try:
        await asyncio.sleep(0.05)
        assert not stuck.done()
        assert await asyncio.wait_for(main.run_until_idle(), 10) == 6
        release.set()
        assert await stuck == 1
    finally:
        release.set()
        main.close()
        erp.close()
    assert sorted(e for e, _, _, _ in log_db.effects()) == sorted([*(f"stock{i}" for i in range(6)), "erp0"])
    assert all(status == "done" for status, _ in log_db.statuses().values())


@pytest.mark.parametrize(("batch_size", "overlap"), [(1, False), (50, False), (1, True), (50, True)])
async def test_each_call_sees_the_effects_of_its_keys_earlier_events(
    log_db: LogDatabase, batch_size: int, overlap: bool
) -> None:
    clock = ManualClock()
    add(log_db, stream(12, 3, topic=ERP, tier=Tier.MINUTES, prefix="erp"), clock)
    seen: list[tuple[str, int, int | None]] = []
    handlers = HandlerRegistry()
    handlers.register_external(ERP, external(seen))
    worker = lane(log_db, handlers, clock, batch_size=batch_size, overlap_external=overlap)
    try:
        assert await worker.run_until_idle() == 12
    finally:
        worker.close()
    for key in ("sku-0", "sku-1", "sku-2"):
        mine = [(n, before) for k, n, before in seen if k == key]
        assert [n for n, _ in mine] == [0, 1, 2, 3]
        assert [before for _, before in mine] == [None, 0, 1, 2]  # the previous event was applied


@pytest.mark.parametrize("overlap", [False, True])
async def test_a_failing_call_is_retried_or_dead_lettered_and_the_rest_commits(
    log_db: LogDatabase, overlap: bool
) -> None:
    clock = ManualClock()
    add(log_db, stream(6, 3, topic=ERP, tier=Tier.MINUTES, prefix="erp"), clock)
    calls: dict[str, int] = {}

    def fail(event: LoggedEvent) -> Exception | None:
        calls[event.event_id] = calls.get(event.event_id, 0) + 1
        if event.event_id == "erp0" and calls["erp0"] == 1:
            return TransientError("Odoo is restarting")
        if event.event_id == "erp1":
            return PermanentError("Odoo refused it")
        return None

    seen: list[tuple[str, int, int | None]] = []
    handlers = HandlerRegistry()
    handlers.register_external(ERP, external(seen, fail))
    worker = lane(log_db, handlers, clock, batch_size=10, overlap_external=overlap)
    try:
        await worker.run_until_idle()
        # erp0 (sku-0) backs off, so erp3 (sku-0) waits; erp1 (sku-1) is dead, erp4 goes on.
        assert {k for k, _, _ in seen} == {"sku-1", "sku-2"}
        statuses = log_db.statuses()
        assert statuses["erp0"] == ("pending", 1) and statuses["erp3"][0] == "pending"
        assert statuses["erp1"][0] == "dead"
        clock.advance(60)
        await worker.run_until_idle()
    finally:
        worker.close()
    assert [n for k, n, _ in seen if k == "sku-0"] == [0, 1]
    assert {e for e, (status, _) in log_db.statuses().items() if status != "done"} == {"erp1"}


async def test_an_apply_step_appends_follow_ups_and_none_means_nothing_to_write(log_db: LogDatabase) -> None:
    clock = ManualClock()
    add(log_db, [NewEvent("a", ERP, "order:1", {"n": 0}, tier=Tier.MINUTES)], clock)
    add(log_db, [NewEvent("b", ERP, "order:2", {"n": 0, "skip": True}, tier=Tier.MINUTES)], clock)

    async def call(event: LoggedEvent, ctx: ExternalContext) -> Apply | None:
        if event.payload.get("skip"):
            return None

        def apply(hctx: HandlerContext) -> None:
            record_effect("erp")(event, hctx)
            hctx.append([NewEvent("follow", "stock.changed.v1", "sku-9", {"n": 7})])

        return apply

    handlers = HandlerRegistry()
    handlers.register_external(ERP, call)
    handlers.register("stock.changed.v1", record_effect("main"))
    assert handlers.topics == [ERP, "stock.changed.v1"]
    with pytest.raises(ValueError, match="already registered"):
        handlers.register(ERP, record_effect("x"))
    worker = Worker(log_db.engine, handlers, clock=clock, partitions=range(PARTITIONS))
    try:
        assert await worker.run_until_idle() == 3
    finally:
        worker.close()
    assert [(e, k, n) for e, k, n, _ in log_db.effects()] == [("a", "order:1", 0), ("follow", "sku-9", 7)]
    assert all(status == "done" for status, _ in log_db.statuses().values())


async def test_keys_without_external_work_commit_before_the_calls_return(log_db: LogDatabase) -> None:
    """One batch: an external event on one key (its call hangs) and plain events on other keys;
    the plain keys are handled and committed at once, the external key after its call."""
    clock = ManualClock()
    add(log_db, [NewEvent("x0", ERP, "order:1", {"n": 0})], clock)
    add(log_db, stream(4, 2, prefix="stock"), clock)
    add(log_db, [NewEvent("p1", "stock.changed.v1", "order:1", {"n": 1})], clock)  # after x0, same key
    release = asyncio.Event()
    hanging = external([], gate=release)
    handlers = HandlerRegistry()
    handlers.register_external(ERP, hanging)
    handlers.register("stock.changed.v1", record_effect("main"))
    worker = Worker(log_db.engine, handlers, clock=clock, partitions=range(PARTITIONS))
    cycle = asyncio.ensure_future(worker.run_once())
    try:
        for _ in range(200):
            if len(log_db.effects()) == 4:
                break
            await asyncio.sleep(0.01)
        assert sorted(e for e, _, _, _ in log_db.effects()) == [f"stock{i}" for i in range(4)]
        assert not cycle.done()
        release.set()
        assert await cycle == 6
    finally:
        release.set()
        worker.close()
    assert [e for e, k, _, _ in log_db.effects() if k == "order:1"] == ["x0", "p1"]  # key order kept


def overlapping(db: LogDatabase, handlers: HandlerRegistry, clock: ManualClock, **options: object) -> Worker:
    """A worker of every tier and partition that does not wait for external calls."""
    return Worker(
        db.engine,
        handlers,
        clock=clock,
        partitions=range(PARTITIONS),
        overlap_external=True,
        **options,  # type: ignore[arg-type]
    )


def recorded(event: LoggedEvent) -> Apply:
    """An apply step recording `event`'s effect (worker "erp")."""

    def apply(hctx: HandlerContext) -> None:
        record_effect("erp")(event, hctx)

    return apply


def overlapping_lane(
    db: LogDatabase,
    clock: ManualClock,
    call: Callable[[LoggedEvent, ExternalContext], Awaitable[Apply | None]],
    *,
    coalesce: bool = False,
    **options: object,
) -> Worker:
    """An overlapping worker with `call` as the external handler of `ERP` and plain stock events."""
    handlers = HandlerRegistry()
    handlers.register_external(ERP, call, coalesce=coalesce)
    handlers.register("stock.changed.v1", record_effect("main"))
    return overlapping(db, handlers, clock, **options)


async def wait_for_effects(db: LogDatabase, count: int) -> list[str]:
    for _ in range(300):
        found = sorted(e for e, _, _, _ in db.effects())
        if len(found) >= count:
            return found
        await asyncio.sleep(0.01)
    return sorted(e for e, _, _, _ in db.effects())


async def test_overlapping_batches_go_on_while_a_call_hangs_and_key_order_holds(log_db: LogDatabase) -> None:
    """With `overlap_external`, events appended after a batch whose external call hangs are
    handled by the next cycles; a later event of the hung key waits for it."""
    clock = ManualClock()
    add(log_db, [NewEvent("x0", ERP, "order:1", {"n": 0})], clock)
    release = asyncio.Event()
    handlers = HandlerRegistry()
    handlers.register_external(ERP, external([], gate=release))
    handlers.register("stock.changed.v1", record_effect("main"))
    worker = overlapping(log_db, handlers, clock, batch_size=5)
    stop = asyncio.Event()
    running = asyncio.ensure_future(worker.run(stop))
    try:
        await asyncio.sleep(0.05)  # x0 is set aside, its call hangs
        add(log_db, stream(4, 2, prefix="stock"), clock)
        add(log_db, [NewEvent("p1", "stock.changed.v1", "order:1", {"n": 1})], clock)  # after x0
        assert await wait_for_effects(log_db, 4) == [f"stock{i}" for i in range(4)]
        assert "p1" not in {e for e, _, _, _ in log_db.effects()}
        release.set()
        found = await wait_for_effects(log_db, 6)
        assert found == sorted(["x0", "p1", *(f"stock{i}" for i in range(4))])
    finally:
        release.set()
        stop.set()
        await asyncio.wait_for(running, 10)
    assert [e for e, k, _, _ in log_db.effects() if k == "order:1"] == ["x0", "p1"]
    assert all(status == "done" for status, _ in log_db.statuses().values())


async def test_overlap_sets_aside_a_bounded_backlog_and_plain_events_pass_it(log_db: LogDatabase) -> None:
    """More hung external events than the backlog holds: the extra ones stay pending in the log,
    and plain events behind all of them are still handled."""
    clock = ManualClock()
    add(log_db, [NewEvent(f"x{i}", ERP, f"order:{i}", {"n": 0}) for i in range(10)], clock)
    add(log_db, stream(3, 3, prefix="stock"), clock)
    release = asyncio.Event()
    started: list[str] = []

    async def call(event: LoggedEvent, ctx: ExternalContext) -> Apply | None:
        started.append(event.event_id)
        await release.wait()
        return None

    worker = overlapping_lane(log_db, clock, call, external_concurrency=1, batch_size=4)
    try:
        for _ in range(6):
            await worker.run_once()
        await asyncio.sleep(0.05)  # the background groups start
        assert sorted(e for e, _, _, _ in log_db.effects()) == ["stock0", "stock1", "stock2"]
        assert len(worker._set_aside) == 4  # EXTERNAL_BACKLOG_FACTOR x 1
        assert started == ["x0"]  # one call at a time
        release.set()
        await worker.run_until_idle()
    finally:
        release.set()
        worker.close()
    assert sorted(started) == sorted(f"x{i}" for i in range(10))
    assert all(status == "done" for status, _ in log_db.statuses().values())


async def test_a_long_queue_on_one_key_holds_back_only_that_key(log_db: LogDatabase) -> None:
    """Many external events of one key (an Odoo quant notified again and again) while its first
    call hangs: the plain events and the other keys' external events behind them still run, and
    the key's own events follow in order once the call returns (it used to stop the lane: the
    queue filled every cycle's read and the cycle's batch came out empty)."""
    clock = ManualClock()
    add(log_db, [NewEvent(f"a{i}", ERP, "quant:A", {"n": i}) for i in range(12)], clock)
    add(log_db, [NewEvent("b0", ERP, "quant:B", {"n": 0})], clock)
    add(log_db, stream(3, 3, prefix="stock"), clock)
    release = asyncio.Event()
    started: list[str] = []

    async def call(event: LoggedEvent, ctx: ExternalContext) -> Apply | None:
        started.append(event.event_id)
        if event.key == "quant:A":
            await release.wait()
        return recorded(event)

    worker = overlapping_lane(log_db, clock, call, external_concurrency=2, batch_size=4)
    try:
        for _ in range(8):
            await worker.run_once()
            await asyncio.sleep(0.01)
        assert sorted(e for e, _, _, _ in log_db.effects()) == ["b0", "stock0", "stock1", "stock2"]
        assert started == ["a0", "b0"]  # one call of quant:A at a time; quant:B's is not behind them
        release.set()
        await worker.run_until_idle()
    finally:
        release.set()
        worker.close()
    assert [e for e, k, _, _ in log_db.effects() if k == "quant:A"] == [f"a{i}" for i in range(12)]
    assert all(status == "done" for status, _ in log_db.statuses().values())


async def test_a_coalescing_topic_answers_a_keys_queue_with_one_call(log_db: LogDatabase) -> None:
    """Twelve notifications of one record queued behind a slow first call: the next cycle makes one
    call for the rest, with the newest payload, and acknowledges them all; a plain event of the
    key between two runs keeps its place; a failed call leaves its riders pending."""
    clock = ManualClock()
    add(log_db, [NewEvent("a0", ERP, "quant:A", {"n": 0})], clock)
    release = asyncio.Event()
    calls: list[tuple[str, int]] = []

    async def call(event: LoggedEvent, ctx: ExternalContext) -> Apply | None:
        calls.append((event.event_id, int(event.payload["n"])))
        if event.event_id == "a0":
            await release.wait()
        return recorded(event)

    worker = overlapping_lane(log_db, clock, call, coalesce=True, external_concurrency=2, batch_size=8)
    try:
        await worker.run_once()  # a0's call starts and hangs
        await asyncio.sleep(0.01)
        add(log_db, [NewEvent(f"a{i}", ERP, "quant:A", {"n": i}) for i in range(1, 6)], clock)
        add(log_db, [NewEvent("p6", "stock.changed.v1", "quant:A", {"n": 6})], clock)
        add(log_db, [NewEvent(f"a{i}", ERP, "quant:A", {"n": i}) for i in range(7, 12)], clock)
        release.set()
        await worker.run_until_idle()
    finally:
        release.set()
        worker.close()
    # a0 alone; then a5 answers a1..a5; p6 in its place; a11 answers a7..a11.
    assert calls == [("a0", 0), ("a5", 5), ("a11", 11)]
    assert [e for e, k, _, _ in log_db.effects() if k == "quant:A"] == ["a0", "a5", "p6", "a11"]
    assert all(status == "done" for status, _ in log_db.statuses().values())


async def test_a_failed_coalesced_call_leaves_the_whole_queue_pending(log_db: LogDatabase) -> None:
    clock = ManualClock()
    add(log_db, [NewEvent(f"a{i}", ERP, "quant:A", {"n": i}) for i in range(4)], clock)
    failing = {"left": 1}
    calls: list[str] = []

    async def call(event: LoggedEvent, ctx: ExternalContext) -> Apply | None:
        calls.append(event.event_id)
        if failing["left"]:
            failing["left"] -= 1
            raise TransientError("Odoo is busy")
        return recorded(event)

    worker = overlapping_lane(
        log_db, clock, call, coalesce=True, external_concurrency=2, batch_size=8, retry=policy()
    )
    try:
        await worker.run_until_idle()
        assert calls == ["a3"] and log_db.effects() == []
        assert all(status == "pending" for status, _ in log_db.statuses().values())
        clock.advance(60)  # past the backoff
        await worker.run_until_idle()
    finally:
        worker.close()
    assert calls == ["a3", "a3"]
    assert [e for e, _, _, _ in log_db.effects()] == ["a3"]
    assert all(status == "done" for status, _ in log_db.statuses().values())


async def test_a_periodic_tick_is_not_appended_while_one_is_still_pending(log_db: LogDatabase) -> None:
    from channelhub.engine.outbox import append_unless_pending

    clock = ManualClock()
    tick = NewEvent("tick-1", "erp.reservations.check.v1", "erp:reservations", {"n": 0}, tier=Tier.MINUTES)
    later = NewEvent("tick-2", "erp.reservations.check.v1", "erp:reservations", {"n": 1}, tier=Tier.MINUTES)
    with log_db.engine.begin() as connection:
        assert append_unless_pending(connection, tick, clock) == 1
        assert append_unless_pending(connection, later, clock) == 0  # tick-1 still waits
    handlers = HandlerRegistry()
    handlers.register("erp.reservations.check.v1", record_effect("erp"))
    worker = lane(log_db, handlers, clock)
    try:
        assert await worker.run_until_idle() == 1
    finally:
        worker.close()
    with log_db.engine.begin() as connection:
        assert append_unless_pending(connection, later, clock) == 1  # handled: the next tick goes in
