"""Reconciliation over a real SQLite store and in-memory channels: finds what changed behind our
back, fixes it through the publisher, changes nothing on a dry run, runs on a schedule."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from channelhub.clock import ManualClock
from channelhub.connectors.errors import UnavailableError
from channelhub.engine.reconcile import (
    ReconcileProgress,
    ReconciliationError,
    ReconciliationReport,
    ReconciliationSchedule,
    reconcile,
)
from channelhub.service.fakes import FakeChannelGateway

from .conftest import Listings, make_publisher


async def published_shop(
    store: sa.Engine, clock: ManualClock, listings: Listings, quantities: dict[str, int]
) -> FakeChannelGateway:
    shop = FakeChannelGateway("shop", max_quantities_per_call=2)
    for sku in quantities:
        shop.stock_listing(sku, 0)
    listings.desire(quantities)
    await make_publisher(store, clock, shop).publish_until_clean("shop")
    assert shop.quantities == quantities and listings.dirty_count() == 0
    return shop


async def test_a_quantity_changed_behind_our_back_is_found_and_fixed(
    store: sa.Engine, clock: ManualClock, listings: Listings
) -> None:
    shop = await published_shop(store, clock, listings, {"A": 5, "B": 7, "C": 0, "D": 2, "E": 9})
    shop.quantities["B"] = 40  # someone edited it in the shop admin
    shop.quantities["C"] = 3
    publisher = make_publisher(store, clock, shop)
    progress: list[ReconcileProgress] = []

    report = await reconcile(store, publisher, clock=clock, progress=progress.append)

    assert [(d.sku, d.desired, d.channel_value, d.acknowledged, d.kind) for d in report.diffs] == [
        ("B", 7, 40, 7, "drift"),
        ("C", 0, 3, 0, "drift"),
    ]
    assert report.checked == 5 and report.fixed == 2 and report.clean
    assert shop.quantities == {"A": 5, "B": 7, "C": 0, "D": 2, "E": 9}
    assert listings.state("B").acknowledged_quantity == 7 and listings.dirty_count() == 0
    assert [p.checked for p in progress if p.stage == "read"] == [2, 4, 5]  # read in chunks of 2
    assert progress[-2:] == [
        ReconcileProgress("shop", "fix", 5, 5, 2),
        ReconcileProgress("shop", "done", 5, 5, 2),
    ]
    assert report.to_dict()["channels"][0]["drift"] == 2


async def test_a_dry_run_reports_and_changes_nothing(
    store: sa.Engine, clock: ManualClock, listings: Listings
) -> None:
    shop = await published_shop(store, clock, listings, {"A": 5, "B": 7})
    shop.quantities["A"] = 1
    publisher = make_publisher(store, clock, shop)
    calls_before = list(shop.calls)

    report = await reconcile(store, publisher, channel="shop", dry_run=True, clock=clock)

    assert [(d.sku, d.channel_value) for d in report.diffs] == [("A", 1)]
    assert report.fixed == 0 and report.dry_run and not report.clean
    assert shop.quantities["A"] == 1
    assert shop.calls[len(calls_before) :] == ["read_available"]  # reads only, no publish
    state = listings.state("A")
    assert (state.acknowledged_quantity, state.dirty) == (5, False)


async def test_pending_missing_and_lagging_listings(
    store: sa.Engine, clock: ManualClock, listings: Listings
) -> None:
    shop = await published_shop(store, clock, listings, {"A": 5, "B": 7, "C": 1})
    listings.desire({"A": 4, "GONE": 3})  # A: not published yet; GONE: the shop has no such item
    listings.acknowledge({"C": 8})  # our record of C lags: the channel does show the desired 1
    publisher = make_publisher(store, clock, shop)

    report = await reconcile(store, publisher, clock=clock)

    kinds = {d.sku: d.kind for d in report.diffs}
    assert kinds == {"A": "pending", "GONE": "missing"}
    channel = report.channels[0]
    assert channel.fixed == 1 and channel.lagging == [("C", 1)]
    assert not report.clean  # a missing listing needs a person
    assert shop.quantities["A"] == 4 and "GONE" not in shop.quantities
    assert not listings.state("C").dirty and listings.state("C").acknowledged_quantity == 1


async def test_an_unreachable_channel_is_reported_and_others_still_run(
    store: sa.Engine, clock: ManualClock, listings: Listings
) -> None:
    shop = await published_shop(store, clock, listings, {"A": 5})
    web = FakeChannelGateway("web")
    Listings(store, clock, "web").desire({"A": 5})
    web.stock_listing("A", 2)
    web.fail_next(UnavailableError("timeout", system="woocommerce"))
    publisher = make_publisher(store, clock, web, shop)

    report = await reconcile(store, publisher, clock=clock)

    assert list(report.errors) == ["web"] and "timeout" in report.errors["web"]
    assert report.channels[1].channel == "shop" and report.channels[1].checked == 1
    with pytest.raises(ReconciliationError, match="unknown channel 'amazon'"):
        await reconcile(store, publisher, channel="amazon", clock=clock)


async def test_the_scheduled_job_reconciles_every_interval(
    store: sa.Engine, clock: ManualClock, listings: Listings
) -> None:
    shop = await published_shop(store, clock, listings, {"A": 5})
    shop.quantities["A"] = 0
    publisher = make_publisher(store, clock, shop)
    stop = asyncio.Event()
    reports: list[ReconciliationReport] = []

    def on_report(report: ReconciliationReport) -> None:
        reports.append(report)
        stop.set()

    schedule = ReconciliationSchedule(
        store, publisher, interval_s=300.0, clock=clock, yield_to_publisher_s=0.0, on_report=on_report
    )  # sales_grace_s: the publisher's conflict_grace_s
    started = clock.monotonic()
    await asyncio.wait_for(schedule.run(stop), 5.0)

    assert clock.monotonic() - started >= 300.0
    assert schedule.runs == 1 and schedule.last_report is reports[0] and len(reports) == 1
    # The channel shows less than we set: maybe sales whose orders are still on their way, so
    # the scheduled job gives them the publisher's grace before raising the quantity again.
    [channel] = reports[0].channels
    assert channel.waiting_for_sales == ["A"] and channel.fixed == 0 and shop.quantities["A"] == 0
    clock.advance(publisher.settings.conflict_grace_s)
    await publisher.publish_until_clean("shop")
    assert shop.quantities["A"] == 5


async def test_a_raised_quantity_is_lowered_at_once_even_with_a_sales_grace(
    store: sa.Engine, clock: ManualClock, listings: Listings
) -> None:
    shop = await published_shop(store, clock, listings, {"A": 5, "B": 5})
    shop.quantities["A"] = 50  # too high: an oversell risk, fixed without waiting
    shop.quantities["B"] = 1  # too low: could be a sale not yet ingested
    publisher = make_publisher(store, clock, shop)

    report = await reconcile(store, publisher, clock=clock, sales_grace_s=30.0)

    assert shop.quantities == {"A": 5, "B": 1}
    [channel] = report.channels
    assert (channel.fixed, channel.waiting_for_sales, report.clean) == (1, ["B"], False)


async def test_whole_channel_reads_read_once(
    store: sa.Engine, clock: ManualClock, listings: Listings
) -> None:
    shop = await published_shop(store, clock, listings, {"A": 5, "B": 7, "C": 1})
    shop.quantities["C"] = 9
    publisher = make_publisher(store, clock, shop)
    calls_before = len(shop.calls)

    report = await reconcile(store, publisher, clock=clock, dry_run=True, whole_channel_reads=True)

    assert shop.calls[calls_before:] == ["read_available"]  # one read for three SKUs in chunks of 2
    assert [(d.sku, d.channel_value) for d in report.diffs] == [("C", 9)]
