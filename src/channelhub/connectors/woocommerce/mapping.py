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

from channelhub.connectors.errors import ValidationFailed
from channelhub.connectors.woocommerce.errors import SYSTEM

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


# The product and variation fields `listing_from_payload` reads.
LISTING_FIELDS = (
    "id",
    "parent_id",
    "type",
    "sku",
    "manage_stock",
    "stock_quantity",
    "stock_status",
    "regular_price",
    "sale_price",
    "date_modified_gmt",
    "backorders",
)


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


class WooCommerceMappingError(ValidationFailed):
    """A WooCommerce payload cannot be read as an order (a field missing or of the wrong type)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, system=SYSTEM, operation="map_order")


def _fail(order: str, message: str) -> WooCommerceMappingError:
    return WooCommerceMappingError(f"WooCommerce order {order}: {message}")


def _kind(value: Any) -> str:
    names = {type(None): "null", dict: "an object", list: "a list", str: "text", bool: "a boolean"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else type(value).__name__)


def _whole(value: Any) -> int | None:
    """A JSON integer, or text holding one (WooCommerce sends ids and quantities as integers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 19:
        return int(value)
    return None


def _objects(order: str, value: Any, what: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail(order, f"{what} must be a list, not {_kind(value)}")
    for position, item in enumerate(value):
        if not isinstance(item, dict):
            raise _fail(order, f"{what}[{position}] must be an object, not {_kind(item)}")
    return value


def _money(order: str, value: Any, what: str, *, required: bool = False) -> Decimal:
    if value is None or value == "":
        if required:
            raise _fail(order, f"{what} is missing")
        return Decimal(0)
    amount = parse_money(value) if isinstance(value, str | int | float) else None
    if amount is None or not amount.is_finite():
        raise _fail(order, f"{what} is not an amount: {value!r}")
    return amount


def _moment(order: str, payload: dict[str, Any], key: str) -> datetime | None:
    value = payload.get(key)
    if value is None or value == "":
        return None
    moment = parse_gmt(value)
    if moment is None:
        raise _fail(order, f"{key} is not a date: {value!r}")
    return moment


def _line(order: str, position: int, line: dict[str, Any]) -> ChannelOrderLine:
    what = f"line_items[{position}]"
    line_id = _whole(line.get("id"))
    if line_id is None:
        raise _fail(order, f"{what}.id must be an integer, not {line.get('id')!r}")
    quantity = _whole(line.get("quantity"))
    if quantity is None:
        raise _fail(order, f"{what}.quantity must be an integer, not {line.get('quantity')!r}")
    sku = line.get("sku")
    if sku is not None and not isinstance(sku, str):
        raise _fail(order, f"{what}.sku must be text, not {_kind(sku)}")
    product_id = _whole(line.get("product_id") or 0)
    variation_id = _whole(line.get("variation_id") or 0)
    if product_id is None or variation_id is None:
        raise _fail(order, f"{what}.product_id/variation_id must be integers")
    return ChannelOrderLine(
        line_id=line_id,
        sku=sku or "",
        product_id=product_id,
        variation_id=variation_id or None,
        quantity=quantity,
        unit_price=_money(order, line.get("price"), f"{what}.price"),
        total=_money(order, line.get("total"), f"{what}.total"),
    )


def order_from_payload(payload: Any) -> ChannelOrder:
    """An order from a REST or webhook payload. Whatever WooCommerce always sends for a real order
    is required (id, status, currency, total, `date_created_gmt`, at least one line item): a bare
    `{"id": 1}` is refused, not taken for an empty order placed in 1970. A field of the wrong type
    raises `WooCommerceMappingError` naming it, never `KeyError`/`TypeError`."""
    if not isinstance(payload, dict):
        raise WooCommerceMappingError(f"a WooCommerce order must be an object, not {_kind(payload)}")
    order_id = _whole(payload.get("id"))
    if order_id is None or order_id < 1:
        raise WooCommerceMappingError(f"WooCommerce order has no valid id: {payload.get('id')!r}")
    order = str(order_id)
    status, currency = payload.get("status"), payload.get("currency")
    if not isinstance(status, str) or not status:
        raise _fail(order, f"status must be non-empty text, not {status!r}")
    if not isinstance(currency, str) or not currency:
        raise _fail(order, f"currency must be non-empty text, not {currency!r}")
    created_at = _moment(order, payload, "date_created_gmt")
    if created_at is None:
        raise _fail(order, "date_created_gmt is missing (date_created alone is shop-local time)")
    lines = tuple(
        _line(order, i, line)
        for i, line in enumerate(_objects(order, payload.get("line_items"), "line_items"))
    )
    if not lines:
        raise _fail(order, "line_items is empty: an order sells at least one item")
    refunds = []
    for i, refund in enumerate(_objects(order, payload.get("refunds"), "refunds")):
        refund_id = _whole(refund.get("id"))
        if refund_id is None:
            raise _fail(order, f"refunds[{i}].id must be an integer, not {refund.get('id')!r}")
        amount = abs(_money(order, refund.get("total"), f"refunds[{i}].total"))
        refunds.append(ChannelRefund(refund_id, amount, str(refund.get("reason") or "")))
    billing = payload.get("billing")
    email = billing.get("email") if isinstance(billing, dict) else None
    number = payload.get("number")
    return ChannelOrder(
        channel=CHANNEL,
        order_id=order_id,
        number=str(number) if isinstance(number, str | int) and number != "" else order,
        status=status,
        currency=currency,
        total=_money(order, payload.get("total"), "total", required=True),
        created_at=created_at,
        modified_at=_moment(order, payload, "date_modified_gmt"),
        paid_at=_moment(order, payload, "date_paid_gmt"),
        customer_email=email if isinstance(email, str) else "",
        lines=lines,
        refunds=tuple(refunds),
        payment_method=str(payload.get("payment_method") or ""),
        transaction_id=str(payload.get("transaction_id") or ""),
        completed_at=_moment(order, payload, "date_completed_gmt"),
    )


def tracking_note(tracking: Tracking, partial: bool) -> str:
    shipped = "Partially shipped" if partial else "Shipped"
    note = f"{shipped} with {tracking.carrier}, tracking number {tracking.number}"
    return f"{note}: {tracking.url}" if tracking.url else note
