"""Orders, payments, shipments, returns and refunds, with their state machines and conflict rules.

Every change returns an `OrderDecision` instead of mutating: the new order (or the unchanged one)
and what happened: `applied`, `unchanged` (a duplicate delivery), `stale` (older than what we
already applied: at-least-once delivery reorders messages, and an older snapshot must never
overwrite a newer one) or `rejected` with a `BusinessException` value: a conflict a person or a
rule must act on (cancel after fulfilment started, refund before payment, ...). Nothing is dropped
silently.

Order:   placed → confirmed | on_hold → partially_fulfilled → fulfilled;  placed/on_hold/confirmed →
         cancelled.  Payment captured (or authorised) confirms a placed or held order; a pending
         payment holds it.
Payment: pending → authorized → paid → partially_refunded → refunded;  pending/authorized → voided.

Status changes carry the source's `updated_at`; facts with their own id (shipments, refunds,
returns) are deduplicated by id and are never stale.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from channelhub.domain.catalog import Sku, check_code, check_quantity
from channelhub.domain.errors import InvalidTransition, InvalidValue
from channelhub.domain.money import Money


class OrderStatus(StrEnum):
    PLACED = "placed"
    CONFIRMED = "confirmed"
    ON_HOLD = "on_hold"
    PARTIALLY_FULFILLED = "partially_fulfilled"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PLACED: frozenset({OrderStatus.CONFIRMED, OrderStatus.ON_HOLD, OrderStatus.CANCELLED}),
    OrderStatus.ON_HOLD: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset(
        {OrderStatus.ON_HOLD, OrderStatus.PARTIALLY_FULFILLED, OrderStatus.FULFILLED, OrderStatus.CANCELLED}
    ),
    OrderStatus.PARTIALLY_FULFILLED: frozenset({OrderStatus.FULFILLED}),
    OrderStatus.FULFILLED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


class PaymentStatus(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"


_PAYMENT_RANK = {
    PaymentStatus.PENDING: 0,
    PaymentStatus.AUTHORIZED: 1,
    PaymentStatus.PAID: 2,
    PaymentStatus.PARTIALLY_REFUNDED: 3,
    PaymentStatus.REFUNDED: 4,
    PaymentStatus.VOIDED: 2,
}


class Outcome(StrEnum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"
    STALE = "stale"
    REJECTED = "rejected"


class ExceptionAction(StrEnum):
    """What an operator may do with a business exception."""

    RETRY = "retry"  # apply again later (e.g. once the payment has arrived)
    RESOLVE = "resolve"  # fix by hand (refund, return, intercept a parcel) and close
    DISMISS = "dismiss"  # accept as is and close


@dataclass(frozen=True, slots=True)
class BusinessException:
    """A conflict that needs a decision, with the reason and the actions allowed."""

    code: str
    reason: str
    order_key: str
    allowed_actions: tuple[ExceptionAction, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "reason": self.reason,
            "order_key": self.order_key,
            "allowed_actions": [action.value for action in self.allowed_actions],
        }


@dataclass(frozen=True, slots=True)
class OrderLine:
    line_id: str
    sku: Sku
    quantity: int
    unit_price: Money

    def __post_init__(self) -> None:
        if check_quantity(self.quantity, f"quantity of line {self.line_id}") < 1:
            raise InvalidValue(f"line {self.line_id} needs a quantity of at least 1")

    @property
    def total(self) -> Money:
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class Payment:
    """The order's payment: what was asked, captured and refunded so far."""

    payment_id: str
    status: PaymentStatus
    amount: Money
    paid: Money
    refunded: Money
    updated_at: datetime

    @property
    def refundable(self) -> Money:
        return self.paid - self.refunded


@dataclass(frozen=True, slots=True)
class ShipmentLine:
    line_id: str
    quantity: int

    def __post_init__(self) -> None:
        if check_quantity(self.quantity, "shipped quantity") < 1:
            raise InvalidValue("a shipment line needs a quantity of at least 1")


@dataclass(frozen=True, slots=True)
class Shipment:
    shipment_id: str
    lines: tuple[ShipmentLine, ...]
    shipped_at: datetime
    carrier: str | None = None
    tracking_number: str | None = None

    def __post_init__(self) -> None:
        if not self.lines:
            raise InvalidValue(f"shipment {self.shipment_id} has no lines")


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    RECEIVED = "received"


