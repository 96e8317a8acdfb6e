"""Order operations: backfill reads since a cursor, fulfillments with tracking, cancel, refund.

Backfill is the safety net under webhooks (a dropped or late delivery): read every order whose
`updated_at` is at or after the cursor, oldest first. Shopify's search compares at one-second
precision, so the cursor is inclusive (`>=`) and the same order can come back twice: events
derived from it are deterministic, so the log deduplicates.

Refunds and fulfillments are not idempotent on Shopify's side; their calls are never resent after
a failure that may have reached Shopify (the client's `idempotent=False`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from channelhub.connectors.shopify.client import ShopifyGraphQLClient
from channelhub.connectors.shopify.errors import (
    ShopifyNotFound,
    ShopifyUserError,
    UserError,
    raise_user_errors,
)
from channelhub.connectors.shopify.mapping import ShopifyOrder, numeric_id, order_from_graphql
from channelhub.connectors.shopify.prices import money_text
from channelhub.connectors.shopify.queries import (
    FULFILLMENT_CREATE,
    FULFILLMENT_ORDERS,
    ORDER,
    ORDER_CANCEL,
    ORDERS_PAGE,
    REFUND_CREATE,
    REFUND_CREATE_IDEMPOTENT,
)

CANCEL_REASONS = frozenset({"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF"})


def order_gid(order_id: str | int) -> str:
    text = str(order_id)
    return text if text.startswith("gid://") else f"gid://shopify/Order/{text}"


def search_time(moment: datetime) -> str:
    """Shopify search syntax time: UTC, second precision, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def orders_updated_since(
    client: ShopifyGraphQLClient, since: datetime, *, page_size: int | None = None
) -> AsyncIterator[ShopifyOrder]:
    """Every order updated at or after `since`, oldest update first; page size planned from cost."""
    query = f"updated_at:>='{search_time(since)}'"
    async for nodes in client.paginate(
        ORDERS_PAGE,
        {"query": query},
        operation="orders_page",
        connection=lambda d: d.get("orders"),
        page_size=page_size,
    ):
        for node in nodes:
            yield order_from_graphql(node)


async def get_order(client: ShopifyGraphQLClient, order_id: str | int) -> ShopifyOrder:
    result = await client.execute(ORDER, {"id": order_gid(order_id)}, operation="order")
    node = result.data.get("order")
    if not node:
        raise ShopifyNotFound(f"order {order_id} does not exist", operation="order")
    return order_from_graphql(node)


@dataclass(frozen=True)
class ShipmentLine:
    """Units of one order line (by SKU or line id) to mark as shipped."""

    quantity: int
    sku: str | None = None
    line_item_id: str | None = None


@dataclass(frozen=True)
class Tracking:
    number: str | None = None
    company: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class FulfillmentResult:
    fulfillment_id: str
    status: str


async def create_fulfillment(
    client: ShopifyGraphQLClient,
    order_id: str | int,
    lines: Sequence[ShipmentLine] | None,
    tracking: Tracking | None = None,
    *,
    notify_customer: bool = False,
) -> FulfillmentResult:
    """Fulfil `lines` (None: everything still open) through the order's fulfillment orders.

    Shopify fulfils fulfillment-order line items, not order lines: each wanted line is taken from
    the open fulfillment orders that still hold units of it. One call may only span fulfillment
    orders of one location, so the first location that can serve is used; a partial shipment
    stays partial (the rest remains open for a later call).
    """
    result = await client.execute(
        FULFILLMENT_ORDERS, {"id": order_gid(order_id)}, operation="fulfillment_orders"
    )
    order = result.data.get("order")
    if not order:
        raise ShopifyNotFound(f"order {order_id} does not exist", operation="fulfillment_create")
    open_orders = [
        fo
        for fo in (order.get("fulfillmentOrders") or {}).get("nodes") or []
        if fo.get("status") in ("OPEN", "IN_PROGRESS")
    ]
    groups = _allocate(open_orders, lines)
    variables: dict[str, Any] = {
        "fulfillment": {
            "lineItemsByFulfillmentOrder": groups,
            "notifyCustomer": notify_customer,
        }
    }
    if tracking is not None and (tracking.number or tracking.company or tracking.url):
        variables["fulfillment"]["trackingInfo"] = {
            key: value
            for key, value in (
                ("number", tracking.number),
                ("company", tracking.company),
                ("url", tracking.url),
            )
            if value
        }
    created = await client.execute(
        FULFILLMENT_CREATE, variables, operation="fulfillment_create", idempotent=False
    )
    payload = created.data.get("fulfillmentCreate") or {}
    raise_user_errors("fulfillment_create", payload)
    fulfillment = payload.get("fulfillment") or {}
    return FulfillmentResult(
        fulfillment_id=str(fulfillment.get("id") or ""), status=str(fulfillment.get("status") or "")
    )


@dataclass
class _Want:
    line: ShipmentLine
    left: int

    def matches(self, item: dict[str, Any]) -> bool:
        if self.line.line_item_id:
            return numeric_id(self.line.line_item_id) == numeric_id((item.get("lineItem") or {}).get("id"))
        return bool(self.line.sku) and item.get("sku") == self.line.sku


