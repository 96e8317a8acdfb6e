"""Orders: soft reservation on every channel at once, one Odoo order per channel order whatever
the delivery order, hold when payment is pending, cancellation, and business exceptions."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import sqlalchemy as sa

from channelhub.connectors.errors import UnavailableError
from channelhub.domain import ExceptionAction, OrderStatus, Sku
from channelhub.service.fakes import order_snapshot
from channelhub.service.handlers import backfill_orders, order_event, retry_event, stock_refresh_events
from channelhub.service.orders import ERP_REJECTED, MAPPING_GAP
from channelhub.service.ports import ChannelOrderSnapshot
from tests.unit.service.conftest import World


async def stocked(world: World) -> None:
    world.erp.put_stock("A", "wh1", on_hand=10)
    world.erp.put_stock("A", "wh2", on_hand=6)
    world.erp.put_stock("B", "wh1", on_hand=4)
    world.emit(*stock_refresh_events(["A", "B"], "setup"))
    await world.settle()


def order(
    world: World, order_id: str = "1001", after_s: float = 0, **options: object
) -> ChannelOrderSnapshot:
    placed = options.pop("placed_at", None) or world.clock.now()
    return order_snapshot(
        "web",
        order_id,
        options.pop("lines", {"A": 3}),  # type: ignore[arg-type]
        at=placed,
        updated_at=placed + timedelta(seconds=after_s),
        **options,  # type: ignore[arg-type]
    )


def open_soft(world: World) -> dict[Sku, int]:
    with world.engine.connect() as connection:
        return world.repos(connection).reservations.open_units()


def link_state(world: World, key: str) -> OrderStatus | None:
    with world.engine.connect() as connection:
        link = world.repos(connection).orders.get(key)
    return None if link is None else link.state


async def test_soft_reservation_lowers_every_channel_before_odoo_has_the_order(world: World) -> None:
    await stocked(world)
    world.erp.fail_next(UnavailableError("Odoo is down", system="odoo"), times=50)
    world.emit(order_event(order(world)))
    await world.settle()
    assert world.erp.orders == {}  # Odoo not reached yet (the sync waits for its retry)
    assert open_soft(world) == {Sku("A"): 3}
    assert world.desired("shop", "A") == 12  # 16 − 1 − 3, although the order came from web
    assert world.desired("web", "A") == 2  # floor(5 − 3)


async def test_paid_order_is_confirmed_and_the_reservation_handed_to_odoo(world: World) -> None:
    await stocked(world)
    world.emit(order_event(order(world, payment="paid")))
    await world.settle()
    ref = world.erp.order("web:1001")
    assert ref is not None and ref.state == "sale"
    assert open_soft(world) == {}  # released: Odoo's quants show the reservation now
    with world.engine.connect() as connection:
        position = {p.warehouse: p for p in world.repos(connection).stock.positions([Sku("A")])}
        link = world.repos(connection).orders.get("web:1001")
    assert position["wh1"].reserved == 3
    assert link is not None and link.state is OrderStatus.CONFIRMED and link.odoo_order_id == ref.id
    assert world.desired("shop", "A") == 12  # counted once: not soft and reserved at the same time


async def test_pending_payment_leaves_the_odoo_order_unconfirmed_on_hold(world: World) -> None:
    await stocked(world)
    world.emit(order_event(order(world, payment="pending")))
    await world.settle()
    ref = world.erp.order("web:1001")
    assert ref is not None and ref.state == "draft"
    assert world.erp.orders["web:1001"].note == "payment pending"
    assert link_state(world, "web:1001") is OrderStatus.ON_HOLD
    assert open_soft(world) == {Sku("A"): 3}  # Odoo has not reserved: our reservation stays
    world.emit(order_event(order(world, after_s=60, payment="paid")))
    await world.settle()
    assert world.erp.order("web:1001").state == "sale"  # type: ignore[union-attr]
    assert link_state(world, "web:1001") is OrderStatus.CONFIRMED
    assert open_soft(world) == {}


async def test_duplicate_and_reordered_deliveries_make_one_odoo_order(world: World) -> None:
    await stocked(world)
    pending, paid = order(world, payment="pending"), order(world, after_s=30, payment="paid")
    assert world.emit(order_event(paid), order_event(pending), order_event(paid)) == 2  # same id deduped
    await world.settle()
    world.emit(order_event(pending))  # a late retry of the old payload
    await world.settle()
    assert world.erp.created == 1
    assert world.erp.order("web:1001").state == "sale"  # type: ignore[union-attr]
    assert link_state(world, "web:1001") is OrderStatus.CONFIRMED
    assert open_soft(world) == {}
    assert world.desired("shop", "A") == 12


async def test_backfill_of_a_state_already_delivered_appends_nothing(world: World) -> None:
    await stocked(world)
    snapshot = order(world, payment="paid")
    world.emit(order_event(snapshot))
    await world.settle()
    channel = world.shop
    channel.put_order(snapshot)
    channel.put_order(order(world, "1002", lines={"B": 1}))
    assert await backfill_orders(world.engine, channel, world.clock) == 1  # only the missed order
    await world.settle()
    assert world.erp.created == 2
    assert await backfill_orders(world.engine, channel, world.clock) == 0


async def test_cancellation_before_fulfilment_cancels_in_odoo_and_releases_stock(world: World) -> None:
    await stocked(world)
    world.emit(order_event(order(world, payment="pending")))
    await world.settle()
    assert world.desired("shop", "A") == 12
    world.emit(order_event(order(world, after_s=10, payment="pending", cancelled=True)))
    await world.settle()
    assert world.erp.order("web:1001").state == "cancel"  # type: ignore[union-attr]
    assert link_state(world, "web:1001") is OrderStatus.CANCELLED
    assert open_soft(world) == {}
    assert (world.desired("shop", "A"), world.desired("web", "A")) == (15, 5)


async def test_cancelling_a_confirmed_order_gives_odoos_reservation_back(world: World) -> None:
    await stocked(world)
    world.emit(order_event(order(world, payment="paid")))
    await world.settle()
    world.emit(order_event(order(world, after_s=10, payment="paid", cancelled=True)))
    await world.settle()
    with world.engine.connect() as connection:
        reserved = sum(p.reserved for p in world.repos(connection).stock.positions([Sku("A")]))
    assert reserved == 0 and world.desired("shop", "A") == 15


async def test_cancel_after_fulfilment_is_an_exception_not_a_cancel(world: World) -> None:
    await stocked(world)
    world.emit(order_event(order(world, payment="paid")))
    await world.settle()
    world.emit(order_event(order(world, after_s=10, payment="paid", cancelled=True, fulfilment_started=True)))
    await world.settle()
    assert world.erp.order("web:1001").state == "sale"  # type: ignore[union-attr]
    with world.engine.connect() as connection:
        [recorded] = world.repos(connection).exceptions.open(subject="web:1001")
    assert recorded.kind == "cancel_after_fulfilment"
    assert recorded.allowed_actions == (ExceptionAction.RESOLVE, ExceptionAction.DISMISS)


async def test_sku_unknown_to_odoo_becomes_an_exception_then_a_retry_succeeds(world: World) -> None:
    await stocked(world)
    world.erp.refuse_skus = {"B"}
    snapshot = order(world, lines={"A": 1, "B": 2})
    world.emit(order_event(snapshot))
    await world.settle()
    assert world.erp.orders == {}
    with world.engine.connect() as connection:
        [recorded] = world.repos(connection).exceptions.open(subject="web:1001")
    assert recorded.kind == ERP_REJECTED and "B" in recorded.reason
    assert recorded.allowed_actions == (ExceptionAction.RETRY, ExceptionAction.DISMISS)
    assert open_soft(world) == {Sku("A"): 1, Sku("B"): 2}  # kept until someone decides
    world.erp.refuse_skus = set()
    with world.engine.connect() as connection:
        retried = world.handlers.orders.order_to_retry(connection, recorded.id)
    world.emit(retry_event(retried, recorded.id, 1))
    await world.settle()
    assert world.erp.order("web:1001") is not None
    with world.engine.connect() as connection:
        assert world.repos(connection).exceptions.open(subject="web:1001") == []


async def test_line_without_sku_is_a_mapping_gap_and_dismiss_releases_the_reservation(world: World) -> None:
    await stocked(world)
    snapshot = order_snapshot("web", "77", {"A": 2, "": 1}, at=world.clock.now())
    world.emit(order_event(snapshot))
    await world.settle()
    assert world.erp.orders == {}
    with world.engine.connect() as connection:
        [recorded] = world.repos(connection).exceptions.open(subject="web:77")
    assert recorded.kind == MAPPING_GAP and "no usable SKU" in recorded.reason
    assert world.desired("shop", "A") == 13
    with world.engine.begin() as connection:
        world.handlers.orders.dismiss(
            connection, recorded.id, "ops@example.com", "custom item", world.clock.now()
        )
    assert open_soft(world) == {} and world.desired("shop", "A") == 15


async def test_transient_odoo_failure_is_retried_by_the_log(world: World) -> None:
    await stocked(world)
    world.erp.fail_next(UnavailableError("timeout", system="odoo"), times=1)
    world.emit(order_event(order(world, payment="paid")))
    await world.settle()
    assert world.erp.orders == {}
    world.clock.advance(600)  # past the retry backoff
    await world.settle()
    assert world.erp.order("web:1001").state == "sale"  # type: ignore[union-attr]
    with world.engine.connect() as connection:
        assert world.repos(connection).exceptions.count_open() == 0
        dead = connection.execute(
            sa.text("select count(*) from log_event where status != 'done'")
        ).scalar_one()
    assert dead == 0


async def test_reservation_made_by_odoo_later_is_handed_over_by_the_periodic_check(world: World) -> None:
    from channelhub.service.handlers import reservation_check_event

    await stocked(world)
    world.erp.reserve_on_confirm = False  # short when confirmed: Odoo waits for stock
    world.emit(order_event(order(world, payment="paid")))
    await world.settle()
    assert link_state(world, "web:1001") is OrderStatus.CONFIRMED
    assert open_soft(world) == {Sku("A"): 3}
    world.emit(reservation_check_event(world.clock.now()))
    await world.settle()
    assert open_soft(world) == {Sku("A"): 3}  # still nothing reserved in Odoo
    world.erp.reserve_now("web:1001")
    world.clock.advance(60)
    world.emit(reservation_check_event(world.clock.now()))
    await world.settle()
    assert open_soft(world) == {}
    assert world.desired("shop", "A") == 12  # the 3 units moved from soft to Odoo-reserved


async def test_signed_channel_delivery_becomes_one_order_event(world: World) -> None:
    import pytest

    from channelhub.connectors.errors import WebhookVerificationError
    from channelhub.service.handlers import events_for_delivery

    snapshot = order(world)
    headers, body = world.shop.delivery_for(snapshot, "delivery-1")
    delivery = world.shop.verify_webhook(headers, body)
    assert delivery.order == snapshot and delivery.dedupe_key == "shop:delivery-1"
    assert events_for_delivery(delivery) == [order_event(snapshot)]
    with pytest.raises(WebhookVerificationError):
        world.shop.verify_webhook({**headers, "x-fake-signature": "forged"}, body)


async def test_deferred_hand_over_releases_many_orders_in_one_check(world: World) -> None:
    from channelhub.service.handlers import ServiceHandlers, reservation_check_event

    await stocked(world)
    deferred = ServiceHandlers.build(world.handlers.availability, world.erp, hand_over_inline=False)
    world.handlers.orders = deferred.orders  # the registered handlers use this use case from now on
    world.emit(order_event(order(world, "1", payment="paid")), order_event(order(world, "2", lines={"B": 1})))
    await world.settle()
    assert {"reservation_seen", "read_stock"} & set(world.erp.calls[-4:]) == set()
    assert open_soft(world) == {Sku("A"): 3, Sku("B"): 1}
    assert world.desired("shop", "A") == 12
    calls_before = len(world.erp.calls)
    world.emit(reservation_check_event(world.clock.now()))
    await world.settle()
    assert world.erp.calls[calls_before:] == ["reserved_orders", "read_stock"]
    assert open_soft(world) == {}  # both orders in one check
    assert world.desired("shop", "A") == 12


async def test_a_stock_read_showing_odoos_reservation_never_counts_the_order_twice(world: World) -> None:
    """With the hand-over deferred, a stock read that already sees Odoo's reservation arrives
    before the periodic check: the soft reservation of the SKUs read is released with it (ATS
    stays put, never dips by the order a second time), the order's other SKUs keep theirs until a
    read shows them, and an order Odoo has not reserved keeps its soft reservation. Odoo is asked
    before the stock is read, so a reservation made after the read is never released early."""
    from channelhub.service.handlers import ServiceHandlers, stock_poll_event

    await stocked(world)
    deferred = ServiceHandlers.build(world.handlers.availability, world.erp, hand_over_inline=False)
    world.handlers.orders = deferred.orders
    world.emit(order_event(order(world, "1", payment="paid", lines={"A": 3, "B": 1})))
    world.emit(order_event(order(world, "2", payment="paid", lines={"A": 2})))
    await world.settle()
    world.erp.reserve_on_confirm = False  # order 3: confirmed, Odoo short of stock for now
    world.emit(order_event(order(world, "3", payment="paid", lines={"A": 1})))
    await world.settle()
    assert open_soft(world) == {Sku("A"): 6, Sku("B"): 1}
    assert world.desired("shop", "A") == 9  # 16 - 1 safety - 6 soft
    assert world.desired("shop", "B") == 2  # 4 - 1 - 1

    calls_before = len(world.erp.calls)
    world.emit(*stock_refresh_events(["A"], "odoo-notified"))  # Odoo's quants show 5 reserved
    await world.settle()
    assert world.erp.calls[calls_before:] == ["reserved_orders", "read_stock"]
    assert world.desired("shop", "A") == 9  # counted once: Odoo-reserved 5 + soft 1 (order 3)
    assert open_soft(world) == {Sku("A"): 1, Sku("B"): 1}  # B of order 1 waits for a read of B
    assert world.desired("shop", "B") == 2

    world.emit(stock_poll_event(world.clock.now()))  # the poll path: its page includes B
    await world.settle()
    assert open_soft(world) == {Sku("A"): 1}
    assert world.desired("shop", "B") == 2
    assert world.desired("shop", "A") == 9


async def test_a_late_update_of_a_confirmed_order_reserves_nothing_again(world: World) -> None:
    await stocked(world)
    world.emit(order_event(order(world, payment="paid")))
    await world.settle()
    with world.engine.begin() as connection:  # released rows are purged after a while
        world.repos(connection).reservations.purge_released(world.clock.now() + timedelta(days=1))
    shipped = order(world, after_s=3600, payment="paid", fulfilment_started=True)
    with world.engine.begin() as connection:
        world.handlers.orders.receive(connection, shipped, world.clock.now())
    assert open_soft(world) == {} and world.desired("shop", "A") == 12
    world.emit(order_event(shipped))
    await world.settle()
    assert open_soft(world) == {} and world.erp.created == 1


def test_snapshots_refuse_naive_times() -> None:
    from datetime import datetime

    import pytest

    with pytest.raises(ValueError, match="timezone-aware"):
        order_snapshot("web", "1", {"A": 1}, at=datetime(2026, 1, 1))


async def test_odoo_is_called_with_no_transaction_open_and_a_newer_snapshot_supersedes(world: World) -> None:
    """The sync's Odoo calls run between transactions (other writers go on meanwhile); a newer
    snapshot received during the calls makes the older outcome a no-op: its own sync records it."""
    await stocked(world)
    orders = world.handlers.orders
    pending, paid = order(world, payment="pending"), order(world, after_s=30, payment="paid")
    with world.engine.begin() as connection:
        orders.receive(connection, pending, world.clock.now())
    step = await orders.prepare_sync(world.engine.connect, world.erp, pending)
    assert world.erp.order("web:1001") is not None  # Odoo has it; nothing recorded here yet
    assert link_state(world, "web:1001") is OrderStatus.PLACED
    with world.engine.begin() as connection:  # the newer snapshot arrives meanwhile
        orders.receive(connection, paid, world.clock.now())
    with world.engine.begin() as connection:
        assert step(connection, world.clock.now()).outcome.value == "superseded"
    assert link_state(world, "web:1001") is OrderStatus.PLACED
    with world.engine.begin() as connection:
        result = await orders.sync_to_erp(connection, world.erp, paid, world.clock.now())
    assert result.outcome.value == "confirmed"
    assert link_state(world, "web:1001") is OrderStatus.CONFIRMED
    assert world.erp.created == 1 and open_soft(world) == {}


async def test_a_later_snapshot_uses_the_linked_odoo_order_instead_of_looking_it_up(world: World) -> None:
    """Paid after pending: the on-hold order recorded earlier is confirmed at once; a further
    update of a confirmed order needs no Odoo call at all."""
    await stocked(world)
    world.emit(order_event(order(world, payment="pending")))
    await world.settle()
    assert link_state(world, "web:1001") is OrderStatus.ON_HOLD
    world.erp.calls.clear()
    world.emit(order_event(order(world, after_s=60, payment="paid")))
    await world.settle()
    erp_order_calls = [c for c in world.erp.calls if c.endswith("sale_order")]
    assert erp_order_calls == ["confirm_sale_order"]  # no ensure/find before confirming
    assert world.erp.order("web:1001").state == "sale"  # type: ignore[union-attr]
    assert link_state(world, "web:1001") is OrderStatus.CONFIRMED
    world.erp.calls.clear()
    world.emit(order_event(order(world, after_s=120, payment="paid", name="#1001 (gift)")))
    await world.settle()
    assert [c for c in world.erp.calls if c.endswith("sale_order")] == []
    assert world.erp.created == 1 and link_state(world, "web:1001") is OrderStatus.CONFIRMED
    assert open_soft(world) == {}


async def test_a_linked_order_cancelled_in_odoo_becomes_a_business_exception(world: World) -> None:
    await stocked(world)
    world.emit(order_event(order(world, payment="pending")))
    await world.settle()
    found = world.erp.orders["web:1001"]
    world.erp.orders["web:1001"] = replace(found, ref=replace(found.ref, state="cancel"))
    world.emit(order_event(order(world, after_s=60, payment="paid")))
    await world.settle()
    with world.engine.connect() as connection:
        exceptions = world.repos(connection).exceptions.open(subject="web:1001")
    assert [e.kind for e in exceptions] == [ERP_REJECTED]
    assert link_state(world, "web:1001") is OrderStatus.ON_HOLD


def acknowledge(world: World, channel: str, sku: str, quantity: int) -> None:
    """What the publisher records after writing `quantity` to the channel (now)."""
    with world.engine.begin() as connection:
        world.repos(connection).listings.acknowledge_quantities(
            [(channel, Sku(sku), quantity)], world.clock.now()
        )


def listing(world: World, channel: str, sku: str) -> tuple[int | None, int | None, bool]:
    with world.engine.connect() as connection:
        state = world.repos(connection).listings.state(channel, Sku(sku))
    assert state is not None
    return state.desired_quantity, state.acknowledged_quantity, state.dirty


async def published(world: World) -> None:
    """Both channels acknowledged A; web's orders below stay unpaid (Odoo reserves nothing, the soft
    reservation stays), as an on-hold WooCommerce order."""
    await stocked(world)
    acknowledge(world, "web", "A", 5)  # floor(50 % of 10)
    acknowledge(world, "shop", "A", 15)
    world.clock.advance(10)


async def test_the_selling_channels_own_decrement_is_acknowledged_and_nothing_is_sent_to_it(
    world: World,
) -> None:
    await published(world)
    world.emit(order_event(order(world, lines={"A": 3}, payment="pending", channel_reduced_stock=True)))
    await world.settle()
    assert listing(world, "web", "A") == (2, 2, False)  # web took 3 off its 5 itself
    assert listing(world, "shop", "A") == (12, 15, True)  # the other channel still needs the write


async def test_a_duplicate_delivery_does_not_lower_the_acknowledged_quantity_twice(world: World) -> None:
    await published(world)
    snapshot = order(world, lines={"A": 1}, payment="pending", channel_reduced_stock=True)
    world.emit(order_event(snapshot))
    await world.settle()
    world.emit(order_event(replace(snapshot, updated_at=snapshot.updated_at + timedelta(seconds=5))))
    await world.settle()
    assert listing(world, "web", "A") == (4, 4, False)


async def test_a_sale_that_may_have_raced_our_last_write_is_written_again(world: World) -> None:
    await published(world)
    placed = world.clock.now()
    world.clock.advance(1)
    acknowledge(world, "web", "A", 5)  # our write landed one second after the sale: it may have hidden it
    world.emit(
        order_event(
            order(world, lines={"A": 3}, payment="pending", channel_reduced_stock=True, placed_at=placed)
        )
    )
    await world.settle()
    assert listing(world, "web", "A") == (2, 5, True)


async def test_an_order_the_channel_did_not_take_off_its_stock_leaves_the_acknowledged_quantity(
    world: World,
) -> None:
    await published(world)
    world.emit(order_event(order(world, lines={"A": 3}, payment="pending")))  # e.g. WooCommerce pending
    await world.settle()
    assert listing(world, "web", "A") == (2, 5, True)


async def test_a_read_while_odoo_confirms_an_order_we_still_call_placed_counts_it_once(world: World) -> None:
    """Odoo confirmed and reserved the order, the sync has not recorded it yet: the stock read that
    shows Odoo's reservation releases the soft one, instead of counting the order twice until the
    next read of its SKUs."""
    await stocked(world)
    world.erp.fail_next(UnavailableError("Odoo is slow", system="odoo"), times=50)  # the sync waits
    snapshot = order(world, payment="paid")
    world.emit(order_event(snapshot))
    await world.settle()
    assert link_state(world, "web:1001") is OrderStatus.PLACED and open_soft(world) == {Sku("A"): 3}
    world.erp.heal()
    await world.erp.confirm_sale_order(await world.erp.ensure_sale_order(snapshot))  # in flight
    world.emit(*stock_refresh_events(["A"], "odoo notification"))
    await world.settle()
    assert open_soft(world) == {}
    assert world.desired("shop", "A") == 12  # 16 − 3 reserved − 1 safety: not 9
