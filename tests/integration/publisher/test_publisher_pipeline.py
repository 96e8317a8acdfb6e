"""The running publisher as a pipeline (`PublisherSettings(pipeline=True)`): a slot that frees up
serves new work while a slow call is still in the air, a SKU is never in two calls at once, and
stopping cancels the calls in the air without losing their rows (they stay dirty)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
import sqlalchemy as sa

from channelhub.clock import SystemClock
from channelhub.engine.publisher import Publisher, PublisherSettings
from channelhub.service.fakes import FakeChannelGateway
from channelhub.service.ports import PublishResult, QuantityUpdate

from .conftest import Listings
from .test_publisher_loop import eventually

SETTINGS = PublisherSettings(coalescing_window_s=0.0, sweep_interval_s=3600.0, seed=3, pipeline=True)


class GatedChannel(FakeChannelGateway):
    """A fake channel whose calls carrying a held SKU wait until it is released; it records every
    call's updates and how many calls carried one SKU at the same time."""

    def __init__(self) -> None:
        super().__init__("shop", kind="shopify", compare_and_set=True, max_quantities_per_call=1)
        self.gates: dict[str, asyncio.Event] = {}
        self.in_air: dict[str, int] = {}
        self.most_in_air: dict[str, int] = {}
        self.sent: list[list[QuantityUpdate]] = []

    def hold(self, sku: str) -> asyncio.Event:
        self.gates[sku] = asyncio.Event()
        return self.gates[sku]

    def in_flight(self, sku: str) -> bool:
        return self.in_air.get(sku, 0) > 0

    async def set_available(self, updates: Sequence[QuantityUpdate]) -> list[PublishResult]:
        self.sent.append(list(updates))
        skus = {update.sku for update in updates}
        for sku in skus:
            self.in_air[sku] = self.in_air.get(sku, 0) + 1
            self.most_in_air[sku] = max(self.most_in_air.get(sku, 0), self.in_air[sku])
        try:
            for sku in skus:
                gate = self.gates.get(sku)
                if gate is not None:
                    await gate.wait()
            return await super().set_available(updates)
        finally:
            for sku in skus:
                self.in_air[sku] -= 1


@pytest.fixture
def channel() -> GatedChannel:
    return GatedChannel()


@pytest.fixture
def shop_listings(store: sa.Engine) -> Listings:
    return Listings(store, SystemClock(), "shop")


async def start(
    store: sa.Engine, channel: GatedChannel
) -> tuple[Publisher, asyncio.Event, asyncio.Task[None]]:
    publisher = Publisher(store, [channel], clock=SystemClock(), settings=SETTINGS)
    stop = asyncio.Event()
    return publisher, stop, asyncio.create_task(publisher.run(stop))


def listed(channel: GatedChannel, listings: Listings, skus: Sequence[str], quantity: int = 10) -> None:
    """`skus` listed on the channel at `quantity`, acknowledged so."""
    for sku in skus:
        channel.stock_listing(sku, quantity)
    listings.acknowledge(dict.fromkeys(skus, quantity))


async def in_the_air(
    publisher: Publisher, channel: GatedChannel, listings: Listings, desired: dict[str, int]
) -> None:
    """Desire `desired`, wake the publisher and wait until every one of them is in a call."""
    listings.desire(desired)
    publisher.wake()
    await eventually(lambda: all(channel.in_flight(sku) for sku in desired))


async def slow_call_in_the_air(
    store: sa.Engine, channel: GatedChannel, listings: Listings, other: str, slow: dict[str, int]
) -> tuple[Publisher, asyncio.Event, asyncio.Task[None], asyncio.Event]:
    """`other` and the SKU of `slow` listed, a running publisher, and the call that sends `slow`
    held in the air; returns the publisher, its stop, its task and the call's release."""
    (sku,) = slow
    listed(channel, listings, [sku, other])
    release = channel.hold(sku)
    publisher, stop, running = await start(store, channel)
    await in_the_air(publisher, channel, listings, slow)
    return publisher, stop, running, release


async def test_a_free_slot_sends_a_sold_out_sku_while_a_slow_call_is_in_the_air(
    store: sa.Engine, channel: GatedChannel, shop_listings: Listings
) -> None:
    publisher, stop, running, release = await slow_call_in_the_air(
        store, channel, shop_listings, "HOT", {"SLOW": 4}
    )

    shop_listings.desire({"HOT": 0})  # sold out on another channel: at risk
    publisher.wake()
    await eventually(lambda: channel.quantities["HOT"] == 0)
    assert channel.in_flight("SLOW"), "the sold-out SKU waited for the slow call"
    assert shop_listings.state("HOT").acknowledged_quantity == 0

    release.set()
    await eventually(lambda: shop_listings.state("SLOW").acknowledged_quantity == 4)
    assert await publisher.wait_idle("shop", 5.0)
    stop.set()
    await asyncio.wait_for(running, 5.0)


