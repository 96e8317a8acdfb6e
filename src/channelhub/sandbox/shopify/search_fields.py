"""Which values each record offers to Shopify's `query:` search syntax.

Getters compute only the field asked for, because a search over ten thousand variants runs them
once per record and term.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from channelhub.sandbox.shopify.relay import FieldGetter, SearchQuery, parse_search
from channelhub.sandbox.shopify.state import (
    FulfillmentOrder,
    InventoryItem,
    Location,
    Order,
    Product,
    ShopState,
    Variant,
)

T = TypeVar("T")


def search(records: Iterable[T], query: str | None, fields: FieldGetter) -> list[T]:
    parsed = parse_search(query)
    if parsed is None:
        return list(records)
    return [record for record in records if parsed.matches(record, fields)]


def by_sku(state: ShopState, query: str | None) -> list[Variant] | None:
    """Variants named by a pure `sku:A OR sku:B ...` query, found through the SKU index."""
    parsed: SearchQuery | None = parse_search(query)
    skus = parsed.exact_values("sku") if parsed else None
    if skus is None:
        return None
    found = [v for v in (state.variant_by_sku(sku) for sku in skus) if v is not None]
    return sorted(found, key=lambda v: v.id)


def product_fields(state: ShopState) -> Callable[[Product, str], list[Any] | None]:
    def fields(product: Product, name: str) -> list[Any] | None:
        if name == "sku":
            return [state.variants[v].sku for v in product.variant_ids]
        if name == "default":
            return [product.title, *(state.variants[v].sku for v in product.variant_ids)]
        if name in ("updated_at", "created_at"):
            return [getattr(product, name)]
        if name in ("title", "id", "status", "vendor", "product_type", "handle"):
            return [getattr(product, name)]
        return None

    return fields


def variant_fields(state: ShopState) -> Callable[[Variant, str], list[Any] | None]:
    def fields(variant: Variant, name: str) -> list[Any] | None:
        if name == "default":
            return [variant.sku, variant.title, state.products[variant.product_id].title]
        if name == "inventory_quantity":
            return [state.available_total(variant)]
        if name in ("updated_at", "created_at"):
            return [getattr(variant, name)]
        if name in ("sku", "id", "product_id", "title", "barcode"):
            return [getattr(variant, name)]
        return None

    return fields


def item_fields(state: ShopState) -> Callable[[InventoryItem, str], list[Any] | None]:
    def fields(item: InventoryItem, name: str) -> list[Any] | None:
        if name in ("sku", "default"):
            return [state.variants[item.variant_id].sku]
        if name == "id":
            return [item.id]
        if name in ("updated_at", "created_at"):
            return [getattr(item, name)]
        return None

    return fields


def order_fields(order: Order, name: str) -> list[Any] | None:
    if name == "status":
        return ["cancelled" if order.cancelled_at else ("closed" if order.closed_at else "open")]
    if name == "name":
        return [order.name, str(order.number)]
    if name == "default":
        return [order.name, order.email]
    if name == "financial_status":
        return [order.financial_status]
    if name == "fulfillment_status":
        return [order.fulfillment_status or "unfulfilled"]
    if name == "sku":
        return [line.sku for line in order.line_items]
    if name in ("created_at", "processed_at"):
        return [order.created_at]
    if name == "updated_at":
        return [order.updated_at]
    if name in ("id", "email"):
        return [getattr(order, name)]
    return None


def location_fields(location: Location, name: str) -> list[Any] | None:
    if name in ("name", "default"):
        return [location.name]
    if name == "id":
        return [location.id]
    if name == "active":
        return [str(location.is_active).lower()]
    return None


def fulfillment_order_fields(fulfillment_order: FulfillmentOrder, name: str) -> list[Any] | None:
    return [fulfillment_order.status.lower()] if name == "status" else None
