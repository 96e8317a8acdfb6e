"""The shop's in-memory records: locations, catalog, inventory, orders, webhooks and counters.

Everything the emulated shop knows lives in one `ShopState`. Mutations happen under its lock,
because the GraphQL endpoint (event loop), the webhook sender (its own thread) and tests (another
thread) all touch it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

QUANTITY_NAMES: tuple[str, ...] = (
    "available",
    "committed",
    "damaged",
    "incoming",
    "on_hand",
    "quality_control",
    "reserved",
    "safety_stock",
)
# `on_hand` is derived: the sum of these states (shopify.dev "inventory states").
ON_HAND_PARTS: tuple[str, ...] = (
    "available",
    "committed",
    "damaged",
    "quality_control",
    "reserved",
    "safety_stock",
)


class WallClock(Protocol):
    """What the emulator needs from a clock (`channelhub.clock` clocks satisfy it)."""

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class RealClock:
    """Wall time and monotonic time of the machine (the default outside tests)."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


def money_text(amount: Decimal) -> str:
    """Money as Shopify writes it on the wire: a decimal string with two places."""
    return f"{amount.quantize(Decimal('0.01'))}"


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def level_gid(location_id: int, item_id: int) -> str:
    return f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={item_id}"


def iso(moment: datetime) -> str:
    """Shopify's GraphQL timestamp form: UTC with a trailing Z, second precision."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Location:
    id: int
    name: str
    is_active: bool = True
    fulfills_online_orders: bool = True


@dataclass
class Product:
    id: int
    title: str
    handle: str
    vendor: str
    product_type: str
    status: str
    created_at: datetime
    updated_at: datetime
    variant_ids: list[int] = field(default_factory=list)


@dataclass
class Variant:
    id: int
    product_id: int
    title: str
    sku: str
    price: Decimal
    compare_at_price: Decimal | None
    inventory_policy: str  # "DENY" or "CONTINUE"
    inventory_item_id: int
    position: int
    created_at: datetime
    updated_at: datetime
    barcode: str | None = None


@dataclass
class InventoryItem:
    id: int
    variant_id: int
    tracked: bool
    created_at: datetime
    updated_at: datetime
    requires_shipping: bool = True


@dataclass
class InventoryLevel:
    item_id: int
    location_id: int
    quantities: dict[str, int]
    created_at: datetime
    updated_at: datetime

    def quantity(self, name: str) -> int:
        if name == "on_hand":
            return sum(self.quantities.get(part, 0) for part in ON_HAND_PARTS)
        return self.quantities.get(name, 0)


@dataclass
class LineItem:
    id: int
    variant_id: int | None
    product_id: int | None
    sku: str | None
    title: str
    variant_title: str | None
    quantity: int
    price: Decimal
    fulfilled_quantity: int = 0
    refunded_quantity: int = 0
    cancelled_quantity: int = 0

    @property
    def current_quantity(self) -> int:
        return self.quantity - self.refunded_quantity - self.cancelled_quantity

    @property
    def unfulfilled_quantity(self) -> int:
        return max(0, self.current_quantity - self.fulfilled_quantity)


@dataclass
class FulfillmentOrderLine:
    id: int
    line_item_id: int
    total_quantity: int
    remaining_quantity: int


@dataclass
class FulfillmentOrder:
    id: int
    order_id: int
    location_id: int
    status: str
    lines: list[FulfillmentOrderLine]
    created_at: datetime
    updated_at: datetime


@dataclass
class TrackingInfo:
    company: str | None
    number: str | None
    url: str | None


@dataclass
class FulfillmentLine:
    id: int
    line_item_id: int
    quantity: int


@dataclass
class Fulfillment:
    id: int
    order_id: int
    location_id: int
    name: str
    status: str
    tracking: list[TrackingInfo]
    lines: list[FulfillmentLine]
    created_at: datetime
    updated_at: datetime


@dataclass
class RefundLine:
    id: int
    line_item_id: int
    quantity: int
    restock_type: str
    location_id: int | None
    subtotal: Decimal


@dataclass
class Refund:
    id: int
    order_id: int
    note: str | None
    lines: list[RefundLine]
    amount: Decimal
    created_at: datetime


@dataclass
class Customer:
    id: int
    email: str | None
    first_name: str | None
    last_name: str | None


@dataclass(frozen=True)
class Address:
    """A postal address with REST field names."""

    first_name: str | None = None
    last_name: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    zip: str | None = None
    province: str | None = None
    country_code: str | None = None
    phone: str | None = None

    @property
    def name(self) -> str | None:
        return " ".join(part for part in (self.first_name, self.last_name) if part) or None


@dataclass
class Order:
    id: int
    number: int
    email: str | None
    currency: str
    financial_status: str  # REST words: pending, authorized, paid, partially_refunded, refunded, voided
    line_items: list[LineItem]
    location_id: int
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    closed_at: datetime | None = None
    note: str | None = None
    tags: list[str] = field(default_factory=list)
    fulfillment_order_ids: list[int] = field(default_factory=list)
    fulfillment_ids: list[int] = field(default_factory=list)
    refund_ids: list[int] = field(default_factory=list)
    refunded_amount: Decimal = Decimal("0.00")
    customer: Customer | None = None
    shipping_address: Address | None = None

    @property
    def name(self) -> str:
        return f"#{self.number}"

    @property
    def total_price(self) -> Decimal:
        return sum((line.price * line.quantity for line in self.line_items), Decimal("0.00"))

    @property
    def current_total_price(self) -> Decimal:
        return sum((line.price * line.current_quantity for line in self.line_items), Decimal("0.00"))

    @property
    def fulfillment_status(self) -> str | None:
        """REST `fulfillment_status`: null, "partial" or "fulfilled"."""
        shipped = sum(line.fulfilled_quantity for line in self.line_items)
        if shipped == 0:
            return None
        if all(line.unfulfilled_quantity == 0 for line in self.line_items):
            return "fulfilled"
        return "partial"


@dataclass
class WebhookSubscription:
    id: int
    topic: str  # REST form, e.g. "orders/create"
    uri: str
    api_version: str
    created_at: datetime
    updated_at: datetime
    include_fields: list[str] = field(default_factory=list)
    fmt: str = "JSON"
    from_config: bool = False  # declared in configuration: never deleted after failed deliveries


@dataclass
class BulkOperation:
    id: int
    query: str
    status: str
    created_at: datetime
    completed_at: datetime | None = None
    object_count: int = 0
    root_object_count: int = 0
    result_jsonl: str | None = None
    error_code: str | None = None


@dataclass
class ShopStats:
    orders: int = 0
    units_sold: int = 0
    oversold_units: int = 0
    refused_orders: int = 0
    refused_units: int = 0
    graphql_requests: int = 0
    throttled_requests: int = 0
    points_spent: int = 0
    inventory_writes: int = 0
    stale_compare_rejections: int = 0
    webhooks_sent: int = 0
    webhooks_delivered: int = 0
    webhooks_failed_attempts: int = 0
    webhooks_abandoned: int = 0
    chaos_errors: int = 0


@dataclass
class Shop:
    id: int
    name: str
    domain: str
    email: str
    currency: str
    plan: str


class ShopState:
    """All records of one emulated shop, with id allocation and an event hook for webhooks."""

    def __init__(self, shop: Shop, clock: WallClock) -> None:
        self.shop = shop
        self.clock = clock
        self.lock = threading.RLock()
        self.locations: dict[int, Location] = {}
        self.products: dict[int, Product] = {}
        self.variants: dict[int, Variant] = {}
        self.inventory_items: dict[int, InventoryItem] = {}
        self.levels: dict[tuple[int, int], InventoryLevel] = {}
        self._levels_by_item: dict[int, list[InventoryLevel]] = {}
        self._variants_by_sku: dict[str, Variant] = {}
        self.orders: dict[int, Order] = {}
        self.fulfillment_orders: dict[int, FulfillmentOrder] = {}
        self.fulfillments: dict[int, Fulfillment] = {}
        self.refunds: dict[int, Refund] = {}
        self.customers: dict[int, Customer] = {}
        self.webhook_subscriptions: dict[int, WebhookSubscription] = {}
        self.bulk_operations: dict[int, BulkOperation] = {}
        self.line_item_orders: dict[int, int] = {}  # line item id -> order id
        # (mutation, idempotency key) -> (input fingerprint, first result)
        self.idempotency: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        self.stats = ShopStats()
        self._next_id = 1_000_001
        self._next_order_number = 1001
        # Called with (topic, payload-builder) whenever something webhook-worthy happens.
        self.listeners: list[Callable[[str, dict[str, Any]], None]] = []

    # -- ids and time -------------------------------------------------------------------------
    def new_id(self) -> int:
        with self.lock:
            value = self._next_id
            self._next_id += 1
            return value

    def new_order_number(self) -> int:
        with self.lock:
            value = self._next_order_number
            self._next_order_number += 1
            return value

    def now(self) -> datetime:
        return self.clock.now()

    def emit(self, topic: str, payload: dict[str, Any]) -> None:
        """Tell webhook listeners that `topic` happened with this REST-shaped payload."""
        for listener in list(self.listeners):
            listener(topic, payload)

    # -- lookups ------------------------------------------------------------------------------
    @property
    def primary_location(self) -> Location:
        return next(iter(self.locations.values()))

    def add_variant(self, variant: Variant, item: InventoryItem) -> None:
        self.variants[variant.id] = variant
        self.inventory_items[item.id] = item
        self._variants_by_sku[variant.sku] = variant

    def add_level(self, level: InventoryLevel) -> None:
        self.levels[(level.item_id, level.location_id)] = level
        self._levels_by_item.setdefault(level.item_id, []).append(level)

    def customer_for(self, email: str | None, first_name: str | None, last_name: str | None) -> Customer:
        """The shop's customer with this email (created on first purchase), as Shopify links guests."""
        with self.lock:
            for customer in self.customers.values():
                if email and customer.email == email:
                    return customer
            customer = Customer(self.new_id(), email, first_name, last_name)
            self.customers[customer.id] = customer
            return customer

    def variant_by_sku(self, sku: str) -> Variant | None:
        return self._variants_by_sku.get(sku)

    def level(self, item_id: int, location_id: int) -> InventoryLevel | None:
        return self.levels.get((item_id, location_id))

    def line_item(self, line_item_id: int) -> tuple[Order, LineItem] | None:
        order = self.orders.get(self.line_item_orders.get(line_item_id, -1))
        if order is None:
            return None
        return order, next(line for line in order.line_items if line.id == line_item_id)

    def levels_of_item(self, item_id: int) -> list[InventoryLevel]:
        return list(self._levels_by_item.get(item_id, ()))

    def levels_at_location(self, location_id: int) -> list[InventoryLevel]:
        return [lvl for (_item, loc), lvl in self.levels.items() if loc == location_id]

    def available_total(self, variant: Variant) -> int:
        return sum(lvl.quantity("available") for lvl in self.levels_of_item(variant.inventory_item_id))
