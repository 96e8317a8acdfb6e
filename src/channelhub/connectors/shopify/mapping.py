"""Shopify orders (REST webhook shape and GraphQL shape) → one typed snapshot → canonical events.

Both shapes describe the same order: webhooks carry the REST resource (numeric ids plus
`admin_graphql_api_id`, snake_case, money as strings, `financial_status` lower-case), GraphQL
reads carry gids, camelCase, `MoneyBag`s and `displayFinancialStatus` upper-case. Both are reduced
to `ShopifyOrder`, and the canonical events are derived from that one snapshot, so a webhook and
a backfill read of the same order produce the same events (and the same event ids).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from channelhub.connectors.errors import ValidationFailed
from channelhub.connectors.shopify.catalog import decimal_or_none
from channelhub.connectors.shopify.errors import ShopifyError
from channelhub.connectors.shopify.webhooks import parse_timestamp
from channelhub.domain.catalog import Sku
from channelhub.domain.errors import DomainError
from channelhub.domain.events import (
    CanonicalEvent,
    OrderCancelled,
    OrderPaid,
    OrderPlaced,
    PlacedLine,
    RefundCreated,
    ShipmentCreated,
    ShippedLine,
)
from channelhub.domain.money import Money

# `financial_status` values that mean the money was captured at some point.
PAID_STATUSES = frozenset({"paid", "partially_refunded", "refunded"})
_MAX_QUANTITY = 10**9  # no order line holds a billion units: a bigger "quantity" is garbage


class ShopifyMappingError(ShopifyError, ValidationFailed):
    """A Shopify payload cannot be mapped to the canonical model (a mapping gap, not a crash)."""


@dataclass(frozen=True)
class ShopifyLine:
    line_id: str  # numeric id as text (REST `id`, GraphQL gid's last part): stable across shapes
    sku: str | None
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class ShopifyRefund:
    refund_id: str
    amount: Decimal
    note: str


@dataclass(frozen=True)
class ShopifyFulfillment:
    fulfillment_id: str
    lines: tuple[tuple[str, str | None, int], ...]  # (line id, sku, quantity)
    company: str | None
    number: str | None
    url: str | None


@dataclass(frozen=True)
class ShopifyOrder:
    order_id: str  # numeric id as text
    name: str
    currency: str
    created_at: datetime
    updated_at: datetime
    financial_status: str  # lower-case REST vocabulary: pending, authorized, paid, refunded, …
    fulfillment_status: str | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    total: Decimal
    lines: tuple[ShopifyLine, ...]
    refunds: tuple[ShopifyRefund, ...] = ()
    fulfillments: tuple[ShopifyFulfillment, ...] = ()

    @property
    def gid(self) -> str:
        return f"gid://shopify/Order/{self.order_id}"


def numeric_id(value: Any) -> str:
    """`gid://shopify/Order/123` or `123` → `"123"`."""
    text = str(value or "").strip()
    return text.rsplit("/", 1)[-1].split("?", 1)[0] if text.startswith("gid://") else text


def _required_time(raw: Mapping[str, Any], *keys: str) -> datetime:
    for key in keys:
        moment = parse_timestamp(raw.get(key))
        if moment is not None:
            return moment
    raise ShopifyMappingError(f"order has no valid {keys[0]}", operation="map_order", details=dict(raw))


def _object(value: Any, what: str, *, required: bool = False) -> Mapping[str, Any]:
    """`value` as a JSON object (absent → empty); anything else is a mapping error, not a crash."""
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise ShopifyMappingError(f"{what} must be an object, not {_kind(value)}", operation="map_order")
    return value


def _objects(value: Any, what: str) -> list[Mapping[str, Any]]:
    """`value` as a JSON array of objects (absent → empty)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ShopifyMappingError(f"{what} must be a list, not {_kind(value)}", operation="map_order")
    for position, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise ShopifyMappingError(
                f"{what}[{position}] must be an object, not {_kind(item)}", operation="map_order"
            )
    return value


