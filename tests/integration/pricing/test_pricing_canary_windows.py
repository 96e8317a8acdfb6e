"""Canary releases and channel release windows, on SQLite with fake channels."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from channelhub.service.pricing import ChangeSetStatus, PricelistChange, SourcePrice
from channelhub.service.pricing.fakes import StaticOrderRate
from tests.integration.pricing.conftest import PRICING_YAML, T0, build_desk, d

CANARY = PRICING_YAML + "canary: {channels: [web], watch_minutes: 30, max_errors: 0}\n"


def cut(sku: str, amount: str) -> PricelistChange:
    return PricelistChange(1, (SourcePrice(sku, d(amount), "EUR", ref=f"{sku}@{amount}"),), "t", "maria")


async def test_a_healthy_canary_goes_to_the_other_channels_after_the_watch(tmp_sqlite_url: str) -> None:
    desk = build_desk(tmp_sqlite_url, CANARY)
    desk.source.push(cut("A-2", "79.00"))  # within the auto threshold
    [created] = await desk.service.capture.poll()
    assert (await desk.service.release.run_due()).canary_started == [created.id]
    assert desk.web.prices["A-2"] == d("79.00") and desk.shop.prices["A-2"] == d("79.99")
    assert desk.service.governance.get(created.id).status is ChangeSetStatus.CANARY
    desk.clock.advance(10 * 60)
    assert (await desk.service.release.run_due()).published == []  # still watching
    desk.clock.advance(25 * 60)
    assert (await desk.service.release.run_due()).published == [created.id]
    assert desk.shop.prices["A-2"] == d("78.99")
    actions = [r["action"] for r in desk.service.audit_trail(f"price-change:{created.id}")]
    assert actions.index("canary_started") < actions.index("canary_judged") < actions.index("published")
    desk.engine.dispose()


async def test_a_canary_whose_order_rate_collapses_is_rolled_back(tmp_sqlite_url: str) -> None:
    desk = build_desk(tmp_sqlite_url, CANARY)
    desk.service.context.order_rate = StaticOrderRate(
        Decimal(20), Decimal(2), switch_at=T0 + timedelta(minutes=1)
    )
    desk.source.push(cut("A-2", "79.00"))
    [created] = await desk.service.capture.poll()
    await desk.service.release.run_due()
    desk.clock.advance(31 * 60)
    report = await desk.service.release.run_due()
    assert created.id in report.rolled_back and "order rate fell" in report.rolled_back[created.id]
    assert desk.web.prices["A-2"] == d("80.00") and desk.shop.prices["A-2"] == d("80.00") - d("0.01")
    assert desk.service.governance.get(created.id).status is ChangeSetStatus.ROLLED_BACK
    desk.engine.dispose()


async def test_a_canary_with_read_back_drift_stops_and_an_unverifiable_rollback_is_held(
    tmp_sqlite_url: str,
) -> None:
    desk = build_desk(tmp_sqlite_url, CANARY)
    desk.source.push(cut("A-2", "79.00"))
    [created] = await desk.service.capture.poll()
    await desk.service.release.run_due()
    desk.web.drift["A-2"] = d("7.90")  # something else keeps changing it on the channel
    desk.clock.advance(31 * 60)
    report = await desk.service.release.run_due()
    assert "web" in report.held[created.id] and created.id not in report.rolled_back
    held = desk.service.governance.get(created.id)
    assert held.status is ChangeSetStatus.HELD and "rollback incomplete" in held.hold_reason
    assert desk.shop.prices["A-2"] == d("79.99")  # the rest never went out

    del desk.web.drift["A-2"]
    again = await desk.service.release.rollback(created.id, desk.service.context.approver("bob"), "retry")
    assert created.id in again.rolled_back and desk.web.prices["A-2"] == d("80.00")
    desk.engine.dispose()


async def test_releases_wait_for_the_channels_next_window(tmp_sqlite_url: str) -> None:
    windows = PRICING_YAML.replace(
        "shop: {pricelist: 1,",
        'shop: {release_windows: [{days: [1, 2, 3, 4, 5], start: "22:00", end: "23:00"}], pricelist: 1,',
    )
    desk = build_desk(tmp_sqlite_url, windows)
    desk.source.push(cut("A-2", "79.00"))
    [created] = await desk.service.capture.poll()
    shop_item = next(i for i in created.items if i.channel == "shop")
    assert shop_item.release_at == T0.replace(hour=22)
    await desk.service.release.run_due()
    assert desk.web.prices["A-2"] == d("79.00") and desk.shop.prices["A-2"] == d("79.99")
    assert desk.service.governance.get(created.id).status is ChangeSetStatus.SCHEDULED
    desk.clock.advance(13 * 3600)
    assert (await desk.service.release.run_due()).published == [created.id]
    assert desk.shop.prices["A-2"] == d("78.99")
    desk.engine.dispose()
