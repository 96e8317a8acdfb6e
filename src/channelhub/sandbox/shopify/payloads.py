"""REST-shaped webhook payloads (what Shopify serializes for each topic).

Webhook bodies are the REST Admin resource of the topic, not GraphQL: numeric ids plus
`admin_graphql_api_id`, snake_case keys, money as strings with two decimals, timestamps with an
offset (`2026-01-01T10:00:00+00:00`).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from channelhub.sandbox.shopify.state import (
    Address,
    Fulfillment,
    InventoryLevel,
    LineItem,
    Order,
    Product,
    Refund,
    ShopState,
    gid,
    level_gid,
    money_text,
)


def rest_time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _price_set(amount: Decimal, currency: str) -> dict[str, Any]:
    entry = {"amount": money_text(amount), "currency_code": currency}
    return {"shop_money": entry, "presentment_money": dict(entry)}


def line_item_payload(state: ShopState, line: LineItem, currency: str) -> dict[str, Any]:
    variant = state.variants.get(line.variant_id) if line.variant_id else None
    fulfillment_status = None
    if line.fulfilled_quantity and line.unfulfilled_quantity == 0:
        fulfillment_status = "fulfilled"
    elif line.fulfilled_quantity:
        fulfillment_status = "partial"
    return {
        "id": line.id,
        "admin_graphql_api_id": gid("LineItem", line.id),
        "variant_id": line.variant_id,
        "product_id": line.product_id,
        "sku": line.sku,
        "title": line.title,
        "variant_title": line.variant_title,
        "name": line.title if not line.variant_title else f"{line.title} - {line.variant_title}",
        "quantity": line.quantity,
        "current_quantity": line.current_quantity,
        "fulfillable_quantity": line.unfulfilled_quantity,
        "fulfillment_status": fulfillment_status,
        "price": money_text(line.price),
        "price_set": _price_set(line.price, currency),
        "total_discount": "0.00",
        "requires_shipping": True,
        "taxable": True,
        "gift_card": False,
        "grams": 0,
        "vendor": state.products[line.product_id].vendor if line.product_id in state.products else None,
        "variant_inventory_management": "shopify"
        if variant and state.inventory_items[variant.inventory_item_id].tracked
        else None,
    }


def fulfillment_payload(state: ShopState, fulfillment: Fulfillment) -> dict[str, Any]:
    order = state.orders[fulfillment.order_id]
    lines_by_id = {line.id: line for line in order.line_items}
    tracking = fulfillment.tracking[0] if fulfillment.tracking else None
    return {
        "id": fulfillment.id,
        "admin_graphql_api_id": gid("Fulfillment", fulfillment.id),
        "order_id": order.id,
        "name": fulfillment.name,
        "status": fulfillment.status.lower(),
        "location_id": fulfillment.location_id,
        "created_at": rest_time(fulfillment.created_at),
        "updated_at": rest_time(fulfillment.updated_at),
        "tracking_company": tracking.company if tracking else None,
        "tracking_number": tracking.number if tracking else None,
        "tracking_numbers": [t.number for t in fulfillment.tracking if t.number],
        "tracking_url": tracking.url if tracking else None,
        "tracking_urls": [t.url for t in fulfillment.tracking if t.url],
        "line_items": [
            {
                **line_item_payload(state, lines_by_id[fl.line_item_id], order.currency),
                "quantity": fl.quantity,
            }
            for fl in fulfillment.lines
        ],
    }


def refund_payload(state: ShopState, refund: Refund) -> dict[str, Any]:
    order = state.orders[refund.order_id]
    lines_by_id = {line.id: line for line in order.line_items}
    return {
        "id": refund.id,
        "admin_graphql_api_id": gid("Refund", refund.id),
        "order_id": order.id,
        "created_at": rest_time(refund.created_at),
        "processed_at": rest_time(refund.created_at),
        "note": refund.note,
        "restock": any(line.restock_type in ("RETURN", "CANCEL") for line in refund.lines),
        "refund_line_items": [
            {
                "id": line.id,
                "line_item_id": line.line_item_id,
                "quantity": line.quantity,
                "restock_type": line.restock_type.lower(),
                "location_id": line.location_id,
                "subtotal": money_text(line.subtotal),
                "subtotal_set": _price_set(line.subtotal, order.currency),
                "total_tax": "0.00",
                "line_item": line_item_payload(state, lines_by_id[line.line_item_id], order.currency),
            }
            for line in refund.lines
        ],
        "transactions": [
            {
                "id": refund.id + 1,
                "admin_graphql_api_id": gid("OrderTransaction", refund.id + 1),
                "order_id": order.id,
                "kind": "refund",
                "status": "success",
                "gateway": "manual",
                "amount": money_text(refund.amount),
                "currency": order.currency,
                "created_at": rest_time(refund.created_at),
            }
        ]
        if refund.amount > 0
        else [],
        "order_adjustments": [],
    }


def order_payload(state: ShopState, order: Order) -> dict[str, Any]:
    total = money_text(order.total_price)
    return {
        "id": order.id,
        "admin_graphql_api_id": gid("Order", order.id),
        "name": order.name,
        "number": order.number - 1000,
        "order_number": order.number,
        "email": order.email,
        "contact_email": order.email,
        "created_at": rest_time(order.created_at),
        "updated_at": rest_time(order.updated_at),
        "processed_at": rest_time(order.created_at),
        "cancelled_at": rest_time(order.cancelled_at),
        "cancel_reason": order.cancel_reason.lower() if order.cancel_reason else None,
        "closed_at": rest_time(order.closed_at),
        "confirmed": True,
        "test": False,
        "currency": order.currency,
        "presentment_currency": order.currency,
        "financial_status": order.financial_status,
        "fulfillment_status": order.fulfillment_status,
        "total_price": total,
        "subtotal_price": total,
        "total_line_items_price": total,
        "current_total_price": money_text(order.current_total_price),
        "total_price_set": _price_set(order.total_price, order.currency),
        "total_tax": "0.00",
        "total_discounts": "0.00",
        "taxes_included": False,
        "source_name": "web",
        "location_id": None,
        "note": order.note,
        "tags": ", ".join(order.tags),
        "line_items": [line_item_payload(state, line, order.currency) for line in order.line_items],
        "fulfillments": [fulfillment_payload(state, state.fulfillments[f]) for f in order.fulfillment_ids],
        "refunds": [refund_payload(state, state.refunds[r]) for r in order.refund_ids],
        "shipping_lines": [],
        "customer": _customer(order),
        "shipping_address": _address(order.shipping_address),
    }


def _customer(order: Order) -> dict[str, Any] | None:
    customer = order.customer
    if customer is None:
        return None
    return {
        "id": customer.id,
        "admin_graphql_api_id": gid("Customer", customer.id),
        "email": customer.email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
    }


def _address(address: Address | None) -> dict[str, Any] | None:
    if address is None:
        return None
    body = dataclasses.asdict(address)
    body["name"] = address.name
    return body


def inventory_level_payload(level: InventoryLevel) -> dict[str, Any]:
    return {
        "inventory_item_id": level.item_id,
        "location_id": level.location_id,
        "available": level.quantity("available"),
        "updated_at": rest_time(level.updated_at),
        "admin_graphql_api_id": level_gid(level.location_id, level.item_id),
    }


def product_payload(state: ShopState, product: Product) -> dict[str, Any]:
    variants = [state.variants[v] for v in product.variant_ids]
    return {
        "id": product.id,
        "admin_graphql_api_id": gid("Product", product.id),
        "title": product.title,
        "handle": product.handle,
        "vendor": product.vendor,
        "product_type": product.product_type,
        "status": product.status.lower(),
        "created_at": rest_time(product.created_at),
        "updated_at": rest_time(product.updated_at),
        "published_at": rest_time(product.created_at),
        "tags": "",
        "variants": [
            {
                "id": v.id,
                "admin_graphql_api_id": gid("ProductVariant", v.id),
                "product_id": product.id,
                "title": v.title,
                "sku": v.sku,
                "barcode": v.barcode,
                "price": money_text(v.price),
                "compare_at_price": money_text(v.compare_at_price)
                if v.compare_at_price is not None
                else None,
                "position": v.position,
                "inventory_policy": v.inventory_policy.lower(),
                "inventory_item_id": v.inventory_item_id,
                "inventory_quantity": state.available_total(v),
                "created_at": rest_time(v.created_at),
                "updated_at": rest_time(v.updated_at),
            }
            for v in variants
        ],
    }
