"""`orders`, `orders/<id>`, `orders/<id>/notes` and `orders/<id>/refunds`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from channelhub.sandbox.woocommerce.errors import WPError, invalid_id
from channelhub.sandbox.woocommerce.params import (
    Collection,
    to_boolean,
    to_enum,
    to_integer,
    to_list,
    to_string,
)
from channelhub.sandbox.woocommerce.payloads import note_payload, order_payload, refund_payload
from channelhub.sandbox.woocommerce.rest import Call, Reply, Router, paged, require_object
from channelhub.sandbox.woocommerce.shop import ORDER_STATUSES, Order, Product, Shop

ORDER_ORDERBY = ("date", "id", "include", "title", "slug", "modified")


class OrderRoutes:
    def __init__(self, shop: Shop, router: Router) -> None:
        self.shop = shop
        router.add("orders", GET=("list", self.list_orders), POST=("create", self.create_order))
        router.add(
            r"orders/(?P<id>\d+)",
            GET=("read", self.get_order),
            EDIT=("edit", self.update_order),
            DELETE=("delete", self.delete_order),
        )
        router.add(
            r"orders/(?P<order_id>\d+)/notes", GET=("list", self.list_notes), POST=("create", self.add_note)
        )
        router.add(
            r"orders/(?P<order_id>\d+)/refunds",
            GET=("list", self.list_refunds),
            POST=("create", self.add_refund),
        )

    def _order(self, order_id: int, status: int = 404) -> Order:
        order = self.shop.orders.get(order_id)
        if order is None:
            raise invalid_id("shop_order", status)
        return order

    def list_orders(self, call: Call) -> Reply:
        collection = Collection(call.query, ORDER_ORDERBY)
        statuses = [
            to_enum("status", s, ("any", *ORDER_STATUSES))
            for s in to_list("status", call.query.get("status", "any"))
        ]
        wanted = None if not statuses or "any" in statuses else set(statuses)
        found = [
            o
            for o in self.shop.orders.values()
            if collection.keep(o.id, o.date_created, o.date_modified)
            and (o.status in wanted if wanted is not None else o.status != "trash")
        ]
        sort_key = {
            "id": lambda o: o.id,
            "modified": lambda o: (o.date_modified, o.id),
        }.get(collection.orderby, lambda o: (o.date_created, o.id))
        page, total, pages = collection.page_of(found, sort_key)
        items = [order_payload(o, call.home) for o in page]
        return paged(call, "orders", items, total, pages, collection.page)

    def _line_product(self, line: Any) -> tuple[Product, int]:
        if not isinstance(line, dict):
            raise WPError("rest_invalid_param", "Invalid parameter(s): line_items", 400)
        if line.get("sku"):
            product = self.shop.by_sku(to_string("sku", line["sku"]))
        elif line.get("variation_id"):
            product = self.shop.products.get(to_integer("variation_id", line["variation_id"]))
        elif line.get("product_id"):
            product = self.shop.products.get(to_integer("product_id", line["product_id"]))
        else:
            raise WPError(
                "woocommerce_rest_required_product_reference", "Product ID or SKU is required.", 400
            )
        if product is None or product.type == "variable":
            raise WPError("woocommerce_rest_invalid_product_id", "Product ID provided is invalid.", 400)
        quantity = to_integer("quantity", line.get("quantity", 1))
        if quantity < 1:
            raise WPError("woocommerce_rest_invalid_quantity", "Quantity must be a positive number.", 400)
        return product, quantity

    def create_order(self, call: Call) -> Reply:
        body = require_object(call.body)
        if body.get("id"):
            raise WPError("woocommerce_rest_shop_order_exists", "Cannot create existing shop_order.", 400)
        lines = body.get("line_items") or []
        if not isinstance(lines, list):
            raise WPError("rest_invalid_param", "Invalid parameter(s): line_items", 400)
        wanted = [self._line_product(line) for line in lines]
        status = to_enum("status", body.get("status", "pending"), ORDER_STATUSES[:-1])
        if to_boolean("set_paid", body.get("set_paid", False)) and status in ("pending", "on-hold", "failed"):
            status = "processing"  # payment_complete()
        billing = body.get("billing") if isinstance(body.get("billing"), dict) else {}
        order = self.shop.place_order(
            wanted, {k: str(v) for k, v in (billing or {}).items()}, status, check_stock=False
        )
        if isinstance(body.get("customer_note"), str):
            order.customer_note = body["customer_note"]
        call.emit("order.created", order.id)
        if order.stock_reduced:
            for product, _ in wanted:
                call.emit("product.updated", product.id)
        location = f"{call.home}wp-json/wc/v3/orders/{order.id}"
        return Reply(201, order_payload(order, call.home), {"Location": location})

    def get_order(self, call: Call) -> Reply:
        return Reply(200, order_payload(self._order(call.ids["id"]), call.home))

    def update_order(self, call: Call) -> Reply:
        order = self._order(call.ids["id"], status=400)
        body = require_object(call.body)
        status = to_enum("status", body["status"], ORDER_STATUSES[:-1]) if "status" in body else None
        note = to_string("customer_note", body["customer_note"]) if "customer_note" in body else None
        touched_products = [line.variation_id or line.product_id for line in order.lines]
        if note is not None:
            order.customer_note = note
            order.date_modified = self.shop.now()
        if status is not None and status != order.status:
            was_reduced = order.stock_reduced
            self.shop.set_order_status(order, status)
            if was_reduced != order.stock_reduced:
                for product_id in touched_products:
                    call.emit("product.updated", product_id)
        call.emit("order.updated", order.id)
        return Reply(200, order_payload(order, call.home))

    def delete_order(self, call: Call) -> Reply:
        order = self._order(call.ids["id"])
        body = order_payload(order, call.home)
        if to_boolean("force", call.query.get("force", False)):
            del self.shop.orders[order.id]
        else:
            order.status = "trash"
            order.date_modified = self.shop.now()
        call.emit("order.deleted", order.id)
        return Reply(200, body)

    def list_notes(self, call: Call) -> Reply:
        order = self._order(call.ids["order_id"])
        return Reply(200, [note_payload(n, call.home, order.id) for n in reversed(order.notes)])

    def add_note(self, call: Call) -> Reply:
        order = self._order(call.ids["order_id"])
        body = require_object(call.body)
        if not body.get("note"):
            raise WPError("woocommerce_rest_missing_note", "Missing parameter(s): note", 400)
        note = self.shop.add_note(
            order,
            to_string("note", body["note"]),
            to_boolean("customer_note", body.get("customer_note", False)),
        )
        return Reply(201, note_payload(note, call.home, order.id))

    def list_refunds(self, call: Call) -> Reply:
        order = self._order(call.ids["order_id"])
        return Reply(200, [refund_payload(r, call.home, order.id) for r in reversed(order.refunds)])

    def add_refund(self, call: Call) -> Reply:
        order = self._order(call.ids["order_id"])
        body = require_object(call.body)
        amount = _amount(body.get("amount"))
        if amount is None or amount <= 0:
            raise WPError(
                "woocommerce_rest_invalid_order_refund", "Refund amount must be greater than zero.", 400
            )
        if amount > order.total - order.refunded:
            # wc_create_refund() throws; the controller wraps it as a 500 — a permanent error all the same.
            raise WPError("woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.", 500)
        refund = self.shop.add_refund(order, amount, str(body.get("reason") or ""))
        call.emit("order.updated", order.id)
        return Reply(201, refund_payload(refund, call.home, order.id))


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None
