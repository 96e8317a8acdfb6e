from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channelhub.domain import (
    ExceptionAction,
    InvalidTransition,
    InvalidValue,
    Money,
    Order,
    OrderDecision,
    OrderLine,
    OrderStatus,
    Outcome,
    PaymentStatus,
    Refund,
    Return,
    Shipment,
    ShipmentLine,
    Sku,
    can_transition,
)

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def new_order() -> Order:
    lines = (
        OrderLine("1", Sku("A"), 2, eur("10.00")),
        OrderLine("2", Sku("B"), 1, eur("5.50")),
    )
    return Order.place("shopify", "1001", lines, "EUR", T0)


def paid_order() -> Order:
    decision = new_order().record_payment("pay-1", PaymentStatus.PAID, eur("25.50"), at(1))
    assert decision.outcome is Outcome.APPLIED
    return decision.order


def ship(order: Order, shipment_id: str, minutes: int, **lines: int) -> OrderDecision:
    shipped = tuple(ShipmentLine(line_id.removeprefix("line"), qty) for line_id, qty in lines.items())
    return order.record_shipment(Shipment(shipment_id, shipped, at(minutes), "DHL", "TRACK-" + shipment_id))


def test_order_identity_and_total() -> None:
    order = new_order()
    assert order.key == "shopify:1001"
    assert order.total == eur("25.50")
    assert order.status is OrderStatus.PLACED


def test_paid_order_is_confirmed_pending_payment_holds_it() -> None:
    assert paid_order().status is OrderStatus.CONFIRMED
    held = new_order().record_payment("pay-1", PaymentStatus.PENDING, eur("25.50"), at(1)).order
    assert held.status is OrderStatus.ON_HOLD and held.hold_reason == "payment pending"
    released = held.record_payment("pay-1", PaymentStatus.PAID, eur("25.50"), at(2)).order
    assert released.status is OrderStatus.CONFIRMED and released.hold_reason is None


def test_partial_shipments_stay_partial_until_everything_shipped() -> None:
    first = ship(paid_order(), "S1", 5, line1=1)
    assert first.outcome is Outcome.APPLIED
    assert first.order.status is OrderStatus.PARTIALLY_FULFILLED
    again = ship(first.order, "S1", 5, line1=1)
    assert again.outcome is Outcome.UNCHANGED and again.order == first.order
    done = ship(first.order, "S2", 6, line1=1, line2=1)
    assert done.order.status is OrderStatus.FULFILLED
    assert done.order.shipped_quantities() == {"1": 2, "2": 1}


def test_cancel_after_fulfilment_started_is_a_business_exception() -> None:
    shipped = ship(paid_order(), "S1", 5, line1=1).order
    decision = shipped.cancel("customer changed mind", at(6))
    assert decision.outcome is Outcome.REJECTED
    assert decision.order == shipped
    assert decision.exception is not None
    assert decision.exception.code == "cancel_after_fulfilment"
    assert decision.exception.allowed_actions == (ExceptionAction.RESOLVE, ExceptionAction.DISMISS)
    assert decision.exception.to_dict()["order_key"] == "shopify:1001"
    assert "1 unit(s) already shipped" in decision.exception.reason


def test_cancel_before_fulfilment_applies_and_repeats_are_unchanged() -> None:
    cancelled = paid_order().cancel("fraud", at(3))
    assert cancelled.outcome is Outcome.APPLIED and cancelled.order.status is OrderStatus.CANCELLED
    assert cancelled.order.cancel("fraud", at(4)).outcome is Outcome.UNCHANGED
    confirm = cancelled.order.confirm(at(5))
    assert confirm.outcome is Outcome.REJECTED and confirm.exception is not None
    assert confirm.exception.code == "cancelled_to_confirmed"
    shipment = ship(cancelled.order, "S1", 6, line1=1)
    assert shipment.exception is not None and shipment.exception.code == "shipment_for_cancelled_order"


def test_refund_before_payment_is_a_business_exception_that_can_be_retried() -> None:
    order = new_order().record_payment("pay-1", PaymentStatus.AUTHORIZED, eur("25.50"), at(1)).order
    decision = order.record_refund(Refund("R1", eur("5.00"), at(2)))
    assert decision.outcome is Outcome.REJECTED and decision.exception is not None
    assert decision.exception.code == "refund_before_payment"
    assert ExceptionAction.RETRY in decision.exception.allowed_actions
    no_payment = new_order().record_refund(Refund("R1", eur("5.00"), at(2)))
    assert no_payment.exception is not None and "payment is missing" in no_payment.exception.reason


def test_refunds_move_payment_to_partially_then_fully_refunded() -> None:
    first = paid_order().record_refund(Refund("R1", eur("10.00"), at(2)))
    assert first.order.payment is not None
    assert first.order.payment.status is PaymentStatus.PARTIALLY_REFUNDED
    assert first.order.record_refund(Refund("R1", eur("10.00"), at(2))).outcome is Outcome.UNCHANGED
    too_much = first.order.record_refund(Refund("R2", eur("16.00"), at(3)))
    assert too_much.exception is not None and too_much.exception.code == "refund_exceeds_payment"
    rest = first.order.record_refund(Refund("R2", eur("15.50"), at(3)))
    assert rest.order.payment is not None and rest.order.payment.status is PaymentStatus.REFUNDED
    usd = paid_order().record_refund(Refund("R9", Money.of("1", "USD"), at(2)))
    assert usd.exception is not None and usd.exception.code == "refund_currency_mismatch"


