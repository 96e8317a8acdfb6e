"""`products`, `products/<id>`, `products/batch` and the `variations` routes."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from channelhub.sandbox.woocommerce.errors import WPError, invalid_id
from channelhub.sandbox.woocommerce.params import (
    Collection,
    to_boolean,
    to_enum,
    to_integer,
    to_string,
)
from channelhub.sandbox.woocommerce.payloads import product_payload, variation_payload
from channelhub.sandbox.woocommerce.rest import Call, Reply, Router, paged, require_object
from channelhub.sandbox.woocommerce.shop import Product, Shop

BATCH_LIMIT = 100  # apply_filters( 'woocommerce_rest_batch_items_limit', 100, ... ); merchants raise it
PRODUCT_ORDERBY = (
    "date",
    "id",
    "include",
    "title",
    "slug",
    "modified",
    "price",
    "popularity",
    "rating",
    "menu_order",
)
STOCK_STATUSES = ("instock", "outofstock", "onbackorder")
# Arguments that do not change which products match, nor their order.
_PAGING_ARGS = frozenset(("page", "per_page", "offset", "consumer_key", "consumer_secret", "_method"))
# Listings that filter or sort on stock or modification dates change without `catalog_version`.
_VOLATILE_ARGS = frozenset(("stock_status", "modified_after", "modified_before"))
LISTING_CACHE_SIZE = 8


def _decimal_string(name: str, value: Any) -> str:
    text = to_string(name, value).strip()
    if text == "":
        return ""
    try:
        return str(Decimal(text))  # wc_format_decimal keeps the merchant's digits
    except InvalidOperation:
        return ""


def apply_fields(shop: Shop, product: Product, body: dict[str, Any], creating: bool) -> None:
    """`prepare_object_for_database` for the fields channelhub and the official client use.

    Validates everything on a copy first, so a refused field leaves the product untouched."""
    draft = copy.copy(product)
    _apply(shop, draft, body)
    before = shop.listed_fields(product)
    product.__dict__.update(draft.__dict__)
    if not creating:
        shop.edited(product, before)
        shop.touch(product)


def _apply(shop: Shop, product: Product, body: dict[str, Any]) -> None:
    if "name" in body:
        product.name = to_string("name", body["name"])
    if "status" in body:
        product.status = to_enum(
            "status", body["status"], ("draft", "pending", "private", "publish", "future")
        )
    if "sku" in body:
        sku = to_string("sku", body["sku"]).strip()
        if shop.sku_taken(sku, product.id):
            raise WPError(
                "product_invalid_sku",
                "Invalid or duplicated SKU.",
                400,
                resource_id=product.id,
                unique_sku=f"{sku}-1",
            )
        product.sku = sku
    if "regular_price" in body:
        product.regular_price = _decimal_string("regular_price", body["regular_price"])
    if "sale_price" in body:
        product.sale_price = _decimal_string("sale_price", body["sale_price"])
    if "manage_stock" in body:
        product.manage_stock = to_boolean("manage_stock", body["manage_stock"])
    if "backorders" in body:
        product.backorders = to_enum("backorders", body["backorders"], ("no", "notify", "yes"))
    if "stock_status" in body:
        product.manual_stock_status = to_enum("stock_status", body["stock_status"], STOCK_STATUSES)
    if "attributes" in body and isinstance(body["attributes"], list):
        product.attributes = [a for a in body["attributes"] if isinstance(a, dict)]
    if product.manage_stock:
        if product.stock_quantity is None:
            product.stock_quantity = 0
        if "stock_quantity" in body and body["stock_quantity"] is not None:
            product.stock_quantity = to_integer("stock_quantity", body["stock_quantity"])
        elif "inventory_delta" in body and body["inventory_delta"] is not None:
            # A relative change on top of the current quantity (concurrent sales are kept).
            product.stock_quantity += to_integer("inventory_delta", body["inventory_delta"])
    else:
        # Without stock management WooCommerce clears the quantity and backorders.
        product.stock_quantity = None
        product.backorders = "no"


class ProductRoutes:
    def __init__(self, shop: Shop, router: Router, batch_limit: int = BATCH_LIMIT) -> None:
        self.shop = shop
        self.batch_limit = batch_limit
        # A paged read asks for the same sorted list once per page: it is kept, by query, until
        # the catalog changes (see `_listing_key`).
        self._listings: dict[tuple[object, ...], tuple[int, list[Product]]] = {}
        router.add("products", GET=("list", self.list_products), POST=("create", self.create_product))
        router.add("products/batch", EDIT=("batch", self.batch_products))
        router.add(
            r"products/(?P<id>\d+)",
            GET=("read", self.get_product),
            EDIT=("edit", self.update_product),
            DELETE=("delete", self.delete_product),
        )
        router.add(
            r"products/(?P<product_id>\d+)/variations",
            GET=("list", self.list_variations),
            POST=("create", self.create_variation),
        )
        router.add(r"products/(?P<product_id>\d+)/variations/batch", EDIT=("batch", self.batch_variations))
        router.add(
            r"products/(?P<product_id>\d+)/variations/(?P<id>\d+)",
            GET=("read", self.get_variation),
            EDIT=("edit", self.update_variation),
            DELETE=("delete", self.delete_variation),
        )

    # -- products ------------------------------------------------------------------------------

    def list_products(self, call: Call) -> Reply:
        q = call.query
        collection = Collection(q, PRODUCT_ORDERBY)
        skus = None
        if q.get("sku"):
            wanted_skus = to_string("sku", q["sku"])
            skus = {part.strip() for part in wanted_skus.split(",")} | {wanted_skus}
        wanted_type = (
            to_enum("type", q["type"], ("simple", "grouped", "external", "variable")) if "type" in q else None
        )
        wanted_stock = (
            to_enum("stock_status", q["stock_status"], STOCK_STATUSES) if "stock_status" in q else None
        )
        status = to_enum(
            "status",
            q.get("status", "any"),
            ("any", "future", "trash", "draft", "pending", "private", "publish"),
        )
        search = to_string("search", q["search"]).lower() if "search" in q else None
        key = self._listing_key(q, collection)
        cached = self._listings.get(key) if key is not None else None
        if cached is not None and cached[0] == self.shop.catalog_version:
            page, total, pages = _page(collection, cached[1])
        else:
            found = [
                p
                for p in self._candidates(skus, collection)
                # A `sku` filter searches variations too (post_type product and product_variation).
                if (p.type != "variation" or skus is not None)
                and collection.keep(p.id, p.date_created, p.date_modified)
                and (skus is None or p.sku in skus)
                and (wanted_type is None or p.type == wanted_type)
                and (wanted_stock is None or self.shop.stock_status(p) == wanted_stock)
                and (status == "any" or p.status == status)
                and (search is None or search in p.name.lower())
            ]
            page, total, pages = collection.page_of(found, _sort_key(collection.orderby))
            if key is not None:  # `found` is sorted now
                self._listings.pop(key, None)
                self._listings[key] = (self.shop.catalog_version, found)
                while len(self._listings) > LISTING_CACHE_SIZE:
                    del self._listings[next(iter(self._listings))]
        items = [product_payload(self.shop, p, call.home) for p in page]
        return paged(call, "products", items, total, pages, collection.page)

    def _candidates(self, skus: set[str] | None, collection: Collection) -> Iterable[Product]:
        """The products a listing can match: from the SKU index (`wc_product_meta_lookup`) or the
        ids of `include` when given, else the whole catalog (the filters still apply to all)."""
        if skus is not None:
            matched = {p.id: p for sku in skus for p in self.shop.with_sku(sku)}
            return sorted(matched.values(), key=lambda p: p.id)
        if collection.include:
            products = self.shop.products
            return [products[i] for i in sorted(set(collection.include)) if i in products]
        return self.shop.products.values()

    def _listing_key(self, query: dict[str, Any], collection: Collection) -> tuple[object, ...] | None:
        """The cache key of a listing whose matches and order only change with `catalog_version`,
        or None (small or volatile listings are computed each time)."""
        if "sku" in query or "include" in query or collection.orderby == "modified":
            return None
        if any(name in query for name in _VOLATILE_ARGS):
            return None
        return tuple(
            sorted(
                (name, repr(value))
                for name, value in query.items()
                if name not in _PAGING_ARGS and not name.startswith("oauth_")
            )
        )

    def _product(self, product_id: int, status: int = 404) -> Product:
        """A product for `products/<id>` routes. A variation id is accepted too, as WooCommerce's
        `get_object()` is `wc_get_product()`: it answers with the product-shaped representation
        (`type: variation`, `parent_id`), which is also what product.* webhooks carry."""
        product = self.shop.products.get(product_id)
        if product is None:
            raise invalid_id("product", status)
        return product

    def get_product(self, call: Call) -> Reply:
        return Reply(200, product_payload(self.shop, self._product(call.ids["id"]), call.home))

    def _add(self, call: Call, product: Product, body: dict[str, Any]) -> None:
        """Store a new product or variation: WooCommerce keeps both as posts with one id sequence."""
        apply_fields(self.shop, product, body, creating=True)
        product.id = self.shop.next_id()
        self.shop.add_product(product)
        call.emit("product.created", product.id)

    def _create_product(self, call: Call, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("id"):
            raise WPError("woocommerce_rest_product_exists", "Cannot create existing product.", 400)
        kind = to_enum("type", body.get("type", "simple"), ("simple", "grouped", "external", "variable"))
        product = Product(id=0, name=str(body.get("name") or "Product"), type=kind, sku="", regular_price="")
        self._add(call, product, body)
        return product_payload(self.shop, product, call.home)

    def create_product(self, call: Call) -> Reply:
        created = self._create_product(call, require_object(call.body))
        location = f"{call.home}wp-json/wc/v3/products/{created['id']}"
        return Reply(201, created, {"Location": location})

    def _update_product(self, call: Call, body: dict[str, Any], product_id: int) -> dict[str, Any]:
        product = self._product(product_id, status=400)
        apply_fields(self.shop, product, body, creating=False)
        call.emit("product.updated", product.id)
        return product_payload(self.shop, product, call.home)

    def update_product(self, call: Call) -> Reply:
        return Reply(200, self._update_product(call, require_object(call.body), call.ids["id"]))

    def _delete_product(self, call: Call, product_id: int, force: bool) -> dict[str, Any]:
        product = self._product(product_id)
        body = product_payload(self.shop, product, call.home)
        if force:
            self.shop.delete_product(product)
        elif product.status == "trash":
            raise WPError("woocommerce_rest_already_trashed", "The product has already been deleted.", 410)
        else:
            before = self.shop.listed_fields(product)
            product.status = "trash"
            self.shop.edited(product, before)
            self.shop.touch(product)
        call.emit("product.deleted", product_id)
        return body

    def delete_product(self, call: Call) -> Reply:
        force = to_boolean("force", call.query.get("force", False))
        return Reply(200, self._delete_product(call, call.ids["id"], force))

    def batch_products(self, call: Call) -> Reply:
        return Reply(
            200,
            run_batch(
                call,
                create=lambda item: self._create_product(call, item),
                update=lambda item: self._update_product(call, item, _item_id(item)),
                delete=lambda item_id: self._delete_product(call, item_id, True),
                limit=self.batch_limit,
            ),
        )

    # -- variations ----------------------------------------------------------------------------

    def _parent(self, call: Call) -> Product:
        parent = self.shop.product(call.ids["product_id"])
        if parent is None:
            raise invalid_id("product")
        return parent

    def _variation(self, call: Call, variation_id: int, status: int = 404) -> Product:
        variation = self.shop.variation(call.ids["product_id"], variation_id)
        if variation is None:
            raise invalid_id("product_variation", status)
        return variation

    def list_variations(self, call: Call) -> Reply:
        parent = self._parent(call)
        collection = Collection(call.query, PRODUCT_ORDERBY)
        skus = (
            {part.strip() for part in to_string("sku", call.query["sku"]).split(",")}
            if call.query.get("sku")
            else None
        )
        found = [
            self.shop.products[v]
            for v in parent.variation_ids
            if collection.keep(v, self.shop.products[v].date_created, self.shop.products[v].date_modified)
            and (skus is None or self.shop.products[v].sku in skus)
        ]
        page, total, pages = collection.page_of(found, _sort_key(collection.orderby))
        items = [variation_payload(self.shop, v, call.home) for v in page]
        return paged(call, f"products/{parent.id}/variations", items, total, pages, collection.page)

    def get_variation(self, call: Call) -> Reply:
        self._parent(call)
        return Reply(200, variation_payload(self.shop, self._variation(call, call.ids["id"]), call.home))

    def _create_variation(self, call: Call, body: dict[str, Any]) -> dict[str, Any]:
        parent = self._parent(call)
        variation = Product(
            id=0, name=parent.name, type="variation", sku="", regular_price="", parent_id=parent.id
        )
        self._add(call, variation, body)
        return variation_payload(self.shop, variation, call.home)

    def create_variation(self, call: Call) -> Reply:
        return Reply(201, self._create_variation(call, require_object(call.body)))

    def _update_variation(self, call: Call, body: dict[str, Any], variation_id: int) -> dict[str, Any]:
        variation = self._variation(call, variation_id, status=400)
        apply_fields(self.shop, variation, body, creating=False)
        call.emit("product.updated", variation.id)
        return variation_payload(self.shop, variation, call.home)

    def update_variation(self, call: Call) -> Reply:
        self._parent(call)
        return Reply(200, self._update_variation(call, require_object(call.body), call.ids["id"]))

    def _delete_variation(self, call: Call, variation_id: int) -> dict[str, Any]:
        variation = self._variation(call, variation_id)
        body = variation_payload(self.shop, variation, call.home)
        self.shop.delete_product(variation)
        call.emit("product.deleted", variation_id)
        return body

    def delete_variation(self, call: Call) -> Reply:
        self._parent(call)
        return Reply(200, self._delete_variation(call, call.ids["id"]))

    def batch_variations(self, call: Call) -> Reply:
        self._parent(call)
        return Reply(
            200,
            run_batch(
                call,
                create=lambda item: self._create_variation(call, item),
                update=lambda item: self._update_variation(call, item, _item_id(item)),
                delete=lambda item_id: self._delete_variation(call, item_id),
                limit=self.batch_limit,
            ),
        )


def _page(collection: Collection, ordered: list[Product]) -> tuple[list[Product], int, int]:
    """`Collection.page_of` for records already in order."""
    total = len(ordered)
    start = (
        collection.offset if collection.offset is not None else (collection.page - 1) * collection.per_page
    )
    return ordered[start : start + collection.per_page], total, -(-total // collection.per_page)


def _sort_key(orderby: str) -> Any:
    keys = {
        "id": lambda p: p.id,
        "title": lambda p: (p.name, p.id),
        "slug": lambda p: (p.name.lower(), p.id),
        "modified": lambda p: (p.date_modified, p.id),
        "price": lambda p: (Decimal(p.price or "0"), p.id),
    }
    return keys.get(orderby, lambda p: (p.date_created, p.id))


def _item_id(item: dict[str, Any]) -> int:
    return to_integer("id", item.get("id", 0))


def _item_error(item_id: Any, error: WPError) -> dict[str, Any]:
    return {
        "id": item_id,
        "error": {
            "code": error.code,
            "message": error.message,
            "data": {"status": error.status, **error.data},
        },
    }


def run_batch(
    call: Call, create: Any, update: Any, delete: Any, limit: int = BATCH_LIMIT
) -> dict[str, list[Any]]:
    """`WC_REST_Controller::batch_items`: the limit counts create+update+delete together; each item
    succeeds or fails on its own and failures come back as `{id, error}` in place."""
    body = require_object(call.body)
    sections = {name: body.get(name) or [] for name in ("create", "update", "delete")}
    for name, items in sections.items():
        if not isinstance(items, list):
            raise WPError(
                "rest_invalid_param",
                f"Invalid parameter(s): {name}",
                400,
                params={name: f"{name} is not of type array."},
            )
    total = sum(len(items) for items in sections.values())
    if total > limit:
        raise WPError(
            "woocommerce_rest_request_entity_too_large",
            f"Unable to accept more than {limit} items for this request.",
            413,
        )
    response: dict[str, list[Any]] = {}
    for item in sections["create"]:
        try:
            response.setdefault("create", []).append(create(require_object(item)))
        except WPError as error:
            response.setdefault("create", []).append(_item_error(0, error))
    for item in sections["update"]:
        item_id = item.get("id") if isinstance(item, dict) else None
        try:
            response.setdefault("update", []).append(update(require_object(item)))
        except WPError as error:
            response.setdefault("update", []).append(_item_error(item_id, error))
    for raw_id in sections["delete"]:
        try:
            item_id = to_integer("id", raw_id)
        except WPError:
            continue
        if item_id == 0:
            continue
        try:
            response.setdefault("delete", []).append(delete(item_id))
        except WPError as error:
            response.setdefault("delete", []).append(_item_error(item_id, error))
    return response