async def test_a_sold_out_sku_jumps_the_queue_of_a_backlog(
    store: sa.Engine, channel: GatedChannel, shop_listings: Listings
) -> None:
    slow = [f"SLOW-{n}" for n in range(4)]  # one call each: every slot is taken
    backlog = [f"B-{n:02d}" for n in range(12)]
    listed(channel, shop_listings, [*slow, *backlog, "HOT"])
    releases = [channel.hold(sku) for sku in slow]
    publisher, stop, running = await start(store, channel)
    shop_listings.desire({**dict.fromkeys(slow, 1), **dict.fromkeys(backlog, 5)})
    publisher.wake()
    await eventually(lambda: all(channel.in_flight(sku) for sku in slow))
    assert len(channel.sent) == 4  # the backlog waits in the queue for a free slot

    shop_listings.desire({"HOT": 0})
    publisher.wake()
    await asyncio.sleep(0.05)
    releases[0].set()
    await eventually(lambda: len(channel.sent) >= 5)
    assert [u.sku for u in channel.sent[4]] == ["HOT"]  # before the backlog planned earlier

    for release in releases[1:]:
        release.set()
    await eventually(lambda: all(channel.quantities[sku] == 5 for sku in backlog))
    stop.set()
    await asyncio.wait_for(running, 5.0)
    assert sum(u.sku == "HOT" for call in channel.sent for u in call) == 1


async def test_a_sku_in_flight_goes_again_only_after_its_call_is_recorded(
    store: sa.Engine, channel: GatedChannel, shop_listings: Listings
) -> None:
    listed(channel, shop_listings, ["SKU-1"])
    release = channel.hold("SKU-1")
    publisher, stop, running = await start(store, channel)
    await in_the_air(publisher, channel, shop_listings, {"SKU-1": 6})
    for quantity in (5, 4, 3):  # more sales while the first call is in the air
        shop_listings.desire({"SKU-1": quantity})
        publisher.wake()
        await asyncio.sleep(0.05)
    assert len(channel.sent) == 1

    del channel.gates["SKU-1"]
    release.set()
    await eventually(lambda: shop_listings.state("SKU-1").acknowledged_quantity == 3)
    stop.set()
    await asyncio.wait_for(running, 5.0)

    assert channel.most_in_air["SKU-1"] == 1
    # The second call was planned from the first one's record: its guard is the value sent.
    assert [(u.quantity, u.expected_previous) for call in channel.sent for u in call] == [(6, 10), (3, 6)]
    assert channel.quantities["SKU-1"] == 3


async def test_publish_once_leaves_out_the_skus_the_pipeline_has_in_flight(
    store: sa.Engine, channel: GatedChannel, shop_listings: Listings
) -> None:
    publisher, stop, running, release = await slow_call_in_the_air(
        store, channel, shop_listings, "OTHER", {"SLOW": 2}
    )

    shop_listings.desire({"OTHER": 7})
    once = await publisher.publish_once("shop")  # what reconciliation does
    assert once.sent == 1 and channel.quantities["OTHER"] == 7
    assert channel.most_in_air["SLOW"] == 1

    release.set()
    await eventually(lambda: shop_listings.state("SLOW").acknowledged_quantity == 2)
    stop.set()
    await asyncio.wait_for(running, 5.0)


async def test_stopping_cancels_the_calls_in_the_air_and_their_rows_stay_dirty(
    store: sa.Engine, channel: GatedChannel, shop_listings: Listings
) -> None:
    listed(channel, shop_listings, ["SKU-1"])
    channel.hold("SKU-1")  # never released
    publisher, stop, running = await start(store, channel)
    await in_the_air(publisher, channel, shop_listings, {"SKU-1": 1})

    stop.set()
    await asyncio.wait_for(running, 5.0)
    state = shop_listings.state("SKU-1")
    assert (state.desired_quantity, state.acknowledged_quantity) == (1, 10)
    assert shop_listings.dirty_count() == 1

    # The next run sends it again.
    del channel.gates["SKU-1"]
    publisher, stop, running = await start(store, channel)
    await eventually(lambda: shop_listings.state("SKU-1").acknowledged_quantity == 1)
    stop.set()
    await asyncio.wait_for(running, 5.0)
