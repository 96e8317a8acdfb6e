"""Worker lanes: a worker restricted to some tiers (the ERP lane: tier 2 only, fixed partitions)
never takes the other tiers' events, and a slow lane does not hold back tier 1."""

from __future__ import annotations

import asyncio

import pytest

from channelhub.clock import ManualClock
from channelhub.engine.events import LoggedEvent, Tier
from channelhub.engine.handlers import HandlerContext, HandlerRegistry
from channelhub.engine.worker import Worker
from channelhub.store.log_tables import PARTITIONS
from tests.integration.engine.conftest import LogDatabase
from tests.integration.engine.test_engine_log_delivery import add, record_effect, stream


def registry(worker: str) -> HandlerRegistry:
    handlers = HandlerRegistry()
    handlers.register("stock.changed.v1", record_effect(worker))
    handlers.register("erp.order.sync.v1", record_effect(worker))
    return handlers


def test_worker_refuses_unknown_tiers(log_db: LogDatabase) -> None:
    with pytest.raises(ValueError, match="tiers"):
        Worker(log_db.engine, HandlerRegistry(), tiers=(4,))
    with pytest.raises(ValueError, match="tiers"):
        Worker(log_db.engine, HandlerRegistry(), tiers=())


async def test_each_lane_handles_only_its_tiers_in_key_order(log_db: LogDatabase) -> None:
    clock = ManualClock()
    add(log_db, stream(12, 3, tier=Tier.REALTIME, prefix="stock"), clock)
    add(log_db, stream(9, 3, topic="erp.order.sync.v1", tier=Tier.MINUTES, prefix="erp"), clock)
    main = Worker(log_db.engine, registry("main"), clock=clock, tiers=(Tier.REALTIME, Tier.BATCH))
    lane = Worker(
        log_db.engine,
        registry("erp"),
        clock=clock,
        batch_size=1,
        tiers=(Tier.MINUTES,),
        partitions=range(PARTITIONS),
    )
    try:
        assert await main.run_until_idle() == 12
        assert {row[0][:5] for row in log_db.effects()} == {"stock"}
        assert await lane.run_until_idle() == 9
    finally:
        main.close()
        lane.close()
    effects = log_db.effects()
    assert {event_id for event_id, _, _, worker in effects if worker == "erp"} == {
        f"erp{i}" for i in range(9)
    }
    assert all(event_id.startswith("stock") for event_id, _, _, worker in effects if worker == "main")
    for worker in ("main", "erp"):
        for key in ("sku-0", "sku-1", "sku-2"):
            numbers = [n for _, k, n, w in effects if w == worker and k == key]
            assert numbers == sorted(numbers) and numbers
    assert all(status == "done" for status, _ in log_db.statuses().values())


async def test_a_slow_erp_lane_does_not_hold_back_tier_one(log_db: LogDatabase) -> None:
    """The ERP lane is stuck in a handler (Odoo hangs); the tier-1 worker still drains its work."""
    if log_db.backend == "sqlite":
        pytest.skip("on SQLite a batch in progress holds the single write lock (hence batches of one)")
    clock = ManualClock()
    add(log_db, stream(1, 1, topic="erp.order.sync.v1", tier=Tier.MINUTES, prefix="erp"), clock)
    add(log_db, stream(6, 2, tier=Tier.REALTIME, prefix="stock"), clock)
    release = asyncio.Event()

    async def hanging_sync(event: LoggedEvent, ctx: HandlerContext) -> None:
        await release.wait()

    lane_handlers = HandlerRegistry()
    lane_handlers.register("erp.order.sync.v1", hanging_sync)
    main = Worker(log_db.engine, registry("main"), clock=clock, tiers=(Tier.REALTIME, Tier.BATCH))
    lane = Worker(
        log_db.engine, lane_handlers, clock=clock, tiers=(Tier.MINUTES,), partitions=range(PARTITIONS)
    )
    stuck = asyncio.ensure_future(lane.run_once())
    try:
        await asyncio.sleep(0.05)
        assert not stuck.done()
        assert await main.run_until_idle() == 6
        release.set()
        assert await stuck == 1
    finally:
        release.set()
        main.close()
        lane.close()
    assert sorted(event_id for event_id, _, _, _ in log_db.effects()) == sorted(f"stock{i}" for i in range(6))
