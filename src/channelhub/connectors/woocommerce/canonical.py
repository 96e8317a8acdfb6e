"""WooCommerce orders and listings → the canonical `channelhub.domain.Order` / `ChannelListing`.

Status mapping (WooCommerce's order statuses carry both fulfilment and payment state):

    pending, checkout-draft   placed             payment pending
    on-hold                   on_hold            payment pending (awaiting e.g. a bank transfer)
    failed                    on_hold            payment pending, hold reason "payment failed"
    processing                confirmed          paid
    completed                 fulfilled          paid
    cancelled                 cancelled          voided (paid, when it had been paid)
    refunded                  fulfilled if it had been completed, else cancelled; refunded

Refund records reduce what was paid: some → partially_refunded, all → refunded. The domain
refuses what it cannot represent (an empty SKU, a zero quantity) with a `DomainError`: a mapping
gap the engine turns into a business exception, never a silent drop.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from channelhub import domain
from channelhub.connectors.woocommerce.mapping import ChannelListing, ChannelOrder
from channelhub.domain import (
    DomainError,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    Sku,
)

_ORDER_STATUS = {
    "pending": OrderStatus.PLACED,
    "checkout-draft": OrderStatus.PLACED,
    "on-hold": OrderStatus.ON_HOLD,
    "failed": OrderStatus.ON_HOLD,
    "processing": OrderStatus.CONFIRMED,
    "completed": OrderStatus.FULFILLED,
    "cancelled": OrderStatus.CANCELLED,
}


def _payment(order: ChannelOrder, at: datetime) -> Payment:
    total = Money.of(order.total, order.currency)
    refunded = sum((r.amount for r in order.refunds), Decimal(0))
    was_paid = order.paid_at is not None
    if order.status == "cancelled":
        status = PaymentStatus.PAID if was_paid else PaymentStatus.VOIDED
    elif refunded > 0 and refunded >= order.total:
        status = PaymentStatus.REFUNDED
    elif refunded > 0:
        status = PaymentStatus.PARTIALLY_REFUNDED
    elif was_paid or order.status in ("processing", "completed"):
        status = PaymentStatus.PAID
    else:
        status = PaymentStatus.PENDING
    paid = (
        total if status not in (PaymentStatus.PENDING, PaymentStatus.VOIDED) else Money.zero(order.currency)
    )
    return Payment(
        payment_id=order.transaction_id or f"{order.payment_method or 'payment'}:{order.order_id}",
        status=status,
        amount=total,
        paid=paid,
        refunded=Money.of(refunded, order.currency),
        updated_at=at,
    )


def to_domain_order(order: ChannelOrder, channel: str = "woocommerce") -> Order:
    """The canonical order for a WooCommerce order (channel code configurable per shop)."""
    if order.created_at is None:  # never an order "placed in 1970": a mapping gap to look at
        raise DomainError(f"WooCommerce order {order.order_id} has no creation date")
    if not order.lines:
        raise DomainError(f"WooCommerce order {order.order_id} has no line items")
    placed_at = order.created_at
    updated_at = order.modified_at or placed_at
    if order.status == "refunded":
        status = OrderStatus.FULFILLED if order.completed_at else OrderStatus.CANCELLED
    else:
        status = _ORDER_STATUS.get(order.status, OrderStatus.PLACED)
    lines = tuple(
        OrderLine(str(line.line_id), Sku(line.sku), line.quantity, Money.of(line.unit_price, order.currency))
        for line in order.lines
    )
    refunds = tuple(
        Refund(str(r.refund_id), Money.of(r.amount, order.currency), updated_at, r.reason)
        for r in order.refunds
    )
    return Order(
        channel=channel,
        channel_order_id=str(order.order_id),
        currency=order.currency,
        lines=lines,
        placed_at=placed_at,
        updated_at=updated_at,
        status=status,
        hold_reason="payment failed" if order.status == "failed" else None,
        payment=_payment(order, updated_at),
        refunds=refunds,
    )


def to_domain_listing(listing: ChannelListing, channel: str = "woocommerce") -> domain.ChannelListing:
    """How the SKU is listed: WooCommerce ids, whether stock is tracked, whether it sells past zero."""
    item_ids = [("product_id", str(listing.ref.product_id))]
    if listing.ref.variation_id:
        item_ids.append(("variation_id", str(listing.ref.variation_id)))
    return domain.ChannelListing(
        channel=channel,
        sku=Sku(listing.sku),
        item_ids=tuple(item_ids),
        tracks_inventory=listing.manage_stock,
        continue_selling=listing.backorders != "no",
    )
