"""Canonical order events (placed / paid / cancelled) reach Odoo like snapshots do."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from channelhub.domain import Money, OrderCancelled, OrderPaid, OrderPlaced, OrderStatus, PlacedLine, Sku
from channelhub.domain.events import CanonicalEvent
from channelhub.engine.events import NewEvent
from channelhub.service.handlers import stock_refresh_events
from tests.unit.service.conftest import World


def logged(event: CanonicalEvent) -> NewEvent:
    return NewEvent(event.event_id, event.type, event.key, event.to_dict())


def placed(world: World, units: int = 3) -> OrderPlaced:
    price = Money(Decimal("10"), "EUR")
    return OrderPlaced(
        occurred_at=world.clock.now(),
        order_key="shop:42",
        channel="shop",
        channel_order_id="42",
        lines=(PlacedLine(line_id="1", sku=Sku("A"), quantity=units, unit_price=price),),
        total=Money(Decimal(10 * units), "EUR"),
    )


def paid(world: World, after_s: float = 5) -> OrderPaid:
    return OrderPaid(
        occurred_at=world.clock.now() + timedelta(seconds=after_s),
        order_key="shop:42",
        payment_id="42:capture",
        amount=Money(Decimal("30"), "EUR"),
    )


def cancelled(world: World, after_s: float = 9) -> OrderCancelled:
    return OrderCancelled(
        occurred_at=world.clock.now() + timedelta(seconds=after_s), order_key="shop:42", reason="customer"
    )


async def stocked(world: World) -> None:
    world.erp.put_stock("A", "wh1", on_hand=10)
    world.erp.put_stock("A", "wh2", on_hand=6)
    world.emit(*stock_refresh_events(["A"], "setup"))
    await world.settle()


def open_soft(world: World) -> dict[Sku, int]:
    with world.engine.connect() as connection:
        return world.repos(connection).reservations.open_units()


async def test_placed_then_paid_makes_one_confirmed_odoo_order(world: World) -> None:
    await stocked(world)
    world.emit(logged(placed(world)), logged(paid(world)), logged(placed(world)))
    await world.settle()
    ref = world.erp.order("shop:42")
    assert ref is not None and ref.state == "sale" and world.erp.created == 1
    assert open_soft(world) == {}
    with world.engine.connect() as connection:
        link = world.repos(connection).orders.get("shop:42")
    assert link is not None and link.state is OrderStatus.CONFIRMED
    assert world.desired("shop", "A") == 12


async def test_placed_order_waits_on_hold_and_a_cancel_gives_the_stock_back(world: World) -> None:
    await stocked(world)
    world.emit(logged(placed(world)))
    await world.settle()
    assert world.erp.order("shop:42").state == "draft"  # type: ignore[union-attr]
    assert world.desired("web", "A") == 2
    world.emit(logged(cancelled(world)))
    await world.settle()
    assert world.erp.order("shop:42").state == "cancel"  # type: ignore[union-attr]
    assert open_soft(world) == {} and world.desired("web", "A") == 5


async def test_paid_and_cancelled_before_odoo_saw_it_creates_nothing_and_asks_for_a_refund(
    world: World,
) -> None:
    await stocked(world)
    world.emit(logged(placed(world)), logged(paid(world)), logged(cancelled(world)))
    await world.settle()
    assert world.erp.orders == {}
    assert open_soft(world) == {} and world.desired("shop", "A") == 15
    with world.engine.connect() as connection:
        [exception] = world.repos(connection).exceptions.open(subject="shop:42")
    assert "refund" in exception.reason