def _allocate(
    open_orders: list[dict[str, Any]], lines: Sequence[ShipmentLine] | None
) -> list[dict[str, Any]]:
    if not open_orders:
        raise ShopifyUserError("fulfillment_create", [UserError("order has no open fulfillment orders")])
    if lines is None:
        return [{"fulfillmentOrderId": open_orders[0]["id"]}]  # no line items: the whole FO
    wanted = [_Want(line, line.quantity) for line in lines if line.quantity > 0]
    chosen: dict[str, list[dict[str, Any]]] = {}
    for fo in open_orders:
        for item in (fo.get("lineItems") or {}).get("nodes") or []:
            remaining = int(item.get("remainingQuantity") or 0)
            for want in wanted:
                if want.left <= 0 or remaining <= 0 or not want.matches(item):
                    continue
                take = min(want.left, remaining)
                chosen.setdefault(fo["id"], []).append({"id": item["id"], "quantity": take})
                want.left -= take
                remaining -= take
        if chosen:
            break  # one location per call (Shopify's rule)
    short = [f"{w.line.sku or w.line.line_item_id} ({w.left} left)" for w in wanted if w.left > 0]
    if short:
        raise ShopifyUserError(
            "fulfillment_create",
            [UserError(f"not enough open units to fulfil: {', '.join(short)}", code="INVALID")],
        )
    return [
        {"fulfillmentOrderId": fo_id, "fulfillmentOrderLineItems": items} for fo_id, items in chosen.items()
    ]


async def cancel_order(
    client: ShopifyGraphQLClient,
    order_id: str | int,
    *,
    reason: str = "OTHER",
    restock: bool = True,
    refund: bool = False,
    notify_customer: bool = False,
    staff_note: str | None = None,
) -> str | None:
    """Cancel the order (asynchronous on Shopify: returns the job id)."""
    if reason.upper() not in CANCEL_REASONS:
        raise ShopifyUserError(
            "order_cancel", [UserError(f"unknown cancel reason {reason!r}", ("reason",), "INVALID")]
        )
    result = await client.execute(
        ORDER_CANCEL,
        {
            "orderId": order_gid(order_id),
            "reason": reason.upper(),
            "refund": refund,
            "restock": restock,
            "notifyCustomer": notify_customer,
            "staffNote": staff_note,
        },
        operation="order_cancel",
    )
    payload = result.data.get("orderCancel") or {}
    raise_user_errors("order_cancel", payload, key="orderCancelUserErrors")
    job = payload.get("job") or {}
    return str(job["id"]) if job.get("id") else None


@dataclass(frozen=True)
class RefundLine:
    line_item_id: str
    quantity: int
    restock_type: str = "NO_RESTOCK"  # CANCEL (unshipped), RETURN (shipped), NO_RESTOCK
    location_id: str | None = None


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    amount: Decimal | None


async def create_refund(
    client: ShopifyGraphQLClient,
    order_id: str | int,
    *,
    lines: Sequence[RefundLine] = (),
    amount: Decimal | None = None,
    gateway: str = "manual",
    parent_transaction_id: str | None = None,
    note: str | None = None,
    notify: bool = False,
    idempotency_key: str | None = None,
) -> RefundResult:
    """Refund lines (restocked or not) and/or money.

    From 2026-04 the call carries `@idempotent(key:)`: give a key derived from the engine's refund
    (e.g. `refund:<id>`) so a resend after a lost answer is replayed, not refunded twice; the call
    is then safe to retry. Without the directive (2025-10) it is never resent after an ambiguous
    failure."""
    gid = order_gid(order_id)
    refund_input: dict[str, Any] = {
        "orderId": gid,
        "note": note,
        "notify": notify,
        "refundLineItems": [
            {
                "lineItemId": line.line_item_id
                if line.line_item_id.startswith("gid://")
                else f"gid://shopify/LineItem/{line.line_item_id}",
                "quantity": line.quantity,
                "restockType": line.restock_type,
                **({"locationId": line.location_id} if line.location_id else {}),
            }
            for line in lines
        ],
    }
    if amount is not None and amount > 0:
        transaction: dict[str, Any] = {
            "amount": money_text(amount),
            "gateway": gateway,
            "kind": "REFUND",
            "orderId": gid,
        }
        if parent_transaction_id:
            transaction["parentId"] = parent_transaction_id
        refund_input["transactions"] = [transaction]
    document = REFUND_CREATE
    variables: dict[str, Any] = {"input": refund_input}
    if client.profile.requires_idempotency_key:
        document = REFUND_CREATE_IDEMPOTENT
        variables["idempotencyKey"] = idempotency_key or str(uuid.uuid4())
    result = await client.execute(
        document, variables, operation="refund_create", idempotent=document is REFUND_CREATE_IDEMPOTENT
    )
    payload = result.data.get("refundCreate") or {}
    raise_user_errors("refund_create", payload)
    refund = payload.get("refund") or {}
    total = ((refund.get("totalRefundedSet") or {}).get("shopMoney") or {}).get("amount")
    return RefundResult(
        refund_id=str(refund.get("id") or ""), amount=Decimal(str(total)) if total is not None else None
    )
