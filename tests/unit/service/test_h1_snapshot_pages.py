"""The start-up snapshot is read and applied page by page (`read_stock_pages`): the stored stock
and desired quantities are those of one whole read, locations of SKUs Odoo no longer reports are
kept, a failing page keeps the pages before it, and a soft reservation Odoo already holds is
handed over exactly once even when its SKUs fall on different pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from channelhub.connectors.errors import ConnectorError
from channelhub.domain import Sku
from channelhub.service.fakes import order_snapshot
from channelhub.service.handlers import ServiceHandlers, order_event
from channelhub.service.ports import ErpStockRead
from tests.unit.service.conftest import World

Stored = set[tuple[str, str, str, int, int]]


def stored(world: World, skus: list[str]) -> Stored:
    with world.engine.connect() as connection:
        repos = world.repos(connection)
        return {
            (row.sku.value, row.warehouse, row.location, row.on_hand, row.reserved)
            for sku in skus
            for row in repos.stock.locations(Sku(sku))
        }


def fill(world: World, count: int) -> list[str]:
    skus = [f"SKU-{number:03d}" for number in range(count)]
    for number, sku in enumerate(skus):
        world.erp.put_stock(sku, "wh1", on_hand=10 + number)
        if number % 3 == 0:
            world.erp.put_stock(sku, "wh2", on_hand=number, location="WH2/Back")
    return skus


async def test_paged_snapshot_stores_what_one_whole_read_stores(world: World) -> None:
    skus = fill(world, 23)

    result = await world.handlers.capture.take_snapshot(world.engine, world.erp, world.clock, page_size=5)

    assert world.erp.calls.count("read_stock_pages") == 5  # 23 SKUs in pages of 5
    assert "read_stock" not in world.erp.calls
    assert list(result.skus) == [Sku(sku) for sku in skus] and result.rows == 23 + 8
    whole = await world.erp.read_stock(None)
    assert stored(world, skus) == {
        (r.sku, r.warehouse, r.location, r.on_hand, r.reserved) for r in whole.rows
    }
    assert world.desired("shop", "SKU-003") == (13 + 3) - 1  # wh1 + wh2, 1 unit safety
    assert world.desired("web", "SKU-022") == 32 // 2  # wh1 only, 50 %
    assert result.recompute.for_channel("web")[Sku("SKU-022")] == 16
    assert len(result.recompute.quantities) == 2 * 23


async def test_locations_of_skus_odoo_no_longer_reports_are_kept(world: World) -> None:
    skus = fill(world, 12)
    capture = world.handlers.capture
    await capture.take_snapshot(world.engine, world.erp, world.clock, page_size=4)
    world.erp.remove_stock("SKU-003", "wh2", "WH2/Back")  # one location of a reported SKU emptied
    world.erp.remove_stock("SKU-007", "wh1")  # the only location: Odoo no longer reports the SKU

    result = await capture.take_snapshot(world.engine, world.erp, world.clock, page_size=4)

    after = stored(world, skus)
    assert ("SKU-003", "wh2", "WH2/Back", 3, 0) not in after
    assert ("SKU-003", "wh1", "WH1/Stock", 13, 0) in after
    assert ("SKU-007", "wh1", "WH1/Stock", 17, 0) in after
    assert result.removed == 1 and Sku("SKU-007") not in result.skus


async def test_a_failing_page_stops_the_snapshot_and_keeps_the_pages_before_it(world: World) -> None:
    skus = fill(world, 10)
    pages_of = world.erp.read_stock_pages

    async def third_page_fails(page_size: int = 5000) -> AsyncIterator[ErpStockRead]:
        count = 0
        async for page in pages_of(page_size):
            count += 1
            if count == 3:
                raise ConnectorError("Odoo went away", system="odoo", transient=True)
            yield page

    world.erp.read_stock_pages = third_page_fails  # type: ignore[method-assign]
    with pytest.raises(ConnectorError):
        await world.handlers.capture.take_snapshot(world.engine, world.erp, world.clock, page_size=4)

    assert {row[0] for row in stored(world, skus)} == set(skus[:8])
    assert world.desired("shop", "SKU-007") == 16 and world.desired("shop", "SKU-008") is None


async def test_a_reservation_odoo_holds_is_handed_over_once_across_pages(world: World) -> None:
    fill(world, 6)
    capture = world.handlers.capture
    await capture.take_snapshot(world.engine, world.erp, world.clock, page_size=1)
    deferred = ServiceHandlers.build(world.handlers.availability, world.erp, hand_over_inline=False)
    world.handlers.orders = deferred.orders
    placed = world.clock.now()
    lines = {"SKU-001": 3, "SKU-004": 2}  # on different pages (one SKU per page)
    world.emit(
        order_event(
            order_snapshot(
                "web", "77", lines, at=placed, updated_at=placed + timedelta(seconds=1), payment="paid"
            )
        )
    )
    await world.settle()
    with world.engine.connect() as connection:
        assert world.repos(connection).reservations.open_units() == {Sku("SKU-001"): 3, Sku("SKU-004"): 2}
    before = {sku: world.desired("shop", sku) for sku in lines}
    assert before == {"SKU-001": 11 - 1 - 3, "SKU-004": 14 - 1 - 2}

    result = await capture.take_snapshot(world.engine, world.erp, world.clock, page_size=1)

    assert result.handed_over == 2
    with world.engine.connect() as connection:
        assert world.repos(connection).reservations.open_units() == {}
    assert {sku: world.desired("shop", sku) for sku in lines} == before  # counted once, by Odoo
