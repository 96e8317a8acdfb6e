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


def _amount(value: Any, what: str) -> Decimal:
    amount = decimal_or_none(value)
    if amount is None:
        raise ShopifyMappingError(f"{what} is not a decimal: {value!r}", operation="map_order")
    return amount


def _shop_money(bag: Any) -> tuple[Decimal | None, str | None]:
    money = (bag or {}).get("shopMoney") or {}
    return decimal_or_none(money.get("amount")), money.get("currencyCode")


def order_from_rest(payload: Mapping[str, Any]) -> ShopifyOrder:
    """An order from an `orders/*` webhook body (REST resource shape)."""
    if payload.get("id") is None:
        raise ShopifyMappingError("order payload has no id", operation="map_order")
    lines = tuple(
        ShopifyLine(
            line_id=numeric_id(line.get("id")),
            sku=(line.get("sku") or None),
            quantity=int(line.get("quantity") or 0),
            unit_price=_amount(line.get("price"), "line price"),
        )
        for line in payload.get("line_items") or []
    )
    refunds = tuple(refund_from_rest(r) for r in payload.get("refunds") or [])
    fulfillments = tuple(
        ShopifyFulfillment(
            fulfillment_id=numeric_id(f.get("id")),
            lines=tuple(
                (numeric_id(li.get("id")), li.get("sku") or None, int(li.get("quantity") or 0))
                for li in f.get("line_items") or []
            ),
            company=f.get("tracking_company"),
            number=f.get("tracking_number"),
            url=f.get("tracking_url"),
        )
        for f in payload.get("fulfillments") or []
    )
    return ShopifyOrder(
        order_id=numeric_id(payload["id"]),
        name=str(payload.get("name") or ""),
        currency=str(payload.get("currency") or ""),
        created_at=_required_time(payload, "created_at"),
        updated_at=_required_time(payload, "updated_at", "created_at"),
        financial_status=str(payload.get("financial_status") or "pending").lower(),
        fulfillment_status=payload.get("fulfillment_status"),
        cancelled_at=parse_timestamp(payload.get("cancelled_at")),
        cancel_reason=payload.get("cancel_reason"),
        total=_amount(payload.get("total_price"), "total_price"),
        lines=lines,
        refunds=refunds,
        fulfillments=fulfillments,
    )


def refund_from_rest(payload: Mapping[str, Any]) -> ShopifyRefund:
    """A refund from a `refunds/create` body or an order's `refunds[]`: the refunded money is the
    sum of its successful `refund` transactions."""
    amount = sum(
        (
            _amount(t.get("amount"), "refund amount")
            for t in payload.get("transactions") or []
            if t.get("kind") == "refund" and t.get("status", "success") == "success"
        ),
        Decimal(0),
    )
    return ShopifyRefund(
        refund_id=numeric_id(payload.get("id")), amount=amount, note=str(payload.get("note") or "")
    )


def order_from_graphql(node: Mapping[str, Any]) -> ShopifyOrder:
    """An order from a GraphQL `Order` node (as selected in `queries._ORDER_FIELDS`)."""
    if not node.get("id"):
        raise ShopifyMappingError("order node has no id", operation="map_order")
    total, total_currency = _shop_money(node.get("totalPriceSet"))
    if ((node.get("lineItems") or {}).get("pageInfo") or {}).get("hasNextPage"):
        # A partial order must never look like a whole one (it would under-reserve stock).
        raise ShopifyMappingError(
            f"order {node.get('name') or node['id']} has more lines than one read returns",
            operation="map_order",
        )
    lines = []
    for line in (node.get("lineItems") or {}).get("nodes") or []:
        unit, _ = _shop_money(line.get("originalUnitPriceSet"))
        lines.append(
            ShopifyLine(
                line_id=numeric_id(line.get("id")),
                sku=line.get("sku") or None,
                quantity=int(line.get("quantity") or 0),
                unit_price=_amount(unit, "line price"),
            )
        )
    status = node.get("displayFinancialStatus")
    fulfillment = node.get("displayFulfillmentStatus")
    fulfillments = []
    for shipped in node.get("fulfillments") or []:
        tracking = (shipped.get("trackingInfo") or [{}])[0] or {}
        fulfillments.append(
            ShopifyFulfillment(
                fulfillment_id=numeric_id(shipped.get("id")),
                lines=tuple(
                    (
                        numeric_id((item.get("lineItem") or {}).get("id")),
                        (item.get("lineItem") or {}).get("sku") or None,
                        int(item.get("quantity") or 0),
                    )
                    for item in (shipped.get("fulfillmentLineItems") or {}).get("nodes") or []
                ),
                company=tracking.get("company"),
                number=tracking.get("number"),
                url=tracking.get("url"),
            )
        )
    refunds = tuple(
        ShopifyRefund(
            refund_id=numeric_id(refund.get("id")),
            amount=_amount(_shop_money(refund.get("totalRefundedSet"))[0], "refund amount"),
            note=str(refund.get("note") or ""),
        )
        for refund in node.get("refunds") or []
    )
    return ShopifyOrder(
        order_id=numeric_id(node["id"]),
        name=str(node.get("name") or ""),
        currency=str(node.get("currencyCode") or total_currency or ""),
        created_at=_required_time(node, "createdAt"),
        updated_at=_required_time(node, "updatedAt", "createdAt"),
        financial_status=str(status or "pending").lower(),
        fulfillment_status=str(fulfillment).lower() if fulfillment else None,
        cancelled_at=parse_timestamp(node.get("cancelledAt")),
        cancel_reason=str(node["cancelReason"]).lower() if node.get("cancelReason") else None,
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
        refund = refund_from_rest(payload)
        currencies = {str(t.get("currency")) for t in payload.get("transactions") or [] if t.get("currency")}
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
