"""WooCommerce payloads ↔ the connector's typed records.

These small frozen dataclasses carry what WooCommerce says, typed (SKU, quantities, prices as
`Decimal`, orders with lines, payment and refunds); `canonical.py` turns an order into the
canonical `channelhub.domain.Order`.
WooCommerce sends money as strings and dates as `Y-m-d\\TH:i:s`; the `_gmt` twins are read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

CHANNEL = "woocommerce"


@dataclass(frozen=True)
class SkuRef:
    """Where a SKU lives: a simple product, or a variation of a variable product."""

    product_id: int
    variation_id: int | None = None

    @property
    def item_id(self) -> int:
        return self.variation_id or self.product_id


@dataclass(frozen=True)
class ChannelListing:
    """What the shop shows for one SKU (read back for reconciliation)."""

    sku: str
    ref: SkuRef
    manage_stock: bool
    quantity: int | None
    stock_status: str
    regular_price: Decimal | None
    sale_price: Decimal | None
    modified_at: datetime | None
    backorders: str = "no"  # no | notify | yes: "notify"/"yes" keep selling past zero


@dataclass(frozen=True)
class PriceChange:
    regular_price: Decimal
    sale_price: Decimal | None = None


@dataclass(frozen=True)
class ChannelOrderLine:
    line_id: int
    sku: str
    product_id: int
    variation_id: int | None
    quantity: int
    unit_price: Decimal
    total: Decimal


@dataclass(frozen=True)
class ChannelRefund:
    refund_id: int
    amount: Decimal
    reason: str


@dataclass(frozen=True)
class ChannelOrder:
    channel: str
    order_id: int
    number: str
    status: str
    currency: str
    total: Decimal
    created_at: datetime | None
    modified_at: datetime | None
    paid_at: datetime | None
    customer_email: str
    lines: tuple[ChannelOrderLine, ...]
    refunds: tuple[ChannelRefund, ...]
    payment_method: str = ""
    transaction_id: str = ""
    completed_at: datetime | None = None

    @property
    def idempotency_key(self) -> str:
        """The key an Odoo sale order carries (`client_order_ref`), per DESIGN principle 3."""
        return f"{self.channel}:{self.order_id}"

    @property
    def version_key(self) -> tuple[int, datetime | None]:
        """(order id, last modification): two fetches with the same key carry the same state."""
        return (self.order_id, self.modified_at)


@dataclass(frozen=True)
class Tracking:
    carrier: str
    number: str
    url: str = ""


def parse_gmt(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def to_gmt_param(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def parse_money(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def money_string(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def listing_from_payload(payload: dict[str, Any]) -> ChannelListing:
    """A product or variation REST payload as a listing."""
    is_variation = payload.get("type") == "variation" or bool(payload.get("parent_id"))
    ref = (
        SkuRef(int(payload["parent_id"]), int(payload["id"])) if is_variation else SkuRef(int(payload["id"]))
    )
    quantity = payload.get("stock_quantity")
    return ChannelListing(
        sku=str(payload.get("sku") or ""),
        ref=ref,
        manage_stock=payload.get("manage_stock") is True,
        quantity=int(quantity) if isinstance(quantity, int | float) else None,
        stock_status=str(payload.get("stock_status") or ""),
        regular_price=parse_money(payload.get("regular_price")),
        sale_price=parse_money(payload.get("sale_price")),
        modified_at=parse_gmt(payload.get("date_modified_gmt")),
        backorders=str(payload.get("backorders") or "no"),
    )


def order_from_payload(payload: dict[str, Any]) -> ChannelOrder:
    lines = tuple(
        ChannelOrderLine(
            line_id=int(line["id"]),
            sku=str(line.get("sku") or ""),
            product_id=int(line.get("product_id") or 0),
            variation_id=int(line["variation_id"]) if line.get("variation_id") else None,
            quantity=int(line.get("quantity") or 0),
            unit_price=parse_money(line.get("price")) or Decimal("0"),
            total=parse_money(line.get("total")) or Decimal("0"),
        )
        for line in payload.get("line_items") or []
    )
    refunds = tuple(
        ChannelRefund(
            int(r["id"]), abs(parse_money(r.get("total")) or Decimal("0")), str(r.get("reason") or "")
        )
        for r in payload.get("refunds") or []
    )
    billing = payload.get("billing") or {}
    return ChannelOrder(
        channel=CHANNEL,
        order_id=int(payload["id"]),
        number=str(payload.get("number") or payload["id"]),
        status=str(payload.get("status") or ""),
        currency=str(payload.get("currency") or ""),
        total=parse_money(payload.get("total")) or Decimal("0"),
        created_at=parse_gmt(payload.get("date_created_gmt")),
        modified_at=parse_gmt(payload.get("date_modified_gmt")),
        paid_at=parse_gmt(payload.get("date_paid_gmt")),
        customer_email=str(billing.get("email") or "") if isinstance(billing, dict) else "",
        lines=lines,
        refunds=refunds,
        payment_method=str(payload.get("payment_method") or ""),
        transaction_id=str(payload.get("transaction_id") or ""),
        completed_at=parse_gmt(payload.get("date_completed_gmt")),
    )


def tracking_note(tracking: Tracking, partial: bool) -> str:
    shipped = "Partially shipped" if partial else "Shipped"
    note = f"{shipped} with {tracking.carrier}, tracking number {tracking.number}"
    return f"{note}: {tracking.url}" if tracking.url else note