def test_older_updates_never_overwrite_newer_state() -> None:
    confirmed = paid_order()
    held = confirmed.hold("address check", at(10)).order
    late_confirm = held.confirm(at(5))  # sent before the hold, delivered after it
    assert late_confirm.outcome is Outcome.STALE and late_confirm.order == held
    late_payment = confirmed.record_payment("pay-1", PaymentStatus.AUTHORIZED, eur("25.50"), at(20))
    assert late_payment.outcome is Outcome.STALE  # authorised after paid is old news
    older_payment = confirmed.record_payment("pay-1", PaymentStatus.VOIDED, eur("25.50"), at(0))
    assert older_payment.outcome is Outcome.STALE


def test_payment_conflicts_are_business_exceptions() -> None:
    void = paid_order().record_payment("pay-1", PaymentStatus.VOIDED, eur("25.50"), at(2))
    assert void.exception is not None and void.exception.code == "void_after_capture"
    cancelled = new_order().cancel("customer", at(1)).order
    late_paid = cancelled.record_payment("pay-1", PaymentStatus.PAID, eur("25.50"), at(2))
    assert late_paid.outcome is Outcome.APPLIED and late_paid.order.status is OrderStatus.CANCELLED
    assert late_paid.exception is not None and late_paid.exception.code == "paid_after_cancel"
    with pytest.raises(InvalidTransition, match="record_refund"):
        paid_order().record_payment("pay-1", PaymentStatus.REFUNDED, eur("25.50"), at(2))


def test_shipments_that_do_not_fit_are_rejected() -> None:
    assert ship(new_order(), "S1", 2, line1=1).exception.code == "shipment_before_confirmation"  # type: ignore[union-attr]
    over = ship(paid_order(), "S1", 2, line1=3)
    assert over.exception is not None and over.exception.code == "over_shipment"
    assert "3 shipped, only 2 allowed" in over.exception.reason
    unknown = ship(paid_order(), "S1", 2, line9=1)
    assert unknown.exception is not None and "line 9" in unknown.exception.reason


def test_returns_are_limited_to_shipped_units() -> None:
    shipped = ship(paid_order(), "S1", 5, line1=2).order
    ok = shipped.record_return(Return("RMA1", (ShipmentLine("1", 1),), "too small", at(9)))
    assert ok.outcome is Outcome.APPLIED
    too_many = ok.order.record_return(Return("RMA2", (ShipmentLine("1", 2),), "too small", at(10)))
    assert too_many.exception is not None and too_many.exception.code == "return_exceeds_shipment"
    unshipped = ok.order.record_return(Return("RMA3", (ShipmentLine("2", 1),), "?", at(10)))
    assert unshipped.exception is not None
    received = ok.order.receive_return("RMA1", at(12))
    assert received.order.returns[0].status == "received"
    assert received.order.receive_return("RMA1", at(13)).outcome is Outcome.UNCHANGED


def test_invalid_orders_are_refused() -> None:
    with pytest.raises(InvalidValue, match="no lines"):
        Order.place("shopify", "1", (), "EUR", T0)
    with pytest.raises(InvalidValue, match="mixes currencies"):
        Order.place("shopify", "1", (OrderLine("1", Sku("A"), 1, Money.of("1", "USD")),), "EUR", T0)
    with pytest.raises(InvalidValue, match="duplicate line"):
        Order.place("shopify", "1", (OrderLine("1", Sku("A"), 1, eur("1")),) * 2, "EUR", T0)
    with pytest.raises(InvalidValue):
        OrderLine("1", Sku("A"), 0, eur("1"))
    with pytest.raises(InvalidValue):
        Refund("R", eur("0"), T0)


# -- property: any sequence of deliveries keeps the order consistent ------------------------------

operations = st.lists(
    st.tuples(
        st.sampled_from(["confirm", "hold", "cancel", "pay", "authorize", "pending", "refund", "ship"]),
        st.integers(0, 30),  # minutes: deliveries arrive in any order
        st.integers(1, 3),  # id suffix: duplicates happen
        st.integers(1, 2),  # quantity / amount
    ),
    max_size=25,
)


def apply(order: Order, op: str, minutes: int, ident: int, amount: int) -> OrderDecision:
    moment = at(minutes)
    if op == "confirm":
        return order.confirm(moment)
    if op == "hold":
        return order.hold("review", moment)
    if op == "cancel":
        return order.cancel("customer", moment)
    if op in ("pay", "authorize", "pending"):
        status = {"pay": PaymentStatus.PAID, "authorize": PaymentStatus.AUTHORIZED}.get(
            op, PaymentStatus.PENDING
        )
        return order.record_payment("pay-1", status, eur("25.50"), moment)
    if op == "refund":
        return order.record_refund(Refund(f"R{ident}", eur(f"{amount * 5}.00"), moment))
    return ship(order, f"S{ident}", minutes, line1=amount)


@settings(max_examples=150, deadline=None)
@given(operations)
def test_any_delivery_sequence_keeps_the_order_consistent(ops: list[tuple[str, int, int, int]]) -> None:
    order = new_order()
    for op in ops:
        decision = apply(order, *op)
        before, order = order, decision.order
        if decision.outcome in (Outcome.STALE, Outcome.UNCHANGED, Outcome.REJECTED):
            assert order == before  # never a partial change
        if decision.outcome is Outcome.REJECTED:
            assert decision.exception is not None and decision.exception.allowed_actions
        if order.status is not before.status:
            assert can_transition(before.status, order.status)
        assert order.updated_at >= before.updated_at  # time never goes backwards
        assert order.shipped_quantities()["1"] <= 2
        if order.payment is not None:
            assert Money.zero("EUR") <= order.payment.refunded <= order.payment.paid
        if order.shipments:
            assert order.status is not OrderStatus.CANCELLED
        if order.refunds:
            assert order.payment is not None and order.payment.paid > Money.zero("EUR")
