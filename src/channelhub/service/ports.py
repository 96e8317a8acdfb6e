"""The ports: what the use cases need from a sales channel and from the ERP, in SKU terms.

Each platform speaks its own shape (Shopify GraphQL with compare-and-set, WooCommerce REST batches,
Odoo JSON-RPC); the adapters in `channelhub.service.adapters` reduce them to these Protocols and
value types, and `channelhub.service.fakes` implements them in memory for tests. Everything the
publisher (`engine/publisher.py`), reconciliation, the ingress and the benchmark do against a
platform goes through these two Protocols.

Errors: gateways raise the `channelhub.connectors.errors` hierarchy. `transient=True` errors are
retried by the durable log; permanent ones (`ValidationFailed`, `NotFoundError`, ...) become
business exceptions where a person must act. `WebhookVerificationError` means "refuse with 401,
store nothing".
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

# --- publishing quantities ------------------------------------------------------------------------


class PublishStatus(StrEnum):
    APPLIED = "applied"  # the channel now shows `quantity`
    CONFLICT = "conflict"  # compare-and-set refused: the channel holds `channel_quantity` instead
    FAILED = "failed"  # not applied; `transient` says whether resending can help
    UNKNOWN_SKU = "unknown_sku"  # the channel has no (single) listing for the SKU


@dataclass(frozen=True, slots=True)
class QuantityUpdate:
    """Set the available quantity of `sku` (in the channel's unit) to `quantity`.

    `expected_previous` is the compare-and-set guard: the value the caller believes the channel
    shows now (normally the last acknowledged one). Shopify enforces it (`compareQuantity`, or
    `changeFromQuantity` from 2026-10): a storefront sale in between makes it a CONFLICT instead of
    an overwrite. WooCommerce has no compare-and-set (`limits.compare_and_set` is False): its
    gateway reads the shop just before writing and answers a CONFLICT the same way when the value
    differs, which leaves only the time between that read and the write for a race.
    None means "no expectation" (first publish, or a forced correction).
    """

    sku: str
    quantity: int
    expected_previous: int | None = None


@dataclass(frozen=True, slots=True)
class PublishResult:
    sku: str
    status: PublishStatus
    channel_quantity: int | None = None  # APPLIED: the value now shown; CONFLICT: the value found
    error: str | None = None
    transient: bool = False  # FAILED only: True when the same update may succeed later

    @property
    def applied(self) -> bool:
        return self.status is PublishStatus.APPLIED


@dataclass(frozen=True, slots=True)
class ChannelLimits:
    """How to batch and pace calls to one channel (hints for the publisher; the gateway enforces
    the platform's limits itself, these let the publisher plan instead of being throttled).

    - `max_quantities_per_call`: items one `set_available` call sends in one platform request
      (Shopify 250 per input array; WooCommerce batch limit, 100 by default). A larger `updates`
      sequence is split by the gateway, so this is a planning figure, not a hard cap.
    - `calls_per_second`: sustained request rate (WooCommerce host limit; for Shopify the rate the
      cost bucket's restore rate allows for a full batch).
    - `cost_bucket` / `cost_restore_per_second` / `cost_per_quantity`: Shopify's leaky-bucket
      model (points), None elsewhere.
    - `max_in_flight`: concurrent calls the channel tolerates.
    """

    max_quantities_per_call: int
    calls_per_second: float | None = None
    max_in_flight: int = 1
    compare_and_set: bool = False
    cost_bucket: float | None = None
    cost_restore_per_second: float | None = None
    cost_per_quantity: float | None = None


# --- orders --------------------------------------------------------------------------------------


class PaymentState(StrEnum):
    """The order's payment in channel-neutral words."""

    PENDING = "pending"  # nothing captured or authorised yet (bank transfer, COD, review)
    AUTHORIZED = "authorized"
    PAID = "paid"
    REFUNDED = "refunded"  # partially or fully refunded after payment
    VOIDED = "voided"

    @property
    def settled(self) -> bool:
        """Money captured or authorised: the order may be confirmed in the ERP."""
        return self in (PaymentState.AUTHORIZED, PaymentState.PAID, PaymentState.REFUNDED)


@dataclass(frozen=True, slots=True)
class ChannelOrderLine:
    line_id: str
    sku: str | None  # None: a custom line without SKU (a mapping gap for the ERP)
    quantity: int
    unit_price: Decimal

    def to_payload(self) -> dict[str, Any]:
        return {
            "line_id": self.line_id,
            "sku": self.sku,
            "quantity": self.quantity,
            "unit_price": str(self.unit_price),
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> ChannelOrderLine:
        return cls(
            line_id=str(data["line_id"]),
            sku=None if data.get("sku") in (None, "") else str(data["sku"]),
            quantity=int(data["quantity"]),
            unit_price=Decimal(str(data["unit_price"])),
        )


@dataclass(frozen=True, slots=True)
class ChannelOrderSnapshot:
    """An order as the channel shows it at `updated_at` (webhook body or backfill read).

    Snapshots are level-triggered: the use case compares `updated_at` with what it already applied,
    so duplicates and out-of-order deliveries of the same order are harmless.
    """

    channel: str  # the channel name from the landscape (e.g. "shopify", "web-eu")
    channel_order_id: str
    name: str
    currency: str
    placed_at: datetime
    updated_at: datetime
    payment: PaymentState
    lines: tuple[ChannelOrderLine, ...]
    total: Decimal
    cancelled: bool = False
    cancel_reason: str | None = None
    fulfilment_started: bool = False
    # The channel itself took the lines' quantities off its stock when it accepted the order
    # (Shopify: every order; WooCommerce: processing, completed or on-hold orders). Its quantity is
    # then already lower by the order: see `ListingRepository.record_channel_sale`.
    channel_reduced_stock: bool = False

    def __post_init__(self) -> None:
        for name in ("placed_at", "updated_at"):
            if getattr(self, name).tzinfo is None:
                raise ValueError(f"order {self.channel_order_id}: {name} must be timezone-aware")
        if not self.channel or not self.channel_order_id:
            raise ValueError("an order snapshot needs its channel and the channel's order id")

    @property
    def order_key(self) -> str:
        """`<channel>:<channel order id>`: the order's identity and the ERP idempotency key."""
        return f"{self.channel}:{self.channel_order_id}"

    def units_by_sku(self) -> dict[str, int]:
        units: dict[str, int] = {}
        for line in self.lines:
            if line.sku and line.quantity > 0:
                units[line.sku] = units.get(line.sku, 0) + line.quantity
        return units

    def to_payload(self) -> dict[str, Any]:
        """JSON-ready dict (for the durable log); `from_payload` reverses it exactly."""
        return {
            "channel": self.channel,
            "channel_order_id": self.channel_order_id,
            "name": self.name,
            "currency": self.currency,
            "placed_at": self.placed_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "payment": self.payment.value,
            "lines": [line.to_payload() for line in self.lines],
            "total": str(self.total),
            "cancelled": self.cancelled,
            "cancel_reason": self.cancel_reason,
            "fulfilment_started": self.fulfilment_started,
            "channel_reduced_stock": self.channel_reduced_stock,
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> ChannelOrderSnapshot:
        return cls(
            channel=str(data["channel"]),
            channel_order_id=str(data["channel_order_id"]),
            name=str(data.get("name") or ""),
            currency=str(data.get("currency") or ""),
            placed_at=datetime.fromisoformat(str(data["placed_at"])),
            updated_at=datetime.fromisoformat(str(data["updated_at"])),
            payment=PaymentState(str(data["payment"])),
            lines=tuple(ChannelOrderLine.from_payload(line) for line in data.get("lines") or ()),
            total=Decimal(str(data.get("total") or "0")),
            cancelled=bool(data.get("cancelled")),
            cancel_reason=data.get("cancel_reason"),
            fulfilment_started=bool(data.get("fulfilment_started")),
            channel_reduced_stock=bool(data.get("channel_reduced_stock")),
        )


# --- webhook deliveries --------------------------------------------------------------------------


class DeliveryKind(StrEnum):
    ORDER = "order"  # `order` holds the snapshot
    STOCK = "stock"  # `stock_levels` holds what the channel reports (informational: Odoo owns stock)
    PING = "ping"  # a subscription test: answer 200, store nothing
    OTHER = "other"  # verified but not used by this slice (store it; processing ignores it)


@dataclass(frozen=True, slots=True)
class ChannelDelivery:
    """A verified webhook delivery, parsed.

    - `dedupe_key`: unique per delivery of one change, stable across the platform's retries.
      Shopify: shop + `X-Shopify-Webhook-Id`. WooCommerce: never the delivery id alone (it is
      `hash(webhook id, second)`, shared by two changes in one second): webhook id + resource id +
      `date_modified_gmt` + body hash.
    - `resource_key` / `occurred_at`: what the delivery describes and when that state was
      current, so an older state never overwrites a newer one (`updated_at`/`date_modified_gmt`,
      else the trigger time).
    """

    channel: str
    dedupe_key: str
    topic: str  # the platform's topic (`orders/updated`, `order.updated`)
    kind: DeliveryKind
    occurred_at: datetime | None
    resource_key: str | None = None
    order: ChannelOrderSnapshot | None = None
    stock_levels: Mapping[str, int] = field(default_factory=dict)
    event_key: str | None = None  # Shopify `X-Shopify-Event-Id`: one event fanned out to 2 subscriptions


# --- the sales channel ---------------------------------------------------------------------------


@runtime_checkable
class ChannelGateway(Protocol):
    """One sales channel (one Shopify shop/location, one WooCommerce site, ...)."""

    @property
    def name(self) -> str:
        """The channel name of the landscape (the `channel` column of listings)."""
        ...

    @property
    def kind(self) -> str:
        """The platform: `shopify`, `woocommerce`, `fake`."""
        ...

    @property
    def limits(self) -> ChannelLimits: ...

    async def set_available(self, updates: Sequence[QuantityUpdate]) -> list[PublishResult]:
        """Publish quantities; one result per distinct SKU, in the order given (last update of a
        SKU wins). Never raises for a per-SKU problem; raises `ConnectorError` only when the whole
        call failed (e.g. the shop is unreachable)."""
        ...

    async def read_available(self, skus: Sequence[str] | None = None) -> dict[str, int]:
        """What the channel shows now per SKU (None: every listed SKU), for reconciliation.
        SKUs the channel does not stock are absent."""
        ...

    async def orders_since(self, cursor: str | None) -> tuple[list[ChannelOrderSnapshot], str | None]:
        """Orders changed after `cursor` (None: from the beginning), oldest change first, and the
        cursor to pass next time. Overlaps are allowed (consumers are idempotent)."""
        ...

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> ChannelDelivery:
        """Verify the signature over the raw body, then parse; raises `WebhookVerificationError`
        (refuse with 401, store nothing). A verified body that cannot be mapped raises
        `ValidationFailed`: store it anyway and record a business exception (never drop it)."""
        ...

    async def aclose(self) -> None: ...


# --- the ERP (Odoo) ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ErpStockRow:
    """Stock of one SKU in one internal location of a warehouse (product unit).

    `hold` is unreserved stock in a quality-hold location. `write_date` is when the row was known
    to be current (Odoo's `write_date`, or the start of the read that returned it): the stock
    repository never lets an older row overwrite a newer one."""

    sku: str
    warehouse: str
    location: str
    on_hand: int
    reserved: int = 0
    hold: int = 0
    write_date: datetime | None = None


@dataclass(frozen=True, slots=True)
class ErpStockRead:
    """Stock rows of the requested SKUs, complete for those SKUs: a location of a listed SKU
    absent from `rows` holds nothing any more."""

    skus: tuple[str, ...]
    rows: tuple[ErpStockRow, ...]
    warehouses: tuple[str, ...] = ()
    unknown_skus: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ErpStockChanges:
    """SKUs whose stock changed after a cursor, their current rows, and the next cursor."""

    read: ErpStockRead
    cursor: str
    has_more: bool = False


@dataclass(frozen=True, slots=True)
class ErpNotification:
    """A verified Odoo webhook notification (automation rule "Send Webhook Notification").

    Odoo signs nothing: the deployer's shared token is checked instead. Odoo does not retry, so
    notifications only speed things up; polling stays the safety net."""

    dedupe_key: str
    model: str
    record_id: int
    values: Mapping[str, Any]
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ErpOrderRef:
    """The ERP order for a channel order."""

    id: int
    name: str
    state: str  # Odoo: draft, sent, sale, done, cancel
    client_order_ref: str
    created: bool = False  # True only for the call that created it
    locked: bool = False

    @property
    def confirmed(self) -> bool:
        return self.state in ("sale", "done")

    @property
    def cancelled(self) -> bool:
        return self.state == "cancel"


@runtime_checkable
class ErpGateway(Protocol):
    """Odoo, the system of record for stock and the destination of orders."""

    async def read_stock(self, skus: Sequence[str] | None = None) -> ErpStockRead:
        """Stock rows per SKU × warehouse × location (None: every storable SKU: a snapshot)."""
        ...

    async def read_stock_pages(self, page_size: int = 5000) -> AsyncIterator[ErpStockRead]:
        """Every storable SKU's stock (what `read_stock(None)` returns) in pages of about
        `page_size` SKUs, each complete for the SKUs it lists, so a snapshot of a large catalog
        is applied page by page instead of held whole. The default is one page."""
        yield await self.read_stock(None)

    async def stock_changes_since(self, cursor: str | None, *, limit: int = 1000) -> ErpStockChanges:
        """Stock that changed after `cursor` (a `(write_date, id)` cursor; None: from the start)."""
        ...

    def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, url_token: str | None = None
    ) -> ErpNotification:
        """Check the shared token (URL `?token=` or `X-Channelhub-Token`), then parse; raises
        `WebhookVerificationError` (refuse) or `ValidationFailed` (bad body)."""
        ...

    async def skus_of_notification(self, notification: ErpNotification) -> tuple[str, ...]:
        """The SKUs whose stock a notification may have changed (empty when none)."""
        ...

    async def find_sale_order(self, client_order_ref: str) -> ErpOrderRef | None:
        """The ERP order carrying `client_order_ref`, without creating one."""
        ...

    async def ensure_sale_order(self, order: ChannelOrderSnapshot, *, note: str = "") -> ErpOrderRef:
        """The ERP order for `order.order_key` (the `client_order_ref`), created only if missing.
        Raises `ValidationFailed` when Odoo refuses it (e.g. a SKU it does not know)."""
        ...

    async def confirm_sale_order(self, ref: ErpOrderRef) -> ErpOrderRef:
        """Confirm (Odoo reserves the stock); repeating is harmless."""
        ...

    async def cancel_sale_order(self, ref: ErpOrderRef) -> ErpOrderRef:
        """Cancel; repeating is harmless. A locked (delivered) order raises a permanent error."""
        ...

    async def reservation_seen(self, ref: ErpOrderRef) -> bool:
        """Whether Odoo has taken the order's stock itself (confirmed with a delivery picking):
        from then on its quants show the reservation and the soft reservation must go."""
        ...

    async def reserved_orders(self, client_order_refs: Sequence[str]) -> set[str]:
        """Which of these orders Odoo holds stock for (`reservation_seen` for many, in a couple
        of calls: the periodic hand-over check)."""
        ...

    async def aclose(self) -> None: ...
