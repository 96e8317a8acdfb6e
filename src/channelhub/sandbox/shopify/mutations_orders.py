"""`fulfillmentCreate`, `orderCancel` and `refundCreate`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import GraphQLResolveInfo

from channelhub.sandbox.shopify import operations
from channelhub.sandbox.shopify.idempotency import run_mutation_once
from channelhub.sandbox.shopify.relay import parse_gid
from channelhub.sandbox.shopify.resolvers import Resolver, ctx
from channelhub.sandbox.shopify.state import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    LineItem,
    Order,
    ShopState,
    TrackingInfo,
    gid,
)


def _user_error(field: list[Any], message: str) -> dict[str, Any]:
    return {"field": [str(part) for part in field], "message": message}


def _tracking(raw: dict[str, Any] | None) -> list[TrackingInfo]:
    if not raw:
        return []
    numbers = list(raw.get("numbers") or ([raw["number"]] if raw.get("number") else []))
    urls = list(raw.get("urls") or ([raw["url"]] if raw.get("url") else []))
    count = max(len(numbers), len(urls), 1 if raw.get("company") else 0)
    return [
        TrackingInfo(
            company=raw.get("company"),
            number=numbers[i] if i < len(numbers) else None,
            url=urls[i] if i < len(urls) else None,
        )
        for i in range(count)
    ]


def fulfillment_create(
    _: Any, info: GraphQLResolveInfo, fulfillment: dict[str, Any], message: str | None = None
) -> dict[str, Any]:
    state = ctx(info).state
    groups = fulfillment["lineItemsByFulfillmentOrder"]
    base = ["fulfillment", "lineItemsByFulfillmentOrder"]
    with state.lock:
        if not groups:
            return {
                "fulfillment": None,
                "userErrors": [_user_error(base, "Line items by fulfillment order can't be blank.")],
            }
        picks: list[tuple[FulfillmentOrder, list[tuple[FulfillmentOrderLine, int]]]] = []
        errors: list[dict[str, Any]] = []
        for index, group in enumerate(groups):
            fo_id = parse_gid(group["fulfillmentOrderId"], "FulfillmentOrder")
            fulfillment_order = state.fulfillment_orders.get(fo_id) if fo_id is not None else None
            path = [*base, index, "fulfillmentOrderId"]
            if fulfillment_order is None:
                errors.append(_user_error(path, "Fulfillment order does not exist."))
                continue
            if fulfillment_order.status not in ("OPEN", "IN_PROGRESS"):
                errors.append(
                    _user_error(
                        path,
                        f"Fulfillment order {fulfillment_order.id} has an unfulfillable status= "
                        f"{fulfillment_order.status.lower()}.",
                    )
                )
                continue
            requested = group.get("fulfillmentOrderLineItems")
            chosen: list[tuple[FulfillmentOrderLine, int]] = []
            if not requested:
                chosen = [
                    (line, line.remaining_quantity)
                    for line in fulfillment_order.lines
                    if line.remaining_quantity
                ]
            else:
                lines = {line.id: line for line in fulfillment_order.lines}
                for line_index, wanted in enumerate(requested):
                    line_id = parse_gid(wanted["id"], "FulfillmentOrderLineItem")
                    line = lines.get(line_id) if line_id is not None else None
                    line_path = [*base, index, "fulfillmentOrderLineItems", line_index]
                    if line is None:
                        errors.append(
                            _user_error([*line_path, "id"], "Fulfillment order line item does not exist.")
                        )
                    elif not 0 < wanted["quantity"] <= line.remaining_quantity:
                        errors.append(
                            _user_error(
                                [*line_path, "quantity"],
                                "Invalid fulfillment order line item quantity requested.",
                            )
                        )
                    else:
                        chosen.append((line, wanted["quantity"]))
            picks.append((fulfillment_order, chosen))
        if not errors:
            orders = {fo.order_id for fo, _ in picks}
            locations = {fo.location_id for fo, _ in picks}
            if len(orders) > 1:
                errors.append(_user_error(base, "All fulfillment orders must belong to the same order."))
            elif len(locations) > 1:
                errors.append(
                    _user_error(base, "All fulfillment orders must be assigned to the same location.")
                )
            elif not any(chosen for _, chosen in picks):
                errors.append(_user_error(base, "No line items to fulfill."))
        if errors:
            return {"fulfillment": None, "userErrors": errors}
        order = state.orders[picks[0][0].order_id]
        if order.cancelled_at is not None:
            return {"fulfillment": None, "userErrors": [_user_error(base, "Order has been canceled.")]}
    created = operations.fulfill(
        state, order, [(fo, c) for fo, c in picks if c], _tracking(fulfillment.get("trackingInfo"))
    )
    return {"fulfillment": created, "userErrors": []}


def order_cancel(
    _: Any,
    info: GraphQLResolveInfo,
    orderId: str,
    reason: str,
    restock: bool,
    refund: bool | None = None,
    notifyCustomer: bool = False,
    staffNote: str | None = None,
) -> dict[str, Any]:
    state = ctx(info).state
    number = parse_gid(orderId, "Order")
    order = state.orders.get(number) if number is not None else None

    def refused(code: str, message: str) -> dict[str, Any]:
        error = {"field": ["orderId"], "message": message, "code": code}
        return {
            "job": None,
            "orderCancelUserErrors": [error],
            "userErrors": [{"field": ["orderId"], "message": message}],
        }

    if order is None:
        return refused("NOT_FOUND", "Order does not exist")
    if order.cancelled_at is not None:
        return refused("INVALID", "Cannot cancel an order that has already been canceled")
    if order.fulfillment_ids:
        return refused("INVALID", "Cannot cancel an order that has fulfillments")
    operations.cancel(state, order, reason=reason, restock=restock, refund=bool(refund))
    return {
        "job": {"id": gid("Job", state.new_id()), "done": True},
        "orderCancelUserErrors": [],
        "userErrors": [],
    }


def _refund_lines(
    order: Order, raw_lines: list[dict[str, Any]], state_locations: dict[int, Any]
) -> tuple[list[tuple[LineItem, int, str, int | None]], list[dict[str, Any]]]:
    by_id = {line.id: line for line in order.line_items}
    lines: list[tuple[LineItem, int, str, int | None]] = []
    errors: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_lines):
        path = ["refundLineItems", index]
        line_id = parse_gid(raw["lineItemId"], "LineItem")
        line = by_id.get(line_id) if line_id is not None else None
        if line is None:
            errors.append(_user_error([*path, "lineItemId"], "Line item does not exist"))
            continue
        if not 0 < raw["quantity"] <= line.current_quantity:
            errors.append(
                _user_error([*path, "quantity"], "Quantity cannot refund more items than were purchased")
            )
            continue
        location_id = parse_gid(raw["locationId"], "Location") if raw.get("locationId") else None
        if raw.get("locationId") and location_id not in state_locations:
            errors.append(_user_error([*path, "locationId"], "Location does not exist"))
            continue
        lines.append((line, raw["quantity"], raw.get("restockType") or "RETURN", location_id))
    return lines, errors


def refund_create(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    def mismatch() -> dict[str, Any]:
        message = "The same idempotency key cannot be used with different operation parameters."
        return {"order": None, "refund": None, "userErrors": [_user_error(["idempotencyKey"], message)]}

    return run_mutation_once(
        info, "refundCreate", input, lambda state, version, arguments: _refund(state, arguments), mismatch
    )


def _refund(state: ShopState, input: dict[str, Any]) -> dict[str, Any]:
    number = parse_gid(input["orderId"], "Order")
    with state.lock:
        order = state.orders.get(number) if number is not None else None
        if order is None:
            return {
                "order": None,
                "refund": None,
                "userErrors": [_user_error(["orderId"], "Order does not exist")],
            }
        lines, errors = _refund_lines(order, input.get("refundLineItems") or [], state.locations)
        amount = Decimal("0.00")
        for index, transaction in enumerate(input.get("transactions") or []):
            try:
                value = Decimal(str(transaction["amount"]))
            except InvalidOperation:
                errors.append(_user_error(["transactions", index, "amount"], "Amount is invalid"))
                continue
            if transaction["kind"] != "REFUND":
                errors.append(_user_error(["transactions", index, "kind"], "Kind must be refund"))
                continue
            amount += value
        refundable = order.total_price - order.refunded_amount
        if amount > refundable:
            errors.append(
                _user_error(["transactions"], f"Refund amount ${amount} is greater than net payment received")
            )
        if amount > 0 and order.financial_status not in ("paid", "partially_refunded"):
            errors.append(_user_error(["transactions"], "Order has no captured payment to refund"))
        if errors:
            return {"order": None, "refund": None, "userErrors": errors}
    refund = operations.create_refund(state, order, lines, amount=amount, note=input.get("note"))
    return {"order": order, "refund": refund, "userErrors": []}


ORDER_MUTATIONS: dict[str, dict[str, Resolver]] = {
    "Mutation": {
        "fulfillmentCreate": fulfillment_create,
        "orderCancel": order_cancel,
        "refundCreate": refund_create,
    }
}
