"""An idle publisher sleeps: with nothing sendable (nothing dirty, or only parked, held or
backing-off SKUs, or stale holds of SKUs that settled) `run()` makes a few passes per sweep
interval, never a busy loop. On the manual clock a busy loop does not even advance time, so the
watcher below stops it after a pass budget and the assertion fails loudly."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from channelhub.clock import ManualClock
from channelhub.connectors.errors import UnavailableError
from channelhub.engine.publisher import Publisher, PublisherSettings
from channelhub.service.fakes import FakeChannelGateway

from .conftest import Listings, make_publisher

RUN_S = 60.0
SWEEP_S = 2.0
# One pass per sweep, plus the first pass and a few for the holds that expire on the way.
BOUND = int(RUN_S / SWEEP_S) + 6
SPIN_BUDGET = 2000  # far above BOUND: stop a spinning loop instead of hanging the test


async def passes_during(publisher: Publisher, clock: ManualClock, seconds: float) -> int:
    """Run the publisher until the manual clock passed `seconds` (or it spun past the budget)."""
    stop = asyncio.Event()
    running = asyncio.create_task(publisher.run(stop))
    end = clock.monotonic() + seconds
    while clock.monotonic() < end and publisher.snapshot()["shop"]["passes"] < SPIN_BUDGET:  # noqa: ASYNC110
        await asyncio.sleep(0)  # polls the manual clock: no event marks "simulated time passed"
    stop.set()
    await asyncio.wait_for(running, 5.0)
    return int(publisher.snapshot()["shop"]["passes"])


@pytest.fixture(params=[False, True], ids=["passes", "pipeline"])
def pipeline(request: pytest.FixtureRequest) -> bool:
    """Both ways `run()` can publish must sleep when idle."""
    return bool(request.param)


def idle_publisher(
    store: sa.Engine, clock: ManualClock, shop: FakeChannelGateway, pipeline: bool
) -> Publisher:
    return make_publisher(
        store, clock, shop, sweep_interval_s=SWEEP_S, coalescing_window_s=0.0, pipeline=pipeline
    )


async def test_nothing_dirty_sleeps_between_sweeps(
    store: sa.Engine, clock: ManualClock, shop: FakeChannelGateway, pipeline: bool
) -> None:
    passes = await passes_during(idle_publisher(store, clock, shop, pipeline), clock, RUN_S)
    assert 1 <= passes <= BOUND


async def test_an_expired_raise_hold_of_a_clean_sku_is_not_due_forever(
    store: sa.Engine, clock: ManualClock, shop: FakeChannelGateway, listings: Listings, pipeline: bool
) -> None:
    shop.stock_listing("SKU-1", 5)
    listings.desire({"SKU-1": 5})
    listings.acknowledge({"SKU-1": 5})
    publisher = idle_publisher(store, clock, shop, pipeline)
    publisher.hold_raises("shop", {"SKU-1": 4}, grace_s=1.0)  # reconciliation saw a sale
    passes = await passes_during(publisher, clock, RUN_S)
    assert passes <= BOUND


async def test_a_channel_backoff_with_nothing_left_to_send_is_not_due_forever(
    store: sa.Engine, clock: ManualClock, shop: FakeChannelGateway, listings: Listings, pipeline: bool
) -> None:
    shop.stock_listing("SKU-1", 0)
    listings.desire({"SKU-1": 5})
    shop.fail_next(UnavailableError("shop down"))
    publisher = idle_publisher(store, clock, shop, pipeline)
    await publisher.publish_once("shop")  # the call fails: the channel backs off
    listings.acknowledge({"SKU-1": 5})  # ...and the SKU settles another way meanwhile
    passes = await passes_during(publisher, clock, RUN_S)
    assert passes <= BOUND + 1


async def test_parked_and_backing_off_skus_do_not_keep_it_busy(
    store: sa.Engine, clock: ManualClock, shop: FakeChannelGateway, listings: Listings, pipeline: bool
) -> None:
    for sku in ("SKU-P", "SKU-T", "SKU-GONE"):
        shop.stock_listing(sku, 0)
    shop.fail_sku("SKU-P", "listing archived")  # permanent: parked for permanent_retry_s
    shop.fail_sku("SKU-T", "busy", transient=True)  # backs off, again and again
    shop.fail_sku("SKU-GONE", "busy", transient=True)
    listings.desire({"SKU-P": 3, "SKU-T": 4, "SKU-GONE": 2})
    publisher = make_publisher(
        store,
        clock,
        shop,
        sweep_interval_s=SWEEP_S,
        coalescing_window_s=0.0,
        retry_base_delay_s=5.0,
        retry_max_delay_s=20.0,
        pipeline=pipeline,
    )
    await publisher.publish_once("shop")
    listings.acknowledge({"SKU-GONE": 2})  # settled: its expired backoff must not stay "due"
    passes = await passes_during(publisher, clock, RUN_S)
    assert passes <= BOUND + int(RUN_S / 5.0)  # the backing-off SKU is retried when due
    assert publisher.snapshot()["shop"]["skus_parked"] == 1


def test_a_sweep_interval_of_zero_is_refused() -> None:
    try:
        PublisherSettings(sweep_interval_s=0.0)
    except ValueError as error:
        assert "sweep_interval_s must be positive" in str(error)
    else:
        raise AssertionError("a zero sweep interval would spin")