@dataclass(frozen=True, slots=True)
class Return:
    return_id: str
    lines: tuple[ShipmentLine, ...]
    reason: str
    requested_at: datetime
    status: ReturnStatus = ReturnStatus.REQUESTED

    def __post_init__(self) -> None:
        if not self.lines:
            raise InvalidValue(f"return {self.return_id} has no lines")


@dataclass(frozen=True, slots=True)
class Refund:
    refund_id: str
    amount: Money
    created_at: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        if self.amount.amount <= 0:
            raise InvalidValue(f"refund {self.refund_id} must be a positive amount")


@dataclass(frozen=True, slots=True)
class OrderDecision:
    """The result of asking an order to change."""

    order: Order
    outcome: Outcome
    exception: BusinessException | None = None


@dataclass(frozen=True, slots=True)
class Order:
    """A channel order in canonical form. Use the methods to change it; each returns a decision."""

    channel: str
    channel_order_id: str
    currency: str
    lines: tuple[OrderLine, ...]
    placed_at: datetime
    updated_at: datetime
    status: OrderStatus = OrderStatus.PLACED
    hold_reason: str | None = None
    payment: Payment | None = None
    shipments: tuple[Shipment, ...] = ()
    returns: tuple[Return, ...] = ()
    refunds: tuple[Refund, ...] = ()

    def __post_init__(self) -> None:
        check_code(self.channel, "channel code")
        if not self.channel_order_id:
            raise InvalidValue("an order needs the channel's order id")
        if not self.lines:
            raise InvalidValue(f"order {self.key} has no lines")
        ids = [line.line_id for line in self.lines]
        if len(set(ids)) != len(ids):
            raise InvalidValue(f"order {self.key} has duplicate line ids")
        if any(line.unit_price.currency != self.currency for line in self.lines):
            raise InvalidValue(f"order {self.key} mixes currencies")

    @classmethod
    def place(
        cls, channel: str, channel_order_id: str, lines: tuple[OrderLine, ...], currency: str, at: datetime
    ) -> Order:
        return cls(channel, channel_order_id, currency, tuple(lines), placed_at=at, updated_at=at)

    @property
    def key(self) -> str:
        """`<channel>:<order id>`: the order's identity and Odoo `client_order_ref` (idempotency key)."""
        return f"{self.channel}:{self.channel_order_id}"

    @property
    def total(self) -> Money:
        amount = Money.zero(self.currency)
        for line in self.lines:
            amount = amount + line.total
        return amount

    def shipped_quantities(self) -> Counter[str]:
        return _count(line for shipment in self.shipments for line in shipment.lines)

    def returned_quantities(self) -> Counter[str]:
        return _count(line for customer_return in self.returns for line in customer_return.lines)

    @property
    def fulfilment_started(self) -> bool:
        return bool(self.shipments)

    # -- status changes ------------------------------------------------------------------------

    def confirm(self, at: datetime) -> OrderDecision:
        return self._move(OrderStatus.CONFIRMED, at)

    def hold(self, reason: str, at: datetime) -> OrderDecision:
        return self._move(OrderStatus.ON_HOLD, at, hold_reason=reason)

    def cancel(self, reason: str, at: datetime) -> OrderDecision:
        if self.status is not OrderStatus.CANCELLED and self.fulfilment_started:
            return self._reject(
                "cancel_after_fulfilment",
                f"cancel requested ({reason}) but {sum(self.shipped_quantities().values())} unit(s)"
                " already shipped: return or refund instead",
                ExceptionAction.RESOLVE,
                ExceptionAction.DISMISS,
            )
        return self._move(OrderStatus.CANCELLED, at, hold_reason=None)

    def _move(self, target: OrderStatus, at: datetime, hold_reason: str | None = None) -> OrderDecision:
        if self.status is target:
            return OrderDecision(self, Outcome.UNCHANGED)
        if at < self.updated_at:
            return OrderDecision(self, Outcome.STALE)
        if target not in ORDER_TRANSITIONS[self.status]:
            return self._reject(
                f"{self.status.value}_to_{target.value}",
                f"order is {self.status.value} and cannot become {target.value}",
                ExceptionAction.RESOLVE,
                ExceptionAction.DISMISS,
            )
        return OrderDecision(
            replace(self, status=target, updated_at=at, hold_reason=hold_reason), Outcome.APPLIED
        )

    def _reject(self, code: str, reason: str, *actions: ExceptionAction) -> OrderDecision:
        return OrderDecision(self, Outcome.REJECTED, BusinessException(code, reason, self.key, actions))

    # -- payment -------------------------------------------------------------------------------

    def record_payment(
        self, payment_id: str, status: PaymentStatus, amount: Money, at: datetime
    ) -> OrderDecision:
        """Apply a payment status from the channel or gateway (pending, authorized, paid, voided).

        Refund states come only from `record_refund`, which checks the amounts.
        """
        if status in (PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED):
            raise InvalidTransition(f"{status.value} is reached through record_refund, not record_payment")
        if amount.currency != self.currency:
            return self._reject(
                "payment_currency_mismatch",
                f"payment in {amount.currency} for an order in {self.currency}",
                ExceptionAction.RESOLVE,
                ExceptionAction.DISMISS,
            )
        current = self.payment
        if current is not None:
            if current.status is status:
                return OrderDecision(self, Outcome.UNCHANGED)
            if at < current.updated_at or _PAYMENT_RANK[status] < _PAYMENT_RANK[current.status]:
                return OrderDecision(self, Outcome.STALE)
            if status is PaymentStatus.VOIDED and current.status is not PaymentStatus.AUTHORIZED:
                return self._reject(
                    "void_after_capture",
                    f"payment is {current.status.value}; a captured payment is refunded, not voided",
                    ExceptionAction.RESOLVE,
                    ExceptionAction.DISMISS,
                )
        paid = amount if status is PaymentStatus.PAID else Money.zero(self.currency)
        refunded = current.refunded if current else Money.zero(self.currency)
        payment = Payment(payment_id, status, amount, paid, refunded, at)
        order = replace(self, payment=payment, updated_at=max(at, self.updated_at))
        if self.status is OrderStatus.CANCELLED and status is PaymentStatus.PAID:
            return OrderDecision(
                order,
                Outcome.APPLIED,
                BusinessException(
                    "paid_after_cancel",
                    "payment captured on a cancelled order: refund it",
                    self.key,
                    (ExceptionAction.RESOLVE, ExceptionAction.DISMISS),
                ),
            )
        follow = _status_after_payment(order, status)
        return OrderDecision(follow or order, Outcome.APPLIED)

    def record_refund(self, refund: Refund) -> OrderDecision:
        if any(existing.refund_id == refund.refund_id for existing in self.refunds):
            return OrderDecision(self, Outcome.UNCHANGED)
        payment = self.payment
        if payment is None or payment.status not in (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED):
            state = payment.status.value if payment else "missing"
            return self._reject(
                "refund_before_payment",
                f"refund {refund.refund_id} of {refund.amount} but the payment is {state}",
                ExceptionAction.RETRY,
                ExceptionAction.RESOLVE,
                ExceptionAction.DISMISS,
            )
        if refund.amount.currency != self.currency:
            return self._reject(
                "refund_currency_mismatch",
                f"refund in {refund.amount.currency} for an order in {self.currency}",
                ExceptionAction.RESOLVE,
                ExceptionAction.DISMISS,
            )
        if refund.amount > payment.refundable:
            return self._reject(
                "refund_exceeds_payment",
                f"refund {refund.amount} is more than the {payment.refundable} still refundable",
                ExceptionAction.RESOLVE,
                ExceptionAction.DISMISS,
            )
        refunded = payment.refunded + refund.amount
        status = PaymentStatus.REFUNDED if refunded >= payment.paid else PaymentStatus.PARTIALLY_REFUNDED
        new_payment = replace(payment, status=status, refunded=refunded, updated_at=refund.created_at)
        order = replace(
            self,
            payment=new_payment,
            refunds=(*self.refunds, refund),
            updated_at=max(self.updated_at, refund.created_at),
        )
        return OrderDecision(order, Outcome.APPLIED)

    # -- fulfilment and returns ----------------------------------------------------------------

    def record_shipment(self, shipment: Shipment) -> OrderDecision:
        if any(existing.shipment_id == shipment.shipment_id for existing in self.shipments):
            return OrderDecision(self, Outcome.UNCHANGED)
        if self.status is OrderStatus.CANCELLED:
            return self._reject(
                "shipment_for_cancelled_order",
                f"shipment {shipment.shipment_id} left for a cancelled order: intercept or invoice it",
                ExceptionAction.RESOLVE,
                ExceptionAction.DISMISS,
            )
        if self.status in (OrderStatus.PLACED, OrderStatus.ON_HOLD):
            return self._reject(
                "shipment_before_confirmation",
                f"shipment {shipment.shipment_id} for an order that is {self.status.value}",
                ExceptionAction.RETRY,
                ExceptionAction.RESOLVE,
                ExceptionAction.DISMISS,
            )
        ordered = {line.line_id: line.quantity for line in self.lines}
        problem = _excess(ordered, self.shipped_quantities(), shipment.lines, "shipped")
        if problem:
            return self._reject("over_shipment", problem, ExceptionAction.RESOLVE, ExceptionAction.DISMISS)
        shipped = self.shipped_quantities() + _count(shipment.lines)
        complete = all(shipped[line.line_id] >= line.quantity for line in self.lines)
        status = OrderStatus.FULFILLED if complete else OrderStatus.PARTIALLY_FULFILLED
        order = replace(
            self,
            shipments=(*self.shipments, shipment),
            status=status,
            updated_at=max(self.updated_at, shipment.shipped_at),
        )
        return OrderDecision(order, Outcome.APPLIED)

    def record_return(self, customer_return: Return) -> OrderDecision:
        if any(existing.return_id == customer_return.return_id for existing in self.returns):
            return OrderDecision(self, Outcome.UNCHANGED)
        shipped = dict(self.shipped_quantities())
        problem = _excess(shipped, self.returned_quantities(), customer_return.lines, "returned")
        if problem:
            return self._reject(
                "return_exceeds_shipment", problem, ExceptionAction.RESOLVE, ExceptionAction.DISMISS
            )
        order = replace(
            self,
            returns=(*self.returns, customer_return),
            updated_at=max(self.updated_at, customer_return.requested_at),
        )
        return OrderDecision(order, Outcome.APPLIED)

    def receive_return(self, return_id: str, at: datetime) -> OrderDecision:
        found = next((r for r in self.returns if r.return_id == return_id), None)
        if found is None:
            raise InvalidTransition(f"order {self.key} has no return {return_id}")
        if found.status is ReturnStatus.RECEIVED:
            return OrderDecision(self, Outcome.UNCHANGED)
        returns = tuple(
            replace(r, status=ReturnStatus.RECEIVED) if r.return_id == return_id else r for r in self.returns
        )
        return OrderDecision(
            replace(self, returns=returns, updated_at=max(self.updated_at, at)), Outcome.APPLIED
        )


