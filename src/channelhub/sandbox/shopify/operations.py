"""What happens in the shop: stock changes, sales, fulfillments, cancellations and refunds.

Both the Admin GraphQL mutations and the storefront call these, so every path moves inventory
states the same way and emits the same webhooks:

- a sale moves units from `available` to `committed` (on hand unchanged);
- a fulfillment removes them from `committed` (on hand drops);
- cancelling with restock, or refunding unshipped units with `CANCEL`, moves them back to
  `available`; refunding shipped units with `RETURN` adds them to `available`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from channelhub.sandbox.shopify import payloads
from channelhub.sandbox.shopify.state import (
    Address,
    Customer,
    Fulfillment,
    FulfillmentLine,
    FulfillmentOrder,
    FulfillmentOrderLine,
    InventoryLevel,
    LineItem,
    Order,
    Refund,
    RefundLine,
    ShopState,
    TrackingInfo,
    Variant,
)


class OrderRefused(Exception):
    """The storefront would not sell: a tracked, DENY-policy variant lacks available units."""

    def __init__(self, sku: str | None, requested: int, available: int) -> None:
        super().__init__(f"only {available} of {sku} available, {requested} requested")
        self.sku = sku
        self.requested = requested
        self.available = available


def change_quantity(
    state: ShopState, level: InventoryLevel, name: str, delta: int, *, notify: bool = True
) -> int:
    """Add `delta` to quantity `name` (on_hand changes land on available); returns the new value."""
    with state.lock:
        target = "available" if name == "on_hand" else name
        level.quantities[target] = level.quantities.get(target, 0) + delta
        level.updated_at = state.now()
        state.inventory_items[level.item_id].updated_at = level.updated_at
        if notify and delta and target == "available":
            state.emit("inventory_levels/update", payloads.inventory_level_payload(level))
        return level.quantity(name)


@dataclass(frozen=True)
class SaleLine:
    variant: Variant
    quantity: int
    price: Decimal | None = None


def place_order(
    state: ShopState,
    lines: list[SaleLine],
    *,
    financial_status: str = "paid",
    email: str | None = None,
    customer: Customer | None = None,
    shipping_address: Address | None = None,
) -> Order:
    """A storefront checkout. Refuses (whole order) only for tracked DENY variants short of stock."""
    with state.lock:
        location = state.primary_location
        for sale in lines:
            item = state.inventory_items[sale.variant.inventory_item_id]
            level = state.level(item.id, location.id)
            available = level.quantity("available") if level else 0
            if item.tracked and sale.variant.inventory_policy == "DENY" and available < sale.quantity:
                state.stats.refused_orders += 1
                state.stats.refused_units += sum(s.quantity for s in lines)
                raise OrderRefused(sale.variant.sku, sale.quantity, available)
        now = state.now()
        order = Order(
            id=state.new_id(),
            number=state.new_order_number(),
            email=email,
            currency=state.shop.currency,
            financial_status=financial_status,
            line_items=[],
            location_id=location.id,
            created_at=now,
            updated_at=now,
            customer=customer,
            shipping_address=shipping_address,
        )
        touched: list[InventoryLevel] = []
        for sale in lines:
            variant = sale.variant
            product = state.products[variant.product_id]
            order.line_items.append(
                LineItem(
                    id=state.new_id(),
                    variant_id=variant.id,
                    product_id=product.id,
                    sku=variant.sku,
                    title=product.title,
                    variant_title=None if variant.title == "Default Title" else variant.title,
                    quantity=sale.quantity,
                    price=sale.price if sale.price is not None else variant.price,
                )
            )
            item = state.inventory_items[variant.inventory_item_id]
            level = state.level(item.id, location.id)
            if item.tracked and level is not None:
                before = level.quantity("available")
                state.stats.oversold_units += max(0, sale.quantity - max(0, before))
                change_quantity(state, level, "available", -sale.quantity, notify=False)
                change_quantity(state, level, "committed", sale.quantity, notify=False)
                touched.append(level)
            state.stats.units_sold += sale.quantity
        fulfillment_order = FulfillmentOrder(
            id=state.new_id(),
            order_id=order.id,
            location_id=location.id,
            status="OPEN",
            lines=[
                FulfillmentOrderLine(state.new_id(), line.id, line.quantity, line.quantity)
                for line in order.line_items
            ],
            created_at=now,
            updated_at=now,
        )
        order.fulfillment_order_ids.append(fulfillment_order.id)
        state.fulfillment_orders[fulfillment_order.id] = fulfillment_order
        state.orders[order.id] = order
        for line in order.line_items:
            state.line_item_orders[line.id] = order.id
        state.stats.orders += 1
        body = payloads.order_payload(state, order)
    state.emit("orders/create", body)
    if financial_status == "paid":
        state.emit("orders/paid", body)
    for level in touched:
        state.emit("inventory_levels/update", payloads.inventory_level_payload(level))
    return order


def mark_paid(state: ShopState, order: Order) -> None:
    with state.lock:
        order.financial_status = "paid"
        order.updated_at = state.now()
        body = payloads.order_payload(state, order)
    state.emit("orders/paid", body)


def fulfill(
    state: ShopState,
    order: Order,
    picks: list[tuple[FulfillmentOrder, list[tuple[FulfillmentOrderLine, int]]]],
    tracking: list[TrackingInfo],
) -> Fulfillment:
    """Ship the picked fulfillment-order lines (validated by the caller) from their location."""
    with state.lock:
        now = state.now()
        lines_by_id = {line.id: line for line in order.line_items}
        shipped: list[FulfillmentLine] = []
        location_id = picks[0][0].location_id
        for fulfillment_order, chosen in picks:
            for fo_line, quantity in chosen:
                fo_line.remaining_quantity -= quantity
                line = lines_by_id[fo_line.line_item_id]
                line.fulfilled_quantity += quantity
                shipped.append(FulfillmentLine(state.new_id(), line.id, quantity))
                variant = state.variants.get(line.variant_id) if line.variant_id else None
                if variant is not None and state.inventory_items[variant.inventory_item_id].tracked:
                    level = state.level(variant.inventory_item_id, fulfillment_order.location_id)
                    if level is not None:
                        change_quantity(state, level, "committed", -quantity, notify=False)
            remaining = sum(line.remaining_quantity for line in fulfillment_order.lines)
            fulfillment_order.status = "CLOSED" if remaining == 0 else "IN_PROGRESS"
            fulfillment_order.updated_at = now
        fulfillment = Fulfillment(
            id=state.new_id(),
            order_id=order.id,
            location_id=location_id,
            name=f"{order.name}.{len(order.fulfillment_ids) + 1}",
            status="SUCCESS",
            tracking=tracking,
            lines=shipped,
            created_at=now,
            updated_at=now,
        )
        state.fulfillments[fulfillment.id] = fulfillment
        order.fulfillment_ids.append(fulfillment.id)
        order.updated_at = now
        complete = order.fulfillment_status == "fulfilled"
        body = payloads.order_payload(state, order)
    state.emit("fulfillments/create", payloads.fulfillment_payload(state, fulfillment))
    state.emit("orders/fulfilled" if complete else "orders/partially_fulfilled", body)
    state.emit("orders/updated", body)
    return fulfillment


def cancel(state: ShopState, order: Order, *, reason: str, restock: bool, refund: bool) -> None:
    """Cancel the unshipped remainder; optionally put it back in stock and refund what was paid."""
    with state.lock:
        now = state.now()
        touched: list[InventoryLevel] = []
        for line in order.line_items:
            open_units = line.unfulfilled_quantity
            if open_units == 0:
                continue
            line.cancelled_quantity += open_units
            variant = state.variants.get(line.variant_id) if line.variant_id else None
            if variant is None or not state.inventory_items[variant.inventory_item_id].tracked:
                continue
            level = state.level(variant.inventory_item_id, order.location_id)
            if level is None:
                continue
            change_quantity(state, level, "committed", -open_units, notify=False)
            if restock:
                change_quantity(state, level, "available", open_units, notify=False)
                touched.append(level)
        for fo_id in order.fulfillment_order_ids:
            fulfillment_order = state.fulfillment_orders[fo_id]
            for fo_line in fulfillment_order.lines:
                fo_line.remaining_quantity = 0
            if fulfillment_order.status != "CLOSED":
                fulfillment_order.status = "CANCELLED" if not order.fulfillment_ids else "CLOSED"
        order.cancelled_at = now
        order.closed_at = now
        order.cancel_reason = reason
        order.updated_at = now
        if refund and order.financial_status in ("paid", "partially_refunded"):
            order.refunded_amount = order.total_price
            order.financial_status = "refunded"
        elif order.financial_status in ("pending", "authorized"):
            order.financial_status = "voided"
        body = payloads.order_payload(state, order)
    state.emit("orders/cancelled", body)
    state.emit("orders/updated", body)
    for level in touched:
        state.emit("inventory_levels/update", payloads.inventory_level_payload(level))


def create_refund(
    state: ShopState,
    order: Order,
    lines: list[tuple[LineItem, int, str, int | None]],
    *,
    amount: Decimal,
    note: str | None,
) -> Refund:
    """Refund line quantities (restock type per line) and `amount` of money."""
    with state.lock:
        now = state.now()
        refund_lines: list[RefundLine] = []
        touched: list[InventoryLevel] = []
        for line, quantity, restock_type, location_id in lines:
            unshipped_part = min(quantity, line.unfulfilled_quantity)
            line.refunded_quantity += quantity
            subtotal = line.price * quantity
            where = location_id or order.location_id
            refund_lines.append(RefundLine(state.new_id(), line.id, quantity, restock_type, where, subtotal))
            variant = state.variants.get(line.variant_id) if line.variant_id else None
            if variant is None or not state.inventory_items[variant.inventory_item_id].tracked:
                continue
            level = state.level(variant.inventory_item_id, where)
            if level is None:
                continue
            if unshipped_part:
                change_quantity(state, level, "committed", -unshipped_part, notify=False)
            if restock_type in ("RETURN", "CANCEL", "LEGACY_RESTOCK"):
                change_quantity(state, level, "available", quantity, notify=False)
                touched.append(level)
        refund = Refund(state.new_id(), order.id, note, refund_lines, amount, now)
        state.new_id()  # the refund's transaction id (payload uses refund.id + 1)
        state.refunds[refund.id] = refund
        order.refund_ids.append(refund.id)
        order.refunded_amount += amount
        if amount > 0:
            fully = order.refunded_amount >= order.total_price
            order.financial_status = "refunded" if fully else "partially_refunded"
        order.updated_at = now
        refund_body = payloads.refund_payload(state, refund)
        order_body = payloads.order_payload(state, order)
    state.emit("refunds/create", refund_body)
    state.emit("orders/updated", order_body)
    for level in touched:
        state.emit("inventory_levels/update", payloads.inventory_level_payload(level))
    return refund