def _count(value: Any, what: str) -> int:
    """A whole quantity (absent → 0): JSON integers, or text/floats that hold a whole number."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise ShopifyMappingError(f"{what} must be a whole number, not a boolean", operation="map_order")
    if isinstance(value, int):
        return value
    number = decimal_or_none(value) if isinstance(value, str | float) else None
    if number is None or number != number.to_integral_value() or abs(number) > _MAX_QUANTITY:
        raise ShopifyMappingError(f"{what} is not a whole number: {value!r}", operation="map_order")
    return int(number)


def _text_or_none(value: Any, what: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ShopifyMappingError(f"{what} must be text, not {_kind(value)}", operation="map_order")
    return value


def _kind(value: Any) -> str:
    names = {
        type(None): "null",
        dict: "an object",
        list: "a list",
        str: "text",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }
    return names.get(type(value), type(value).__name__)


def _amount(value: Any, what: str) -> Decimal:
    amount = decimal_or_none(value)
    if amount is None:
        raise ShopifyMappingError(f"{what} is not a decimal: {value!r}", operation="map_order")
    return amount


def _shop_money(bag: Any, what: str = "money") -> tuple[Decimal | None, str | None]:
    money = _object(_object(bag, what).get("shopMoney"), f"{what}.shopMoney")
    return decimal_or_none(money.get("amount")), _text_or_none(
        money.get("currencyCode"), f"{what}.currencyCode"
    )


def order_from_rest(payload: Mapping[str, Any]) -> ShopifyOrder:
    """An order from an `orders/*` webhook body (REST resource shape). A body of the wrong shape
    (an array where a list of line items belongs, text for a quantity, ...) is a
    `ShopifyMappingError` naming the field, never an `AttributeError`."""
    payload = _object(payload, "order payload", required=True)
    if payload.get("id") is None:
        raise ShopifyMappingError("order payload has no id", operation="map_order")
    lines = tuple(
        ShopifyLine(
            line_id=numeric_id(line.get("id")),
            sku=_text_or_none(line.get("sku"), f"line_items[{i}].sku"),
            quantity=_count(line.get("quantity"), f"line_items[{i}].quantity"),
            unit_price=_amount(line.get("price"), f"line_items[{i}].price"),
        )
        for i, line in enumerate(_objects(payload.get("line_items"), "line_items"))
    )
    refunds = tuple(refund_from_rest(r) for r in _objects(payload.get("refunds"), "refunds"))
    fulfillments = tuple(
        ShopifyFulfillment(
            fulfillment_id=numeric_id(f.get("id")),
            lines=tuple(
                (
                    numeric_id(li.get("id")),
                    _text_or_none(li.get("sku"), f"fulfillments[{i}].line_items[{j}].sku"),
                    _count(li.get("quantity"), f"fulfillments[{i}].line_items[{j}].quantity"),
                )
                for j, li in enumerate(_objects(f.get("line_items"), f"fulfillments[{i}].line_items"))
            ),
            company=_text_or_none(f.get("tracking_company"), f"fulfillments[{i}].tracking_company"),
            number=_text_or_none(f.get("tracking_number"), f"fulfillments[{i}].tracking_number"),
            url=_text_or_none(f.get("tracking_url"), f"fulfillments[{i}].tracking_url"),
        )
        for i, f in enumerate(_objects(payload.get("fulfillments"), "fulfillments"))
    )
    return ShopifyOrder(
        order_id=numeric_id(payload["id"]),
        name=str(payload.get("name") or ""),
        currency=str(payload.get("currency") or ""),
        created_at=_required_time(payload, "created_at"),
        updated_at=_required_time(payload, "updated_at", "created_at"),
        financial_status=str(payload.get("financial_status") or "pending").lower(),
        fulfillment_status=_text_or_none(payload.get("fulfillment_status"), "fulfillment_status"),
        cancelled_at=parse_timestamp(payload.get("cancelled_at")),
        cancel_reason=_text_or_none(payload.get("cancel_reason"), "cancel_reason"),
        total=_amount(payload.get("total_price"), "total_price"),
        lines=lines,
        refunds=refunds,
        fulfillments=fulfillments,
    )


def refund_from_rest(payload: Mapping[str, Any]) -> ShopifyRefund:
    """A refund from a `refunds/create` body or an order's `refunds[]`: the refunded money is the
    sum of its successful `refund` transactions."""
    payload = _object(payload, "refund", required=True)
    amount = sum(
        (
            _amount(t.get("amount"), "refund amount")
            for t in _objects(payload.get("transactions"), "refund transactions")
            if t.get("kind") == "refund" and t.get("status", "success") == "success"
        ),
        Decimal(0),
    )
    return ShopifyRefund(
        refund_id=numeric_id(payload.get("id")), amount=amount, note=str(payload.get("note") or "")
    )


def order_from_graphql(node: Mapping[str, Any]) -> ShopifyOrder:
    """An order from a GraphQL `Order` node (as selected in `queries._ORDER_FIELDS`)."""
    node = _object(node, "order node", required=True)
    if not node.get("id"):
        raise ShopifyMappingError("order node has no id", operation="map_order")
    total, total_currency = _shop_money(node.get("totalPriceSet"), "totalPriceSet")
    line_items = _object(node.get("lineItems"), "lineItems")
    if _object(line_items.get("pageInfo"), "lineItems.pageInfo").get("hasNextPage"):
        # A partial order must never look like a whole one (it would under-reserve stock).
        raise ShopifyMappingError(
            f"order {node.get('name') or node['id']} has more lines than one read returns",
            operation="map_order",
        )
    lines = []
    for i, line in enumerate(_objects(line_items.get("nodes"), "lineItems.nodes")):
        what = f"lineItems.nodes[{i}]"
        unit, _ = _shop_money(line.get("originalUnitPriceSet"), f"{what}.originalUnitPriceSet")
        lines.append(
            ShopifyLine(
                line_id=numeric_id(line.get("id")),
                sku=_text_or_none(line.get("sku"), f"{what}.sku"),
                quantity=_count(line.get("quantity"), f"{what}.quantity"),
                unit_price=_amount(unit, f"{what} price"),
            )
        )
    status = _text_or_none(node.get("displayFinancialStatus"), "displayFinancialStatus")
    fulfillment = _text_or_none(node.get("displayFulfillmentStatus"), "displayFulfillmentStatus")
    cancel_reason = _text_or_none(node.get("cancelReason"), "cancelReason")
    fulfillments = []
    for i, shipped in enumerate(_objects(node.get("fulfillments"), "fulfillments")):
        what = f"fulfillments[{i}]"
        tracking_list = _objects(shipped.get("trackingInfo"), f"{what}.trackingInfo")
        tracking = tracking_list[0] if tracking_list else {}
        shipped_items = _object(shipped.get("fulfillmentLineItems"), f"{what}.fulfillmentLineItems")
        shipped_lines = []
        for j, item in enumerate(_objects(shipped_items.get("nodes"), f"{what}.fulfillmentLineItems.nodes")):
            line_item = _object(item.get("lineItem"), f"{what}.fulfillmentLineItems.nodes[{j}].lineItem")
            shipped_lines.append(
                (
                    numeric_id(line_item.get("id")),
                    _text_or_none(line_item.get("sku"), f"{what} line sku"),
                    _count(item.get("quantity"), f"{what} line quantity"),
                )
            )
        fulfillments.append(
            ShopifyFulfillment(
                fulfillment_id=numeric_id(shipped.get("id")),
                lines=tuple(shipped_lines),
                company=_text_or_none(tracking.get("company"), f"{what} tracking company"),
                number=_text_or_none(tracking.get("number"), f"{what} tracking number"),
                url=_text_or_none(tracking.get("url"), f"{what} tracking url"),
            )
        )
    refunds = tuple(
        ShopifyRefund(
            refund_id=numeric_id(refund.get("id")),
            amount=_amount(
                _shop_money(refund.get("totalRefundedSet"), f"refunds[{i}].totalRefundedSet")[0],
                "refund amount",
            ),
            note=str(refund.get("note") or ""),
        )
        for i, refund in enumerate(_objects(node.get("refunds"), "refunds"))
    )
    return ShopifyOrder(
        order_id=numeric_id(node["id"]),
        name=str(node.get("name") or ""),
        currency=_text_or_none(node.get("currencyCode"), "currencyCode") or total_currency or "",
        created_at=_required_time(node, "createdAt"),
        updated_at=_required_time(node, "updatedAt", "createdAt"),
        financial_status=str(status or "pending").lower(),
        fulfillment_status=str(fulfillment).lower() if fulfillment else None,
        cancelled_at=parse_timestamp(node.get("cancelledAt")),
        cancel_reason=cancel_reason.lower() if cancel_reason else None,
        total=_amount(total, "totalPriceSet"),
        lines=tuple(lines),
        refunds=refunds,
        fulfillments=tuple(fulfillments),
    )


def order_key(channel: str, order: ShopifyOrder) -> str:
    """`<channel>:<order id>`: also the Odoo `client_order_ref` (the idempotency key)."""
    return f"{channel}:{order.order_id}"


def order_events(channel: str, order: ShopifyOrder) -> list[CanonicalEvent]:
    """The canonical facts this snapshot states. Deterministic event ids make re-deriving them
    (a duplicate webhook, a backfill read) harmless: the log deduplicates. A line without a SKU
    (custom item) or a malformed amount is a mapping gap: `ShopifyMappingError`, never a crash."""
    try:
        return _order_events(channel, order)
    except DomainError as exc:
        raise ShopifyMappingError(
            f"order {order.name or order.order_id}: {exc}", operation="map_order"
        ) from exc


def _order_events(channel: str, order: ShopifyOrder) -> list[CanonicalEvent]:
    key = order_key(channel, order)
    events: list[CanonicalEvent] = [
        OrderPlaced(
            occurred_at=order.created_at,
            order_key=key,
            channel=channel,
            channel_order_id=order.order_id,
            lines=tuple(
                PlacedLine(
                    line_id=line.line_id,
                    sku=Sku(line.sku or ""),
                    quantity=line.quantity,
                    unit_price=Money(line.unit_price, order.currency),
                )
                for line in order.lines
                if line.quantity > 0
            ),
            total=Money(order.total, order.currency),
        )
    ]
    if order.financial_status in PAID_STATUSES:
        events.append(
            OrderPaid(
                occurred_at=order.updated_at,
                order_key=key,
                payment_id=f"{order.order_id}:capture",
                amount=Money(order.total, order.currency),
            )
        )
    if order.cancelled_at is not None:
        events.append(
            OrderCancelled(
                occurred_at=order.cancelled_at, order_key=key, reason=order.cancel_reason or "other"
            )
        )
    skus = {line.line_id: line.sku for line in order.lines}
    for fulfillment in order.fulfillments:
        shipped = tuple(
            ShippedLine(line_id=line_id, sku=Sku(sku or skus.get(line_id) or ""), quantity=quantity)
            for line_id, sku, quantity in fulfillment.lines
            if quantity > 0
        )
        if shipped:
            events.append(
                ShipmentCreated(
                    occurred_at=order.updated_at,
                    order_key=key,
                    shipment_id=fulfillment.fulfillment_id,
                    lines=shipped,
                    carrier=fulfillment.company,
                    tracking_number=fulfillment.number,
                    tracking_url=fulfillment.url,
                )
            )
    for refund in order.refunds:
        events.append(refund_event(channel, order.order_id, order.currency, refund, order.updated_at))
    return events


def refund_event(
    channel: str, order_id: str, currency: str, refund: ShopifyRefund, occurred_at: datetime
) -> RefundCreated:
    return RefundCreated(
        occurred_at=occurred_at,
        order_key=f"{channel}:{order_id}",
        refund_id=refund.refund_id,
        amount=Money(refund.amount, currency),
        reason=refund.note,
    )


ORDER_TOPICS = frozenset(
    {
        "orders/create",
        "orders/updated",
        "orders/paid",
        "orders/cancelled",
        "orders/fulfilled",
        "orders/partially_fulfilled",
    }
)


def delivery_events(channel: str, topic: str, payload: Mapping[str, Any]) -> list[CanonicalEvent]:
    """Canonical events of a verified webhook delivery. Every `orders/*` topic carries the whole
    order, so each yields the full set its snapshot states (deduplicated downstream by event id);
    `refunds/create` yields the refund. Channel-side stock and catalog topics
    (`inventory_levels/update`, `products/update`) state no canonical fact: they feed
    reconciliation, so they yield nothing here."""
    if topic in ORDER_TOPICS:
        return order_events(channel, order_from_rest(payload))
    if topic == "refunds/create":
        payload = _object(payload, "refund", required=True)
        refund = refund_from_rest(payload)
        transactions = _objects(payload.get("transactions"), "refund transactions")
        currencies = {str(t.get("currency")) for t in transactions if t.get("currency")}
        if payload.get("order_id") is None or len(currencies) > 1 or (refund.amount and not currencies):
            raise ShopifyMappingError("refund without order id or one currency", operation="map_refund")
        occurred = parse_timestamp(payload.get("created_at"))
        if occurred is None:
            raise ShopifyMappingError("refund has no valid created_at", operation="map_refund")
        currency = currencies.pop() if currencies else "USD"
        try:
            return [refund_event(channel, numeric_id(payload["order_id"]), currency, refund, occurred)]
        except DomainError as exc:
            raise ShopifyMappingError(str(exc), operation="map_refund") from exc
    return []
