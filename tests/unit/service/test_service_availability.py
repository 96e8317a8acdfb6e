"""Stock capture → ATS on every channel; warehouse status, suppression and explain."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from channelhub.domain import Sku, StockChanged
from channelhub.engine.events import NewEvent
from channelhub.service.explain import explain
from channelhub.service.handlers import (
    STOCK_CHANGED,
    erp_notification_event,
    recompute_event,
    stock_poll_event,
    stock_refresh_events,
    warehouse_event,
)
from channelhub.service.operations import UnknownWarehouse, WarehouseAction
from tests.unit.service.conftest import World


async def stocked(world: World, sku: str = "A", wh1: int = 10, wh2: int = 6) -> None:
    world.erp.put_stock(sku, "wh1", on_hand=wh1)
    world.erp.put_stock(sku, "wh2", on_hand=wh2)
    world.emit(*stock_refresh_events([sku], "setup"))
    await world.settle()


async def test_stock_refresh_sets_desired_quantities_on_every_channel(world: World) -> None:
    await stocked(world)
    assert world.desired("shop", "A") == 15  # 10 + 6 − 1 safety
    assert world.desired("web", "A") == 5  # 50 % of wh1 only


async def test_pack_size_converts_units_to_packs(world: World) -> None:
    await stocked(world, "PACK", wh1=9, wh2=0)
    assert world.desired("web", "PACK") == 2  # floor(floor(4.5) / 2)
    assert world.desired("shop", "PACK") == 8


async def test_a_location_odoo_no_longer_reports_is_removed(world: World) -> None:
    world.erp.put_stock("A", "wh1", on_hand=4, location="WH1/Shelf")
    await stocked(world)
    assert world.desired("shop", "A") == 19
    world.erp.remove_stock("A", "wh1", "WH1/Shelf")
    world.emit(*stock_refresh_events(["A"], "after-move"))
    await world.settle()
    assert world.desired("shop", "A") == 15


async def test_quality_hold_stock_is_not_sold(world: World) -> None:
    world.erp.put_stock("A", "wh1", on_hand=5, hold=5, location="WH1/Quality")
    await stocked(world)
    assert world.desired("shop", "A") == 15


async def test_poll_moves_the_cursor_and_applies_only_changes(world: World) -> None:
    world.erp.put_stock("A", "wh1", on_hand=3)
    world.erp.put_stock("B", "wh1", on_hand=8)
    world.emit(stock_poll_event(world.clock.now(), limit=1))  # one change per page: pages chain
    await world.settle()
    assert (world.desired("shop", "A"), world.desired("shop", "B")) == (2, 7)
    world.erp.put_stock("B", "wh1", on_hand=2)
    world.clock.advance(5)
    world.emit(stock_poll_event(world.clock.now()))
    await world.settle()
    assert world.desired("shop", "B") == 1
    reads = [call for call in world.erp.calls if call == "stock_changes_since"]
    assert len(reads) == 3  # page A, page B (the last), then the later change
    with world.engine.connect() as connection:
        assert world.repos(connection).cursors.get("odoo.stock.quants") == "3"


async def test_odoo_notification_rereads_the_sku(world: World) -> None:
    await stocked(world)
    world.erp.put_stock("A", "wh2", on_hand=0)
    headers, body = world.erp.notification_body("A")
    world.emit(erp_notification_event(world.erp.verify_webhook(headers, body)))
    await world.settle()
    assert world.desired("shop", "A") == 9


def test_odoo_notification_with_a_wrong_token_is_refused(world: World) -> None:
    from channelhub.connectors.errors import WebhookVerificationError

    _, body = world.erp.notification_body("A")
    with pytest.raises(WebhookVerificationError):
        world.erp.verify_webhook({"x-channelhub-token": "wrong"}, body)


async def test_stock_changed_event_replaces_the_warehouse_total(world: World) -> None:
    await stocked(world)
    changed = StockChanged(
        occurred_at=world.clock.now(), sku=Sku("A"), warehouse="wh2", on_hand=2, reserved=1, hold=0
    )
    world.emit(NewEvent(changed.event_id, STOCK_CHANGED, changed.key, changed.to_dict()))
    await world.settle()
    assert world.desired("shop", "A") == 10  # 10 + (2 − 1) − 1


async def test_warehouse_offline_lowers_ats_only_on_channels_it_fed(world: World) -> None:
    await stocked(world)
    with world.engine.begin() as connection:
        change = world.handlers.operations.set_warehouse(
            connection, "wh2", WarehouseAction.OFFLINE, world.clock.now(), reason="flood"
        )
    assert change.changed and change.channels == ("shop",)
    assert (world.desired("shop", "A"), world.desired("web", "A")) == (9, 5)
    world.emit(warehouse_event("wh1", online=False, on_hold=False, reason="power cut", at=world.clock.now()))
    await world.settle()
    assert (world.desired("shop", "A"), world.desired("web", "A")) == (0, 0)
    with world.engine.begin() as connection:
        world.handlers.operations.set_warehouse(connection, "wh2", "online", world.clock.now())
    assert world.desired("shop", "A") == 5


async def test_hold_and_release_a_warehouse(world: World) -> None:
    await stocked(world)
    ops = world.handlers.operations
    with world.engine.begin() as connection:
        ops.set_warehouse(connection, "wh1", WarehouseAction.HOLD, world.clock.now())
    assert (world.desired("shop", "A"), world.desired("web", "A")) == (5, 0)
    with world.engine.begin() as connection:
        ops.set_warehouse(connection, "wh1", WarehouseAction.RELEASE, world.clock.now())
        again = ops.set_warehouse(connection, "wh1", WarehouseAction.RELEASE, world.clock.now())
    assert not again.changed
    assert (world.desired("shop", "A"), world.desired("web", "A")) == (15, 5)
    with world.engine.begin() as connection, pytest.raises(UnknownWarehouse):
        ops.set_warehouse(connection, "nowhere", WarehouseAction.HOLD, world.clock.now())


async def test_a_warehouse_of_many_skus_is_recomputed_in_short_steps(world: World) -> None:
    skus = [f"S{n:02d}" for n in range(7)]
    for sku in skus:
        world.erp.put_stock(sku, "wh1", on_hand=10)
        world.erp.put_stock(sku, "wh2", on_hand=6)
    world.emit(*stock_refresh_events(skus, "setup"))
    await world.settle()
    transactions: list[int] = []
    audited: list[bool] = []
    committed_before_step: list[int] = []

    reading: list[bool] = []

    def on_begin(_connection: object) -> None:
        if not reading:
            transactions.append(1)

    def after_step() -> None:  # e.g. wake the publisher: the step is committed when it runs
        reading.append(True)
        committed_before_step.append(sum(1 for sku in skus if world.desired("shop", sku) == 5))
        reading.clear()

    sa.event.listen(world.engine, "begin", on_begin)
    try:
        change = world.handlers.operations.set_warehouse_in_steps(
            world.engine,
            "wh1",
            WarehouseAction.HOLD,
            world.clock.now(),
            reason="stock take",
            step=3,
            first=lambda _c, first_change: audited.append(first_change.changed),
            after_step=after_step,
        )
    finally:
        sa.event.remove(world.engine, "begin", on_begin)
    assert change.changed and audited == [True]
    assert len(transactions) == 3  # status + 3 SKUs, then 3, then 1
    assert committed_before_step == [3, 6, 7]
    assert {sku.value for _channel, sku in change.recompute.quantities} == set(skus)
    assert all((world.desired("shop", sku), world.desired("web", sku)) == (5, 0) for sku in skus)
    with pytest.raises(ValueError):
        world.handlers.operations.set_warehouse_in_steps(
            world.engine, "wh1", WarehouseAction.RELEASE, world.clock.now(), step=0
        )


async def test_suppression_shows_zero_until_lifted(world: World) -> None:
    await stocked(world)
    ops = world.handlers.operations
    with world.engine.begin() as connection:
        ops.suppress(connection, "shop", "A", world.clock.now(), reason="listing error")
    assert (world.desired("shop", "A"), world.desired("web", "A")) == (0, 5)
    world.emit(recompute_event(None, world.clock.now()))  # a later full recompute keeps it
    await world.settle()
    assert world.desired("shop", "A") == 0
    with world.engine.begin() as connection:
        ops.lift_suppression(connection, "shop", "A", world.clock.now())
    assert world.desired("shop", "A") == 15


async def test_explain_names_the_facts_behind_the_number(world: World) -> None:
    await stocked(world)
    with world.engine.begin() as connection:
        world.handlers.operations.set_warehouse(connection, "wh2", WarehouseAction.HOLD, world.clock.now())
        world.repos(connection).listings.acknowledge_quantities([("shop", Sku("A"), 15)], world.clock.now())
    with world.engine.connect() as connection:
        one = explain(connection, world.handlers.availability, "A", "shop")
        both = explain(connection, world.handlers.availability, "A")
    assert one["sku"] == "A" and one["channel"] == "shop"
    assert one["available_to_sell"] == 9 and one["acknowledged"] == 15 and one["in_sync"] is False
    wh2 = next(w for w in one["warehouses"] if w["warehouse"] == "wh2")
    assert wh2["included"] is False and wh2["reason"] == "warehouse on hold"
    assert wh2["locations"][0]["location"] == "WH2/Stock" and wh2["locations"][0]["on_hand"] == 6
    assert one["rules"]["safety"] == {"units": 1, "percent": "0"}
    assert any("Safety stock" in line for line in one["explanation"])
    assert both["channel"] is None
    assert both["available_to_sell"] == {"shop": 9, "web": 5}
    assert both["acknowledged"] == {"shop": 15, "web": None}


async def test_an_older_read_applied_late_does_not_overwrite_a_newer_one(world: World) -> None:
    from datetime import timedelta

    from channelhub.service.ports import ErpStockRead, ErpStockRow

    capture = world.handlers.capture
    now = world.clock.now()
    newer = ErpStockRead(("A",), (ErpStockRow("A", "wh1", "WH1/Stock", 4, write_date=now),))
    older = ErpStockRead(
        ("A",), (ErpStockRow("A", "wh1", "WH1/Stock", 9, write_date=now - timedelta(seconds=2)),)
    )
    with world.engine.begin() as connection:
        capture.apply(connection, newer, now)
        capture.apply(connection, older, now)  # a slower worker's read, started earlier
    assert world.desired("shop", "A") == 3
