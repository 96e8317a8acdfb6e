"""The low-stock fence in the service: it goes up when a SKU's units left reach the threshold, a
sale then lowers only the channel that sold, Odoo taking over the reservation changes nothing,
and a receipt above the threshold takes it down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from channelhub.domain import AllocationRules, ChannelAllocation, ChannelShare, LowStockFence, Sku, Warehouse
from channelhub.service.availability import AvailabilityPolicy
from channelhub.service.explain import explain
from channelhub.service.fakes import order_snapshot
from channelhub.service.handlers import order_event, stock_refresh_events
from tests.unit.service.conftest import World, make_world


def fenced_policy() -> AvailabilityPolicy:
    return AvailabilityPolicy(
        rules=AllocationRules(
            channels=(
                ChannelAllocation("shop", ("wh1",), ChannelShare.shared()),
                ChannelAllocation("web", ("wh1",), ChannelShare.shared()),
            ),
            fence=LowStockFence(below=10, weights=(("shop", 1), ("web", 1))),
        ),
        warehouses=(Warehouse("wh1", "Main"),),
    )


@pytest.fixture
def fenced(migrated_template: Path, tmp_path: Path) -> Iterator[World]:
    yield from make_world(migrated_template, tmp_path, fenced_policy())


async def stock(world: World, units: int) -> None:
    world.erp.put_stock("A", "wh1", on_hand=units)
    world.emit(*stock_refresh_events(["A"], f"stock {units}"))
    await world.settle()


def shown(world: World) -> dict[str, int | None]:
    return {channel: world.desired(channel, "A") for channel in ("shop", "web")}


def fence_rows(world: World) -> dict[Sku, dict[str, int]]:
    with world.engine.connect() as connection:
        return world.repos(connection).fences.all()


async def sell(world: World, channel: str, order_id: str, units: int, payment: str = "pending") -> None:
    world.emit(
        order_event(order_snapshot(channel, order_id, {"A": units}, at=world.clock.now(), payment=payment))
    )
    await world.settle()


async def test_plenty_of_stock_is_shared_and_the_last_units_are_dealt(fenced: World) -> None:
    await stock(fenced, 30)
    assert shown(fenced) == {"shop": 30, "web": 30}
    assert fence_rows(fenced) == {}
    await stock(fenced, 9)
    assert shown(fenced) == {"shop": 5, "web": 4}
    assert fence_rows(fenced) == {Sku("A"): {"shop": 0, "web": 0}}


async def test_a_sale_lowers_only_the_channel_that_sold_even_after_odoo_reserves_it(fenced: World) -> None:
    await stock(fenced, 9)
    await sell(fenced, "web", "1", 3)  # pending: our soft reservation holds it
    assert shown(fenced) == {"shop": 5, "web": 1}
    assert fence_rows(fenced) == {Sku("A"): {"shop": 0, "web": 3}}
    await sell(fenced, "shop", "2", 2, payment="paid")  # confirmed: Odoo reserves, the soft one goes
    assert shown(fenced) == {"shop": 3, "web": 1}
    await sell(fenced, "web", "1", 3, payment="paid")  # web's order paid later: same numbers
    assert shown(fenced) == {"shop": 3, "web": 1}


async def test_a_receipt_above_the_threshold_takes_the_fence_down(fenced: World) -> None:
    await stock(fenced, 9)
    await sell(fenced, "web", "1", 4)
    assert shown(fenced) == {"shop": 5, "web": 0}
    await stock(fenced, 20)  # 20 on hand, 4 soft-reserved: 16 left > 10
    assert fence_rows(fenced) == {}
    assert shown(fenced) == {"shop": 16, "web": 16}
    await sell(fenced, "shop", "2", 7)  # 9 left: up again, counting from here
    assert fence_rows(fenced) == {Sku("A"): {"shop": 0, "web": 0}}
    assert shown(fenced) == {"shop": 5, "web": 4}


async def test_explain_shows_the_deal_and_what_the_channel_sold(fenced: World) -> None:
    await stock(fenced, 9)
    await sell(fenced, "web", "1", 3)
    with fenced.engine.connect() as connection:
        view = explain(connection, fenced.handlers.availability, "A", "web")
    assert view["available_to_sell"] == 1
    assert view["rules"]["low_stock_fence"] == {"total": 9, "dealt": 4, "sold": 3, "units": 1}
    assert any(line.startswith("Low-stock fence: 9 units dealt") for line in view["explanation"])
