"""The publisher over a real SQLite store and the in-memory channel: coalescing, batching, risk
order, compare-and-set conflicts, failures, acknowledgements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa

from channelhub.clock import ManualClock
from channelhub.connectors.errors import AuthenticationError, UnavailableError
from channelhub.engine.publisher import Publisher, PublisherSettings
from channelhub.service.fakes import FakeChannelGateway
from channelhub.service.ports import PublishResult, PublishStatus, QuantityUpdate

from .conftest import Listings, make_publisher


class BatchRecordingGateway(FakeChannelGateway):
    """The fake channel, remembering the SKUs of every call."""

    def __init__(self, name: str, **options: object) -> None:
        super().__init__(name, **options)  # type: ignore[arg-type]
        self.batches: list[list[str]] = []

    async def set_available(self, updates: Sequence[QuantityUpdate]) -> list[PublishResult]:
        self.batches.append([update.sku for update in updates])
        return await super().set_available(updates)


async def test_a_burst_of_100_changes_on_one_sku_is_one_update_of_the_latest_value(
    store: sa.Engine, clock: ManualClock, shop: FakeChannelGateway, listings: Listings
) -> None:
    shop.stock_listing("HOT-1", 150)
    listings.acknowledge({"HOT-1": 150})
    first_change = clock.now()
    for remaining in range(149, 49, -1):  # 100 sales, one desired change each
        listings.desire({"HOT-1": remaining})
        clock.advance(0.01)
    publisher = make_publisher(store, clock, shop)

    result = await publisher.publish_once("shop")

    assert (result.sent, result.applied, result.calls) == (1, 1, 1)
    assert shop.published == [QuantityUpdate("HOT-1", 50, expected_previous=150)]
    state = listings.state("HOT-1")
    assert (state.desired_quantity, state.acknowledged_quantity, state.dirty) == (50, 50, False)
    assert state.desired_at == first_change and state.acknowledged_at == clock.now()
    assert (state.acknowledged_at - state.desired_at) == timedelta(seconds=1.0)
    assert publisher.snapshot()["shop"]["propagation_p50_ms"] == 1000.0
    assert (await publisher.publish_once("shop")).sent == 0  # nothing left: no call at all
    assert shop.calls.count("set_available") == 1


async def test_batches_respect_the_channel_limit_and_passes_are_bounded(
    store: sa.Engine, clock: ManualClock, listings: Listings
) -> None:
    shop = BatchRecordingGateway("shop", max_quantities_per_call=50)
    skus = [f"SKU-{n:03d}" for n in range(120)]
    for sku in skus:
        shop.stock_listing(sku, 0)
    listings.desire({sku: 10 for sku in skus})
    publisher = make_publisher(store, clock, shop, max_batches_per_pass=2)

    first = await publisher.publish_once("shop")
    assert (first.calls, first.sent, first.more) == (2, 100, True)
    assert publisher.backlog() == {"shop": 20}
    rest = await publisher.publish_until_clean("shop")

    assert [len(batch) for batch in shop.batches] == [50, 50, 20]
    assert sorted(sku for batch in shop.batches for sku in batch) == skus
    assert rest.sent == 20 and not rest.more
    assert listings.dirty_count() == 0 and all(shop.quantities[sku] == 10 for sku in skus)
    assert publisher.backlog() == {"shop": 0}


async def test_riskiest_updates_go_first(
    store: sa.Engine, clock: ManualClock, shop: FakeChannelGateway, listings: Listings
) -> None:
    before = {"RESTOCK": 5, "SOLD-OUT": 8, "DROPPING": 40, "LOW": 2, "FIRST": 0}
    for sku, quantity in before.items():
        shop.stock_listing(sku, quantity)
    listings.acknowledge({sku: q for sku, q in before.items() if sku != "FIRST"})
    listings.desire({"RESTOCK": 30})
    clock.advance(1)
    listings.desire({"FIRST": 25})
    clock.advance(1)
    listings.desire({"DROPPING": 20, "SOLD-OUT": 0, "LOW": 3})
    publisher = make_publisher(store, clock, shop)

    await publisher.publish_once("shop")

    # At risk (near zero or dropping), smallest first; then the rest, longest waiting first.
    assert [u.sku for u in shop.published] == ["SOLD-OUT", "LOW", "DROPPING", "RESTOCK", "FIRST"]


async def test_a_sku_selling_during_a_bulk_rewrite_goes_in_the_first_call(
    store: sa.Engine, clock: ManualClock, listings: Listings
) -> None:
    """A warehouse goes offline: 40 SKUs drop to 10 (a rewrite of several calls). An order comes
    for a SKU the rewrite would reach last (it sorts last and drops the least): named as selling
    now, it rides in the first call, right after the SKUs near zero."""
    shop = BatchRecordingGateway("shop", kind="shopify", max_quantities_per_call=4, max_in_flight=1)
    rewrite = [f"R-{n:02d}" for n in range(40)]
    for sku in [*rewrite, "Z-SOLD"]:
        shop.stock_listing(sku, 50)
    listings.acknowledge(dict.fromkeys([*rewrite, "Z-SOLD"], 50))
    listings.desire({**dict.fromkeys(rewrite, 10), "Z-SOLD": 40, "R-39": 2})
    clock.advance(1)
    listings.desire({"Z-SOLD": 39})  # the order
    publisher = make_publisher(store, clock, shop, max_batches_per_pass=1)

    publisher.wake(selling=["Z-SOLD"])
    await publisher.publish_once("shop")
    assert shop.batches == [["R-39", "Z-SOLD", "R-00", "R-01"]]  # near zero, selling, the rest

    await publisher.publish_once("shop")  # a hint is used once: the rewrite goes on in its order
    assert shop.batches[1] == ["R-02", "R-03", "R-04", "R-05"]
    unhinted = make_publisher(store, clock, shop, max_batches_per_pass=1)
    listings.desire({"Z-SOLD": 38})
    await unhinted.publish_once("shop")
    assert "Z-SOLD" not in shop.batches[2]  # without the hint it waits for the rewrite


async def test_a_fast_seller_goes_before_routine_updates(
    store: sa.Engine, clock: ManualClock, shop: FakeChannelGateway, listings: Listings
) -> None:
    for sku in ("FAST", "SLOW"):
        shop.stock_listing(sku, 100)
    listings.acknowledge({"FAST": 100, "SLOW": 100})
    publisher = make_publisher(store, clock, shop)
    listings.desire({"FAST": 80})  # 20 units sold: publisher sees the drop
    await publisher.publish_once("shop")
    clock.advance(5)
    listings.desire({"SLOW": 120})
    clock.advance(1)
    listings.desire({"FAST": 90})  # a receipt: not at risk, but it sold 20 units a moment ago

    await publisher.publish_once("shop")

    assert [u.sku for u in shop.published] == ["FAST", "FAST", "SLOW"]


async def test_a_storefront_sale_makes_a_conflict_and_the_next_pass_sends_from_the_truth(
    store: sa.Engine, clock: ManualClock, shop: FakeChannelGateway, listings: Listings
) -> None:
    shop.stock_listing("TEE", 10)
    listings.acknowledge({"TEE": 10})
    listings.desire({"TEE": 8})  # an Odoo adjustment
    shop.storefront_sale("TEE", 1)  # meanwhile a shopper buys one on the channel
    publisher = make_publisher(store, clock, shop)

    first = await publisher.publish_once("shop")

    assert (first.conflicts, first.applied, first.more) == (1, 0, True)
    state = listings.state("TEE")
    assert (state.acknowledged_quantity, state.dirty) == (9, True)  # the channel's real value
    second = await publisher.publish_once("shop")
    assert second.applied == 1
    assert shop.published[-1] == QuantityUpdate("TEE", 8, expected_previous=9)
    assert shop.quantities["TEE"] == 8 and not listings.state("TEE").dirty
    assert publisher.snapshot()["shop"]["conflicts"] == 1


async def test_after_a_conflict_a_raise_waits_for_the_sale_to_be_ingested(
    store: sa.Engine, clock: ManualClock, shop: FakeChannelGateway, listings: Listings
) -> None:
    shop.stock_listing("TEE", 10)
    listings.acknowledge({"TEE": 10})
    listings.desire({"TEE": 20})  # a receipt
    shop.storefront_sale("TEE", 1)
    publisher = make_publisher(store, clock, shop, conflict_grace_s=5.0)

    assert (await publisher.publish_once("shop")).conflicts == 1
    held = await publisher.publish_once("shop")
    assert (held.sent, held.held) == (0, 1) and held.next_due is not None
    assert shop.quantities["TEE"] == 9  # the sold unit is not put back on sale

    listings.desire({"TEE": 19})  # the storefront order arrived: desired now counts it
    clock.advance(5)
    await publisher.publish_until_clean("shop")
    assert shop.quantities["TEE"] == 19 and not listings.state("TEE").dirty


async def test_a_lowering_after_a_conflict_is_not_held_back(
    store: sa.Engine, clock: ManualClock, shop: FakeChannelGateway, listings: Listings
) -> None:
    shop.stock_listing("TEE", 10)
    listings.acknowledge({"TEE": 10})
    listings.desire({"TEE": 12})
    shop.storefront_sale("TEE", 3)
    publisher = make_publisher(store, clock, shop, conflict_grace_s=60.0)
    await publisher.publish_once("shop")

    listings.desire({"TEE": 4})  # Odoo stock dropped below what the channel shows
    result = await publisher.publish_once("shop")

    assert result.applied == 1 and shop.quantities["TEE"] == 4


async def test_a_transient_failure_backs_the_sku_off_and_is_retried(
    store: sa.Engine, clock: ManualClock, shop: FakeChannelGateway, listings: Listings
) -> None:
    for sku in ("FLAKY", "FINE"):
        shop.stock_listing(sku, 1)
    listings.desire({"FLAKY": 5, "FINE": 6})
    shop.fail_sku("FLAKY", "503 from the shop", transient=True)
    publisher = make_publisher(store, clock, shop, retry_base_delay_s=1.0, retry_max_delay_s=1.0)

    first = await publisher.publish_once("shop")
    assert (first.applied, first.failed) == (1, 1) and shop.quantities["FINE"] == 6
    flaky = listings.state("FLAKY")
    assert flaky.dirty and flaky.last_error is not None and "503" in flaky.last_error

    del shop.failing_skus["FLAKY"]
    assert (await publisher.publish_once("shop")).held == 1  # still backing off: no call
    clock.advance(1.0)
    retried = await publisher.publish_once("shop")
    assert retried.applied == 1 and shop.quantities["FLAKY"] == 5
    flaky = listings.state("FLAKY")
    assert not flaky.dirty and flaky.last_error is None


async def test_a_failed_call_backs_the_channel_off_and_loses_nothing(
    store: sa.Engine, clock: ManualClock, shop: FakeChannelGateway, listings: Listings
) -> None:
    shop.stock_listing("SKU-1", 0)
    listings.desire({"SKU-1": 3})
    shop.fail_next(UnavailableError("connection refused", system="shopify"))
    publisher = make_publisher(store, clock, shop, retry_base_delay_s=2.0, retry_max_delay_s=2.0)

    failed = await publisher.publish_once("shop")
    assert (failed.failed, failed.more) == (1, False) and failed.next_due is not None
    assert listings.state("SKU-1").dirty
    waiting = await publisher.publish_once("shop")
    assert waiting.calls == 0 and shop.calls.count("set_available") == 1

    clock.advance(2.0)
    assert (await publisher.publish_once("shop")).applied == 1
    snapshot = publisher.snapshot()["shop"]
    assert snapshot["call_failures"] == 1 and "connection refused" in snapshot["last_error"]


async def test_bad_credentials_back_off_for_the_longest_delay(
    store: sa.Engine, clock: ManualClock, shop: FakeChannelGateway, listings: Listings
) -> None:
    shop.stock_listing("SKU-1", 0)
    listings.desire({"SKU-1": 3})
    shop.fail_next(AuthenticationError("401", system="shopify"))
    publisher = make_publisher(store, clock, shop, retry_base_delay_s=0.1, retry_max_delay_s=30.0)

    failed = await publisher.publish_once("shop")

    assert failed.next_due == clock.monotonic() + 30.0


async def test_a_permanent_failure_is_recorded_without_blocking_others(
    store: sa.Engine, clock: ManualClock, shop: FakeChannelGateway, listings: Listings
) -> None:
    for sku in ("BROKEN", "OK-1", "OK-2"):
        shop.stock_listing(sku, 0)
    listings.desire({"BROKEN": 0, "OK-1": 4, "OK-2": 5, "NOT-LISTED": 2})
    shop.fail_sku("BROKEN", "inventory not tracked")
    publisher = make_publisher(store, clock, shop, permanent_retry_s=600.0)

    result = await publisher.publish_once("shop")

    assert (result.applied, result.failed) == (2, 2)
    assert shop.quantities["OK-1"] == 4 and shop.quantities["OK-2"] == 5
    broken, unlisted = listings.state("BROKEN"), listings.state("NOT-LISTED")
    assert broken.dirty and "inventory not tracked" in (broken.last_error or "")
    assert unlisted.dirty and "not listed" in (unlisted.last_error or "")
    parked = await publisher.publish_once("shop")
    assert (parked.sent, parked.held) == (0, 2)  # not hammered

    listings.desire({"BROKEN": 1})  # a new desired value is worth another try
    del shop.failing_skus["BROKEN"]
    assert (await publisher.publish_once("shop")).applied == 1
    snapshot = publisher.snapshot()["shop"]
    assert (snapshot["permanent_failures"], snapshot["unknown_skus"], snapshot["applied"]) == (1, 1, 3)


async def test_a_value_changed_during_the_call_stays_dirty(
    store: sa.Engine, clock: ManualClock, listings: Listings
) -> None:
    class SlowShop(FakeChannelGateway):
        async def set_available(self, updates: Sequence[QuantityUpdate]) -> list[PublishResult]:
            listings.desire({"SKU-1": 2})  # a sale is ingested while the call is in flight
            return await super().set_available(updates)

    shop = SlowShop("shop")
    shop.stock_listing("SKU-1", 9)
    listings.acknowledge({"SKU-1": 9})
    listings.desire({"SKU-1": 3})
    publisher = make_publisher(store, clock, shop)

    await publisher.publish_once("shop")
    state = listings.state("SKU-1")
    assert (state.acknowledged_quantity, state.desired_quantity, state.dirty) == (3, 2, True)


async def test_parked_listings_never_hide_the_ones_behind_them(
    store: sa.Engine, clock: ManualClock, shop: FakeChannelGateway, listings: Listings
) -> None:
    broken = [f"BROKEN-{n}" for n in range(5)]
    for sku in [*broken, "GOOD"]:
        shop.stock_listing(sku, 0)
    for sku in broken:
        shop.fail_sku(sku, "refused")
    listings.desire({sku: 1 for sku in broken})  # the longest waiting rows: first in every scan
    clock.advance(1)
    listings.desire({"GOOD": 4})
    publisher = make_publisher(store, clock, shop, scan_limit=3)

    await publisher.publish_until_clean("shop")
    again = await publisher.publish_once("shop")

    assert shop.quantities["GOOD"] == 4
    assert (again.dirty, again.held, again.sent) == (5, 5, 0)


async def test_new_desired_values_end_a_pass_after_the_current_round(
    store: sa.Engine, clock: ManualClock, listings: Listings
) -> None:
    shop = BatchRecordingGateway("shop", max_quantities_per_call=1)  # 4 calls in flight per round
    skus = [f"SKU-{n}" for n in range(10)]
    for sku in skus:
        shop.stock_listing(sku, 0)
    listings.desire({sku: 5 for sku in skus})
    publisher = make_publisher(store, clock, shop)
    real_send = shop.set_available

    async def sale_during_the_first_round(updates: Sequence[QuantityUpdate]) -> list[PublishResult]:
        if len(shop.batches) == 0:
            listings.desire({"SKU-9": 0})
            publisher.wake("shop")
        return await real_send(updates)

    shop.set_available = sale_during_the_first_round  # type: ignore[method-assign]
    first = await publisher.publish_once("shop")

    assert (first.calls, first.more) == (4, True)
    second = await publisher.publish_once("shop")
    assert shop.batches[4] == ["SKU-9"]  # re-planned: the sold-out SKU jumps the queue
    assert second.sent == 6 and shop.quantities["SKU-9"] == 0


async def test_a_conflict_that_found_the_expected_value_backs_off_instead_of_looping(
    store: sa.Engine, clock: ManualClock, listings: Listings
) -> None:
    class ConfusedShop(FakeChannelGateway):
        async def set_available(self, updates: Sequence[QuantityUpdate]) -> list[PublishResult]:
            self.published.extend(updates)
            return [
                PublishResult(u.sku, PublishStatus.CONFLICT, channel_quantity=u.expected_previous)
                for u in updates
            ]

    shop = ConfusedShop("shop")
    listings.acknowledge({"SKU-1": 4})
    listings.desire({"SKU-1": 2})
    publisher = make_publisher(store, clock, shop)

    result = await publisher.publish_until_clean("shop")

    assert (result.calls, result.failed, result.more) == (1, 1, False)
    assert "compare-and-set refused" in (listings.state("SKU-1").last_error or "")


async def test_a_backlog_never_hides_a_sku_that_just_sold_out(
    store: sa.Engine, clock: ManualClock, listings: Listings
) -> None:
    shop = BatchRecordingGateway("shop", max_quantities_per_call=2)
    backlog = {f"NEW-{n}": 20 for n in range(6)}  # a first publish, waiting longest
    for sku in [*backlog, "HOT"]:
        shop.stock_listing(sku, 5)
    listings.acknowledge({"HOT": 5})
    listings.desire(backlog)
    clock.advance(1)
    listings.desire({"HOT": 0})  # sold out just now, behind the backlog
    publisher = make_publisher(store, clock, shop, scan_limit=3, max_batches_per_pass=1)

    first = await publisher.publish_once("shop")

    assert shop.batches[0][0] == "HOT" and shop.quantities["HOT"] == 0
    assert first.dirty == 4  # the 3 longest waiting, plus the at-risk one


async def test_every_acknowledgement_feeds_the_propagation_histogram(
    store: sa.Engine, clock: ManualClock, shop: FakeChannelGateway, listings: Listings
) -> None:
    from channelhub.metrics import ChannelhubMetrics

    metrics = ChannelhubMetrics()
    for sku in ("A-1", "A-2"):
        shop.stock_listing(sku, 10)
    listings.acknowledge({"A-1": 10, "A-2": 10})
    listings.desire({"A-1": 7, "A-2": 4})
    clock.advance(2.5)
    publisher = Publisher(
        store,
        [shop],
        clock=clock,
        settings=PublisherSettings(seed=7),
        on_propagated=metrics.observe_propagation,
    )
    assert (await publisher.publish_once("shop")).applied == 2
    summary = metrics.latency_summary()["propagation"]
    # Both quantities drop: sent as at-risk updates, and labelled so.
    assert list(summary) == ["shop/at_risk"]
    assert (summary["shop/at_risk"]["count"], summary["shop/at_risk"]["mean_s"]) == (2.0, 2.5)
    assert 1.0 < summary["shop/at_risk"]["p50_s"] <= 2.5
    assert b'channelhub_propagation_seconds_count{channel="shop",risk="at_risk"} 2.0' in metrics.exposition()
