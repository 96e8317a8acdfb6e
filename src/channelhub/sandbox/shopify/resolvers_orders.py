"""Object resolvers for orders and their fulfillment, refunds, webhook subscriptions and bulk operations."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from graphql import GraphQLResolveInfo

from channelhub.sandbox.shopify.resolvers import (
    Resolver,
    ctx,
    gid_field,
    legacy_id,
    money_bag,
    page,
    time_field,
    topic_enum,
)
from channelhub.sandbox.shopify.search_fields import fulfillment_order_fields, search
from channelhub.sandbox.shopify.state import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    LineItem,
    Order,
    RefundLine,
    WebhookSubscription,
    gid,
)


def _order_line(line_item_id: int, info: GraphQLResolveInfo) -> LineItem | None:
    found = ctx(info).state.line_item(line_item_id)
    return found[1] if found else None


def _line_item_set(attr: str) -> Resolver:
    def resolve(line: LineItem, info: GraphQLResolveInfo) -> dict[str, Any]:
        currency = ctx(info).state.shop.currency
        amount = {
            "unit": line.price,
            "total": line.price * line.quantity,
            "discounted": line.price * line.quantity,
        }[attr]
        return money_bag(amount, currency)

    return resolve


def _fo_order(fo: FulfillmentOrder, info: GraphQLResolveInfo) -> Order:
    return ctx(info).state.orders[fo.order_id]


def _fulfillment_status(order: Order, _info: GraphQLResolveInfo) -> str:
    return {None: "UNFULFILLED", "partial": "PARTIALLY_FULFILLED", "fulfilled": "FULFILLED"}[
        order.fulfillment_status
    ]


def _fo_lines_query(order: Order, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    state = ctx(info).state
    records = [state.fulfillment_orders[i] for i in order.fulfillment_order_ids]
    return page(info, search(records, args.get("query"), fulfillment_order_fields), args)


def _api_version(sub: WebhookSubscription, info: GraphQLResolveInfo) -> dict[str, Any]:
    served = ctx(info).served_versions
    return {"handle": sub.api_version, "displayName": sub.api_version, "supported": sub.api_version in served}


def _mailing_address(order: Order, _info: GraphQLResolveInfo) -> dict[str, Any] | None:
    address = order.shipping_address
    if address is None:
        return None
    return {
        "name": address.name,
        "firstName": address.first_name,
        "lastName": address.last_name,
        "address1": address.address1,
        "address2": address.address2,
        "city": address.city,
        "zip": address.zip,
        "province": address.province,
        "countryCodeV2": address.country_code,
        "phone": address.phone,
    }


ORDER_OBJECT_RESOLVERS: dict[str, dict[str, Resolver]] = {
    "Customer": {
        "id": gid_field("Customer"),
        "legacyResourceId": legacy_id,
        "displayName": lambda c, _i: " ".join(p for p in (c.first_name, c.last_name) if p) or (c.email or ""),
    },
    "Order": {
        "id": gid_field("Order"),
        "legacyResourceId": legacy_id,
        "name": lambda o, _i: o.name,
        "test": lambda _o, _i: False,
        "closed": lambda o, _i: o.closed_at is not None,
        "createdAt": time_field("created_at"),
        "processedAt": time_field("created_at"),
        "updatedAt": time_field("updated_at"),
        "cancelledAt": time_field("cancelled_at"),
        "currencyCode": lambda o, _i: o.currency,
        "displayFinancialStatus": lambda o, _i: o.financial_status.upper(),
        "displayFulfillmentStatus": _fulfillment_status,
        "totalPriceSet": lambda o, _i: money_bag(o.total_price, o.currency),
        "subtotalPriceSet": lambda o, _i: money_bag(o.total_price, o.currency),
        "currentTotalPriceSet": lambda o, _i: money_bag(o.current_total_price, o.currency),
        "totalRefundedSet": lambda o, _i: money_bag(o.refunded_amount, o.currency),
        "lineItems": lambda o, info, **a: page(info, o.line_items, a),
        "fulfillmentOrders": _fo_lines_query,
        "shippingAddress": _mailing_address,
        "fulfillments": lambda o, info, first=None: [
            ctx(info).state.fulfillments[f] for f in o.fulfillment_ids
        ][:first],
        "refunds": lambda o, info, first=None: [ctx(info).state.refunds[r] for r in o.refund_ids][:first],
    },
    "LineItem": {
        "id": gid_field("LineItem"),
        "name": lambda li, _i: li.title if not li.variant_title else f"{li.title} - {li.variant_title}",
        "refundableQuantity": lambda li, _i: li.current_quantity,
        "variant": lambda li, info: ctx(info).state.variants.get(li.variant_id),
        "product": lambda li, info: ctx(info).state.products.get(li.product_id),
        "originalUnitPriceSet": _line_item_set("unit"),
        "originalTotalSet": _line_item_set("total"),
        "discountedTotalSet": _line_item_set("discounted"),
    },
    "FulfillmentOrder": {
        "id": gid_field("FulfillmentOrder"),
        "orderId": lambda fo, _i: gid("Order", fo.order_id),
        "order": _fo_order,
        "assignedLocation": lambda fo, info: {
            "name": ctx(info).state.locations[fo.location_id].name,
            "location": ctx(info).state.locations[fo.location_id],
        },
        "createdAt": time_field("created_at"),
        "updatedAt": time_field("updated_at"),
        "lineItems": lambda fo, info, **a: page(info, fo.lines, a),
    },
    "FulfillmentOrderLineItem": {
        "id": gid_field("FulfillmentOrderLineItem"),
        "lineItem": lambda fol, info: _order_line(fol.line_item_id, info),
        "sku": lambda fol, info: getattr(_order_line(fol.line_item_id, info), "sku", None),
        "variant": lambda fol, info: ctx(info).state.variants.get(
            getattr(_order_line(fol.line_item_id, info), "variant_id", None) or -1
        ),
        "inventoryItemId": lambda fol, info: _fol_item_gid(fol, info),
    },
    "Fulfillment": {
        "id": gid_field("Fulfillment"),
        "legacyResourceId": legacy_id,
        "totalQuantity": lambda f, _i: sum(line.quantity for line in f.lines),
        "createdAt": time_field("created_at"),
        "updatedAt": time_field("updated_at"),
        "order": lambda f, info: ctx(info).state.orders[f.order_id],
        "location": lambda f, info: ctx(info).state.locations.get(f.location_id),
        "trackingInfo": lambda f, _i, first=None: f.tracking[:first],
        "fulfillmentLineItems": lambda f, info, **a: page(info, f.lines, a),
    },
    "FulfillmentLineItem": {
        "id": gid_field("FulfillmentLineItem"),
        "lineItem": lambda fl, info: _order_line(fl.line_item_id, info),
    },
    "Refund": {
        "id": gid_field("Refund"),
        "legacyResourceId": legacy_id,
        "createdAt": time_field("created_at"),
        "order": lambda r, info: ctx(info).state.orders[r.order_id],
        "totalRefundedSet": lambda r, info: money_bag(r.amount, ctx(info).state.shop.currency),
        "refundLineItems": lambda r, info, **a: page(info, r.lines, a),
    },
    "RefundLineItem": {
        "id": lambda rl, _i: gid("RefundLineItem", rl.id),
        "lineItem": lambda rl, info: _order_line(rl.line_item_id, info),
        "restocked": lambda rl, _i: rl.restock_type in ("RETURN", "CANCEL", "LEGACY_RESTOCK"),
        "location": lambda rl, info: ctx(info).state.locations.get(rl.location_id or -1),
        "priceSet": lambda rl, info: money_bag(_unit(rl), ctx(info).state.shop.currency),
        "subtotalSet": lambda rl, info: money_bag(rl.subtotal, ctx(info).state.shop.currency),
    },
    "WebhookSubscription": {
        "id": gid_field("WebhookSubscription"),
        "legacyResourceId": legacy_id,
        "topic": lambda s, _i: topic_enum(s.topic),
        "callbackUrl": lambda s, _i: s.uri,
        "endpoint": lambda s, _i: {"__typename": "WebhookHttpEndpoint", "callbackUrl": s.uri},
        "format": lambda s, _i: s.fmt,
        "apiVersion": _api_version,
        "createdAt": time_field("created_at"),
        "updatedAt": time_field("updated_at"),
    },
    "BulkOperation": {
        "id": gid_field("BulkOperation"),
        "type": lambda _b, _i: "QUERY",
        "objectCount": lambda b, _i: str(b.object_count),
        "rootObjectCount": lambda b, _i: str(b.root_object_count),
        "fileSize": lambda b, _i: str(len(b.result_jsonl.encode())) if b.result_jsonl is not None else None,
        "url": lambda b, info: f"{ctx(info).base_url}/_sandbox/bulk/{b.id}.jsonl" if b.result_jsonl else None,
        "partialDataUrl": lambda _b, _i: None,
        "createdAt": time_field("created_at"),
        "completedAt": time_field("completed_at"),
    },
}


def _unit(line: RefundLine) -> Decimal:
    return line.subtotal / line.quantity if line.quantity else Decimal(0)


def _fol_item_gid(fol: FulfillmentOrderLine, info: GraphQLResolveInfo) -> str | None:
    line = _order_line(fol.line_item_id, info)
    variant = ctx(info).state.variants.get(line.variant_id) if line and line.variant_id else None
    return gid("InventoryItem", variant.inventory_item_id) if variant else None
