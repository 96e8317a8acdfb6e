"""REST v3 response shapes (the same shapes webhooks carry as their payload).

Dates follow `wc_rest_prepare_date_response`: `Y-m-d\\TH:i:s` without offset, once in site time and
once as `_gmt` (the emulated site runs on UTC, so both agree). Money is a string with two decimals.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from channelhub.sandbox.woocommerce.shop import Order, OrderNote, Product, Refund, Shop

API = "wp-json/wc/v3"


def wc_date(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S") if value is not None else None


def money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def _links(home: str, path: str, collection: str) -> dict[str, Any]:
    return {"self": [{"href": f"{home}{API}/{path}"}], "collection": [{"href": f"{home}{API}/{collection}"}]}


def _stock_fields(shop: Shop, product: Product) -> dict[str, Any]:
    return {
        "manage_stock": product.manage_stock,
        "stock_quantity": product.stock_quantity if product.manage_stock else None,
        "stock_status": shop.stock_status(product),
        "backorders": product.backorders,
        "backorders_allowed": product.backorders != "no",
        "backordered": bool(product.manage_stock and (product.stock_quantity or 0) < 0),
    }


def _price_fields(product: Product) -> dict[str, Any]:
    return {
        "price": product.price,
        "regular_price": product.regular_price,
        "sale_price": product.sale_price,
        "on_sale": bool(product.sale_price) and product.sale_price != product.regular_price,
        "purchasable": bool(product.price) and product.status == "publish",
    }


def _dates(created: datetime, modified: datetime) -> dict[str, Any]:
    return {
        "date_created": wc_date(created),
        "date_created_gmt": wc_date(created),
        "date_modified": wc_date(modified),
        "date_modified_gmt": wc_date(modified),
    }


def product_payload(shop: Shop, product: Product, home: str) -> dict[str, Any]:
    slug = product.name.lower().replace(" ", "-")
    body: dict[str, Any] = {
        "id": product.id,
        "name": product.name,
        "slug": slug,
        "permalink": f"{home}product/{slug}/",
        **_dates(product.date_created, product.date_modified),
        "type": product.type,
        "status": product.status,
        "featured": False,
        "catalog_visibility": "visible",
        "description": "",
        "short_description": "",
        "sku": product.sku,
        **_price_fields(product),
        "total_sales": 0,
        "virtual": False,
        "downloadable": False,
        "tax_status": "taxable",
        "tax_class": "",
        **_stock_fields(shop, product),
        "sold_individually": False,
        "parent_id": product.parent_id,
        "categories": [],
        "tags": [],
        "images": [],
        "attributes": product.attributes,
        "variations": list(product.variation_ids),
        "meta_data": [],
        "_links": _links(home, f"products/{product.id}", "products"),
    }
    if product.type == "variable":
        # WooCommerce reports a variable product's price as its cheapest variation's price.
        prices = [Decimal(shop.products[v].price) for v in product.variation_ids if shop.products[v].price]
        body["price"] = str(min(prices)) if prices else ""
    return body


def variation_payload(shop: Shop, variation: Product, home: str) -> dict[str, Any]:
    return {
        "id": variation.id,
        **_dates(variation.date_created, variation.date_modified),
        "description": "",
        "permalink": f"{home}?p={variation.id}",
        "sku": variation.sku,
        **_price_fields(variation),
        "status": variation.status,
        "virtual": False,
        "downloadable": False,
        "tax_status": "taxable",
        "tax_class": "",
        **_stock_fields(shop, variation),
        "parent_id": variation.parent_id,
        "type": "variation",
        "name": variation.name,
        "attributes": variation.attributes,
        "menu_order": 0,
        "meta_data": [],
        "_links": {
            **_links(
                home,
                f"products/{variation.parent_id}/variations/{variation.id}",
                f"products/{variation.parent_id}/variations",
            ),
            "up": [{"href": f"{home}{API}/products/{variation.parent_id}"}],
        },
    }


def refund_payload(refund: Refund, home: str, order_id: int) -> dict[str, Any]:
    return {
        "id": refund.id,
        "date_created": wc_date(refund.date_created),
        "date_created_gmt": wc_date(refund.date_created),
        "amount": money(refund.amount),
        "reason": refund.reason,
        "refunded_by": 1,
        "refunded_payment": False,
        "meta_data": [],
        "line_items": [],
        "_links": _links(home, f"orders/{order_id}/refunds/{refund.id}", f"orders/{order_id}/refunds"),
    }


def note_payload(note: OrderNote, home: str, order_id: int) -> dict[str, Any]:
    return {
        "id": note.id,
        "author": "WooCommerce",
        "date_created": wc_date(note.date_created),
        "date_created_gmt": wc_date(note.date_created),
        "note": note.note,
        "customer_note": note.customer_note,
        "_links": _links(home, f"orders/{order_id}/notes/{note.id}", f"orders/{order_id}/notes"),
    }


def order_payload(order: Order, home: str) -> dict[str, Any]:
    total = money(order.total)
    address_keys = (
        "first_name",
        "last_name",
        "company",
        "address_1",
        "address_2",
        "city",
        "state",
        "postcode",
        "country",
    )
    billing = {key: order.billing.get(key, "") for key in (*address_keys, "email", "phone")}
    shipping = {key: order.billing.get(key, "") for key in (*address_keys, "phone")}
    return {
        "id": order.id,
        "parent_id": 0,
        "status": order.status,
        "currency": order.currency,
        "version": "9.4.0",
        "prices_include_tax": False,
        **_dates(order.date_created, order.date_modified),
        "discount_total": "0.00",
        "discount_tax": "0.00",
        "shipping_total": "0.00",
        "shipping_tax": "0.00",
        "cart_tax": "0.00",
        "total": total,
        "total_tax": "0.00",
        "customer_id": 0,
        "order_key": order.order_key,
        "billing": billing,
        "shipping": shipping,
        "payment_method": order.payment_method,
        "payment_method_title": "Direct bank transfer",
        "transaction_id": "",
        "customer_note": order.customer_note,
        "date_completed": wc_date(order.date_completed),
        "date_completed_gmt": wc_date(order.date_completed),
        "date_paid": wc_date(order.date_paid),
        "date_paid_gmt": wc_date(order.date_paid),
        "number": str(order.id),
        "meta_data": [],
        "line_items": [
            {
                "id": line.id,
                "name": line.name,
                "product_id": line.product_id,
                "variation_id": line.variation_id,
                "quantity": line.quantity,
                "tax_class": "",
                "subtotal": money(line.price * line.quantity),
                "subtotal_tax": "0.00",
                "total": money(line.price * line.quantity),
                "total_tax": "0.00",
                "taxes": [],
                "meta_data": [],
                "sku": line.sku,
                "price": float(line.price),  # WooCommerce sends the unit price as a number here
            }
            for line in order.lines
        ],
        "tax_lines": [],
        "shipping_lines": [],
        "fee_lines": [],
        "coupon_lines": [],
        "refunds": [{"id": r.id, "reason": r.reason, "total": money(-r.amount)} for r in order.refunds],
        "payment_url": f"{home}checkout/order-pay/{order.id}/?pay_for_order=true&key={order.order_key}",
        "is_editable": order.status in ("pending", "on-hold", "auto-draft"),
        "needs_payment": order.status in ("pending", "failed"),
        "needs_processing": True,
        "_links": _links(home, f"orders/{order.id}", "orders"),
    }
