"""The publisher's asyncio loop: woken by commits (and from other threads), one task per channel,
stops cleanly."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from channelhub.clock import SystemClock
from channelhub.domain import Sku
from channelhub.engine.events import LoggedEvent, NewEvent
from channelhub.engine.handlers import HandlerContext, HandlerRegistry
from channelhub.engine.outbox import append
from channelhub.engine.publisher import Publisher, PublisherSettings
from channelhub.engine.worker import Worker
from channelhub.service.fakes import FakeChannelGateway
from channelhub.store.repositories import StateRepositories

from .conftest import Listings

# The sweep is far away: only a wake-up can make these tests pass within their wait.
SETTINGS = PublisherSettings(coalescing_window_s=0.02, sweep_interval_s=3600.0, seed=1)


async def eventually(condition: Callable[[], bool], within_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail("condition not reached")
        await asyncio.sleep(0.01)


async def test_a_commit_wakes_every_channel_and_stop_ends_the_loop(store: sa.Engine) -> None:
    clock = SystemClock()
    shop, web = FakeChannelGateway("shop"), FakeChannelGateway("web", compare_and_set=False)
    for gateway in (shop, web):
        gateway.stock_listing("SKU-1", 0)
    publisher = Publisher(store, [shop, web], clock=clock, settings=SETTINGS)
    stop = asyncio.Event()
    running = asyncio.create_task(publisher.run(stop))
    await eventually(lambda: publisher.snapshot()["shop"]["passes"] >= 1)

    Listings(store, clock, "shop").desire({"SKU-1": 7})
    Listings(store, clock, "web").desire({"SKU-1": 4})
    publisher.on_committed(["an event"], 0.0)
    await eventually(lambda: shop.quantities["SKU-1"] == 7 and web.quantities["SKU-1"] == 4)
    assert await publisher.wait_idle("shop", 5.0)

    stop.set()
    await asyncio.wait_for(running, 5.0)
    assert shop.calls.count("set_available") == 1  # the burst was one pass per channel


async def test_wake_from_another_thread_reaches_the_loop(store: sa.Engine) -> None:
    clock = SystemClock()
    shop = FakeChannelGateway("shop")
    shop.stock_listing("SKU-1", 0)
    publisher = Publisher(store, [shop], clock=clock, settings=SETTINGS)
    stop = asyncio.Event()
    running = asyncio.create_task(publisher.run(stop))
    await eventually(lambda: publisher.snapshot()["shop"]["passes"] >= 1)

    Listings(store, clock, "shop").desire({"SKU-1": 3})
    thread = threading.Thread(target=publisher.wake, args=("shop",))
    thread.start()
    thread.join()
    await eventually(lambda: shop.quantities["SKU-1"] == 3)

    stop.set()
    await asyncio.wait_for(running, 5.0)


def test_waking_an_unknown_channel_is_refused(store: sa.Engine) -> None:
    publisher = Publisher(store, [FakeChannelGateway("shop")], settings=SETTINGS)
    with pytest.raises(KeyError, match="no gateway for channel 'amazon'"):
        publisher.wake("amazon")


def test_settings_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="scan_limit"):
        PublisherSettings(scan_limit=0)
    with pytest.raises(ValueError, match="coalescing_window_s"):
        PublisherSettings(coalescing_window_s=-1)


async def test_the_durable_log_worker_wakes_the_publisher_after_each_commit(store: sa.Engine) -> None:
    """The wiring the app uses: a handler changes desired values in the worker's transaction,
    `Worker(on_committed=publisher.on_committed)` wakes the publisher once it is committed."""
    clock = SystemClock()
    shop = FakeChannelGateway("shop")
    shop.stock_listing("SKU-1", 10)
    publisher = Publisher(store, [shop], clock=clock, settings=SETTINGS)
    handlers = HandlerRegistry()

    async def stock_changed(event: LoggedEvent, ctx: HandlerContext) -> None:
        StateRepositories.on(ctx.connection).listings.set_desired_quantities(
            [("shop", Sku(event.key), int(event.payload["available"]))], ctx.clock.now()
        )

    handlers.register("test.stock.changed.v1", stock_changed)
    worker = Worker(store, handlers, clock=clock, on_committed=publisher.on_committed)
    stop = asyncio.Event()
    running = [asyncio.create_task(publisher.run(stop)), asyncio.create_task(worker.run(stop))]
    await eventually(lambda: publisher.snapshot()["shop"]["passes"] >= 1)

    with store.begin() as connection:
        append(
            connection,
            [
                NewEvent(f"stock-{n}", "test.stock.changed.v1", "SKU-1", {"available": 9 - n})
                for n in range(5)
            ],
            clock,
        )
    await eventually(lambda: shop.quantities["SKU-1"] == 5)

    stop.set()
    await asyncio.wait_for(asyncio.gather(*running), 10.0)
    worker.close()
    assert [u.quantity for u in shop.published][-1] == 5 and not Listings(store, clock, "shop").state(
        "SKU-1"
    ).dirty