def can_transition(current: OrderStatus, target: OrderStatus) -> bool:
    """Whether the order state machine has a move from `current` to `target`."""
    return target in ORDER_TRANSITIONS[current]


def _status_after_payment(order: Order, status: PaymentStatus) -> Order | None:
    """Paid or authorised confirms a placed/held order; pending holds a placed one (DESIGN §5)."""
    if order.status in (OrderStatus.PLACED, OrderStatus.ON_HOLD) and status in (
        PaymentStatus.PAID,
        PaymentStatus.AUTHORIZED,
    ):
        return replace(order, status=OrderStatus.CONFIRMED, hold_reason=None)
    if order.status is OrderStatus.PLACED and status is PaymentStatus.PENDING:
        return replace(order, status=OrderStatus.ON_HOLD, hold_reason="payment pending")
    return None


def _count(lines: Iterable[ShipmentLine]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in lines:
        counts[line.line_id] += line.quantity
    return counts


def _excess(
    limits: dict[str, int], already: Counter[str], adding: tuple[ShipmentLine, ...], verb: str
) -> str | None:
    """Why `adding` goes beyond `limits` per line (ordered or shipped units), or None when it fits."""
    for line_id, quantity in sorted(_count(adding).items()):
        if line_id not in limits:
            return f"line {line_id} has no {verb.replace('returned', 'shipped')} units on this order"
        if already[line_id] + quantity > limits[line_id]:
            return f"line {line_id}: {already[line_id] + quantity} {verb}, only {limits[line_id]} allowed"
    return None
