"""The shop's in-memory state: products, variations, orders, refunds, notes, webhooks.

Ids come from one sequence, as WordPress posts do (products, variations and orders share it).
Stock rules follow WooCommerce: `stock_status` is derived from `stock_quantity` and `backorders`
when the item manages stock; a variable product's status follows its variations; cancelling an
order whose stock was reduced puts the stock back.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from channelhub.sandbox.woocommerce.errors import WPError

ORDER_STATUSES = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
    "trash",
)


@dataclass
class Product:
    """A product or a variation (`parent_id` set, `type` "variation")."""

    id: int
    name: str
    type: str  # simple | variable | variation
    sku: str
    regular_price: str
    sale_price: str = ""
    manage_stock: bool = True
    stock_quantity: int | None = 0
    backorders: str = "no"  # no | notify | yes
    manual_stock_status: str = "instock"  # used when stock is not managed
    status: str = "publish"
    parent_id: int = 0
    attributes: list[dict[str, object]] = field(default_factory=list)
    variation_ids: list[int] = field(default_factory=list)
    date_created: datetime = field(default_factory=lambda: datetime.min)
    date_modified: datetime = field(default_factory=lambda: datetime.min)

    @property
    def price(self) -> str:
        return self.sale_price or self.regular_price

    def own_stock_status(self) -> str:
        if not self.manage_stock or self.stock_quantity is None:
            return self.manual_stock_status
        if self.stock_quantity > 0:
            return "instock"
        return "outofstock" if self.backorders == "no" else "onbackorder"


@dataclass
class OrderLine:
    id: int
    product_id: int
    variation_id: int
    name: str
    sku: str
    quantity: int
    price: Decimal


@dataclass
class Refund:
    id: int
    amount: Decimal
    reason: str
    date_created: datetime


@dataclass
class OrderNote:
    id: int
    note: str
    customer_note: bool
    date_created: datetime


@dataclass
class Order:
    id: int
    status: str
    currency: str
    lines: list[OrderLine]
    billing: dict[str, str]
    payment_method: str
    date_created: datetime
    date_modified: datetime
    date_paid: datetime | None = None
    date_completed: datetime | None = None
    customer_note: str = ""
    order_key: str = ""
    stock_reduced: bool = False
    refunds: list[Refund] = field(default_factory=list)
    notes: list[OrderNote] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.price * line.quantity for line in self.lines), Decimal("0"))

    @property
    def refunded(self) -> Decimal:
        return sum((refund.amount for refund in self.refunds), Decimal("0"))


@dataclass
class StorefrontStats:
    orders: int = 0
    units_sold: int = 0
    oversold_units: int = 0
    refused_orders: int = 0


class Shop:
    """All records, plus the mutations WooCommerce applies when they change."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self.now = now
        self._ids = itertools.count(100)
        # Change products through `add_product`, `delete_product` and `edited`: they keep the SKU
        # index (WooCommerce's indexed `wc_product_meta_lookup.sku`) and `catalog_version` right.
        self.products: dict[int, Product] = {}
        self.orders: dict[int, Order] = {}
        self.stats = StorefrontStats()
        self._sku_ids: dict[str, int | list[int]] = {}  # SKU ("" too) -> id, or ids in insertion order
        # Bumped when a product is added or deleted or one of `listed_fields` changes; stock and
        # modification dates do not bump it (listings filtered or sorted by those are not cached).
        self.catalog_version = 0

    def next_id(self) -> int:
        return next(self._ids)

    # -- catalog -------------------------------------------------------------------------------

    def add_product(self, product: Product) -> Product:
        stamp = self.now()
        product.date_created = product.date_modified = stamp
        self.products[product.id] = product
        self._index_sku(product.sku, product.id)
        if product.parent_id:
            self.products[product.parent_id].variation_ids.append(product.id)
        self.catalog_version += 1
        return product

    def product(self, product_id: int) -> Product | None:
        found = self.products.get(product_id)
        return found if found is not None and found.type != "variation" else None

    def variation(self, parent_id: int, variation_id: int) -> Product | None:
        found = self.products.get(variation_id)
        return (
            found
            if found is not None and found.type == "variation" and found.parent_id == parent_id
            else None
        )

    # -- the SKU index ---------------------------------------------------------------------------

    def _index_sku(self, sku: str, product_id: int) -> None:
        held = self._sku_ids.get(sku)
        if held is None:
            self._sku_ids[sku] = product_id
        elif isinstance(held, int):
            if held != product_id:
                self._sku_ids[sku] = [held, product_id]
        elif held[-1] != product_id:
            held.append(product_id)

    def _unindex_sku(self, sku: str, product_id: int) -> None:
        held = self._sku_ids.get(sku)
        if held == product_id:
            del self._sku_ids[sku]
        elif isinstance(held, list) and product_id in held:
            held.remove(product_id)
            if len(held) == 1:
                self._sku_ids[sku] = held[0]

    def with_sku(self, sku: str) -> list[Product]:
        """Products and variations whose SKU is exactly `sku` ("" finds those without one)."""
        held = self._sku_ids.get(sku)
        ids = [] if held is None else [held] if isinstance(held, int) else held
        return [p for p in (self.products.get(i) for i in ids) if p is not None and p.sku == sku]

    def by_sku(self, sku: str) -> Product | None:
        found = self.with_sku(sku) if sku else []
        return found[0] if found else None

    def sku_taken(self, sku: str, except_id: int = 0) -> bool:
        return bool(sku) and any(p.id != except_id for p in self.with_sku(sku))

    @staticmethod
    def listed_fields(product: Product) -> tuple[object, ...]:
        """What product listings filter and sort on, apart from stock and dates."""
        return (
            product.sku,
            product.name,
            product.status,
            product.type,
            product.regular_price,
            product.sale_price,
        )

    def edited(self, product: Product, before: tuple[object, ...]) -> None:
        """Tell the shop a stored product changed; `before` is `listed_fields` taken before."""
        if self.products.get(product.id) is not product or before == self.listed_fields(product):
            return
        old_sku = before[0]
        if isinstance(old_sku, str) and old_sku != product.sku:
            self._unindex_sku(old_sku, product.id)
            self._index_sku(product.sku, product.id)
        self.catalog_version += 1

    def stock_status(self, product: Product) -> str:
        if product.type != "variable":
            return product.own_stock_status()
        statuses = [self.products[v].own_stock_status() for v in product.variation_ids if v in self.products]
        for status in ("instock", "onbackorder"):
            if status in statuses:
                return status
        return "outofstock" if statuses else product.manual_stock_status

    def touch(self, product: Product) -> None:
        product.date_modified = self.now()

    def delete_product(self, product: Product) -> None:
        for variation_id in product.variation_ids:
            variation = self.products.pop(variation_id, None)
            if variation is not None:
                self._unindex_sku(variation.sku, variation_id)
        if self.products.pop(product.id, None) is not None:
            self._unindex_sku(product.sku, product.id)
        if product.parent_id and product.parent_id in self.products:
            self.products[product.parent_id].variation_ids.remove(product.id)
        self.catalog_version += 1

    def adjust_stock(self, product: Product, delta: int) -> None:
        if product.manage_stock and product.stock_quantity is not None:
            product.stock_quantity += delta
            self.touch(product)

    # -- orders --------------------------------------------------------------------------------

    def place_order(
        self,
        wanted: list[tuple[Product, int]],
        billing: dict[str, str],
        status: str,
        check_stock: bool = True,
    ) -> Order:
        """A checkout: refuses to oversell only items that manage stock without backorders.

        Orders created through the REST API skip that check (`check_stock=False`), as in WooCommerce:
        the API lets an admin oversell, and stock simply goes negative."""
        for product, quantity in wanted if check_stock else []:
            stock = product.stock_quantity or 0
            if product.manage_stock and product.backorders == "no" and quantity > stock:
                self.stats.refused_orders += 1
                raise WPError(
                    "woocommerce_rest_product_out_of_stock",
                    f'Sorry, we do not have enough "{product.name}" in stock to fulfill your order '
                    f"({max(0, stock)} available). We apologize for any inconvenience caused.",
                    409,
                    sku=product.sku,
                    available=max(0, stock),
                )
            if not product.manage_stock and product.manual_stock_status == "outofstock":
                self.stats.refused_orders += 1
                raise WPError(
                    "woocommerce_rest_product_out_of_stock", f'"{product.name}" is out of stock.', 409
                )
        stamp = self.now()
        order_id = self.next_id()
        lines = [
            OrderLine(
                id=self.next_id(),
                product_id=product.parent_id or product.id,
                variation_id=product.id if product.parent_id else 0,
                name=product.name,
                sku=product.sku,
                quantity=quantity,
                price=Decimal(product.price or "0"),
            )
            for product, quantity in wanted
        ]
        order = Order(
            id=order_id,
            status=status,
            currency="USD",
            lines=lines,
            billing=billing,
            payment_method="bacs",
            date_created=stamp,
            date_modified=stamp,
            date_paid=stamp if status in ("processing", "completed") else None,
            order_key=f"wc_order_{order_id:08x}",
        )
        self.orders[order.id] = order
        if status in ("processing", "completed", "on-hold"):
            self._reduce_stock(order)
        self.stats.orders += 1
        return order

    def _reduce_stock(self, order: Order) -> None:
        for line in order.lines:
            self.stats.units_sold += line.quantity
            product = self.products.get(line.variation_id or line.product_id)
            if product is None or not product.manage_stock or product.stock_quantity is None:
                continue
            # Units beyond what was on the shelf were sold on backorder: oversold.
            self.stats.oversold_units += max(0, line.quantity - max(0, product.stock_quantity))
            self.adjust_stock(product, -line.quantity)
        order.stock_reduced = True

    def _restore_stock(self, order: Order) -> None:
        for line in order.lines:
            product = self.products.get(line.variation_id or line.product_id)
            if product is not None:
                self.adjust_stock(product, line.quantity)
        order.stock_reduced = False

    def set_order_status(self, order: Order, status: str) -> None:
        if status == order.status:
            return
        stamp = self.now()
        order.status = status
        order.date_modified = stamp
        if status in ("processing", "completed", "on-hold") and not order.stock_reduced:
            self._reduce_stock(order)
        if status in ("cancelled", "pending") and order.stock_reduced:
            # wc_maybe_increase_stock_levels: a cancelled order gives its units back.
            self._restore_stock(order)
        if status in ("processing", "completed") and order.date_paid is None:
            order.date_paid = stamp
        if status == "completed":
            order.date_completed = stamp

    def add_refund(self, order: Order, amount: Decimal, reason: str) -> Refund:
        refund = Refund(id=self.next_id(), amount=amount, reason=reason, date_created=self.now())
        order.refunds.append(refund)
        order.date_modified = refund.date_created
        if order.refunded >= order.total:
            self.set_order_status(order, "refunded")
        return refund

    def add_note(self, order: Order, note: str, customer_note: bool) -> OrderNote:
        entry = OrderNote(id=self.next_id(), note=note, customer_note=customer_note, date_created=self.now())
        order.notes.append(entry)
        return entry
