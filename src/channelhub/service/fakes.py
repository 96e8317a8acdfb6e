"""In-memory gateways for tests: deterministic, inspectable, with failure injection.

    shop = FakeChannelGateway("shopify", kind="shopify", compare_and_set=True)
    shop.stock_listing("SKU-1", 5)
    [result] = await shop.set_available([QuantityUpdate("SKU-1", 4, expected_previous=5)])

    odoo = FakeErpGateway()
    odoo.put_stock("SKU-1", "wh1", on_hand=10)
    ref = await odoo.ensure_sale_order(snapshot)     # created once per client_order_ref

Failures: `fail_next(error, times)` makes the next calls raise `error` (any method that talks to
the platform); the channel fake also has per-SKU failures (`fail_sku`) and `storefront_sale`
(a concurrent sale that makes a compare-and-set publish conflict).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from channelhub.connectors.errors import ConnectorError, ValidationFailed, WebhookVerificationError
from channelhub.service.ports import (
    ChannelDelivery,
    ChannelLimits,
    ChannelOrderLine,
    ChannelOrderSnapshot,
    DeliveryKind,
    ErpNotification,
    ErpOrderRef,
    ErpStockChanges,
    ErpStockRead,
    ErpStockRow,
    PaymentState,
    PublishResult,
    PublishStatus,
    QuantityUpdate,
)

SIGNATURE_HEADER = "x-fake-signature"
DELIVERY_HEADER = "x-fake-delivery-id"
TOKEN_HEADER = "x-channelhub-token"


class _FailureInjection:
    def __init__(self) -> None:
        self._failures: list[BaseException] = []
        self.calls: list[str] = []

    def fail_next(self, error: BaseException, times: int = 1) -> None:
        """The next `times` platform calls raise `error`."""
        self._failures.extend([error] * times)

    def heal(self) -> None:
        """Calls succeed again (failures still queued by `fail_next` are dropped)."""
        self._failures.clear()

    def _call(self, operation: str) -> None:
        self.calls.append(operation)
        if self._failures:
            raise self._failures.pop(0)


def sign_body(raw_body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()).decode()


class FakeChannelGateway(_FailureInjection):
    """A channel that keeps its quantities and orders in memory."""

    def __init__(
        self,
        name: str,
        *,
        kind: str = "fake",
        compare_and_set: bool = True,
        max_quantities_per_call: int = 250,
        max_in_flight: int = 4,
        secret: str = "fake-webhook-secret",
    ) -> None:
        super().__init__()
        self._name = name
        self._kind = kind
        self._limits = ChannelLimits(
            max_quantities_per_call=max_quantities_per_call,
            calls_per_second=None,
            max_in_flight=max_in_flight,
            compare_and_set=compare_and_set,
        )
        self.secret = secret
        self.quantities: dict[str, int] = {}
        self.orders: dict[str, ChannelOrderSnapshot] = {}
        self.failing_skus: dict[str, tuple[str, bool]] = {}
        self.published: list[QuantityUpdate] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def kind(self) -> str:
        return self._kind

    @property
    def limits(self) -> ChannelLimits:
        return self._limits

    # -- test set-up ---------------------------------------------------------------------------

    def stock_listing(self, sku: str, quantity: int = 0) -> None:
        self.quantities[sku] = quantity

    def storefront_sale(self, sku: str, units: int) -> None:
        """A shopper bought `units` on the channel itself (the channel lowers its own number)."""
        self.quantities[sku] = max(0, self.quantities.get(sku, 0) - units)

    def fail_sku(self, sku: str, error: str = "refused", *, transient: bool = False) -> None:
        self.failing_skus[sku] = (error, transient)

    def put_order(self, order: ChannelOrderSnapshot) -> None:
        self.orders[order.channel_order_id] = order

    def delivery_for(self, order: ChannelOrderSnapshot, delivery_id: str) -> tuple[dict[str, str], bytes]:
        """Headers and body of a signed webhook delivery carrying `order`."""
        body = json.dumps(order.to_payload(), sort_keys=True).encode()
        headers = {SIGNATURE_HEADER: sign_body(body, self.secret), DELIVERY_HEADER: delivery_id}
        return headers, body

    # -- the port ------------------------------------------------------------------------------

    async def set_available(self, updates: Sequence[QuantityUpdate]) -> list[PublishResult]:
        self._call("set_available")
        results: dict[str, PublishResult] = {}
        for update in {u.sku: u for u in updates}.values():
            self.published.append(update)
            current = self.quantities.get(update.sku)
            if current is None:
                results[update.sku] = PublishResult(update.sku, PublishStatus.UNKNOWN_SKU, error="not listed")
            elif update.sku in self.failing_skus:
                error, transient = self.failing_skus[update.sku]
                results[update.sku] = PublishResult(
                    update.sku, PublishStatus.FAILED, error=error, transient=transient
                )
            elif update.quantity < 0:
                results[update.sku] = PublishResult(
                    update.sku, PublishStatus.FAILED, error="quantity is negative"
                )
            elif (
                self._limits.compare_and_set
                and update.expected_previous is not None
                and update.expected_previous != current
                and update.quantity != current
            ):
                results[update.sku] = PublishResult(
                    update.sku, PublishStatus.CONFLICT, channel_quantity=current
                )
            else:
                self.quantities[update.sku] = update.quantity
                results[update.sku] = PublishResult(
                    update.sku, PublishStatus.APPLIED, channel_quantity=update.quantity
                )
        return [results[u.sku] for u in {u.sku: u for u in updates}.values()]

    async def read_available(self, skus: Sequence[str] | None = None) -> dict[str, int]:
        self._call("read_available")
        wanted = (
            self.quantities if skus is None else {s: self.quantities[s] for s in skus if s in self.quantities}
        )
        return dict(wanted)

    async def orders_since(self, cursor: str | None) -> tuple[list[ChannelOrderSnapshot], str | None]:
        self._call("orders_since")
        since = datetime.fromisoformat(cursor) if cursor else None
        found = sorted(
            (o for o in self.orders.values() if since is None or o.updated_at >= since),
            key=lambda o: (o.updated_at, o.channel_order_id),
        )
        newest = found[-1].updated_at.isoformat() if found else cursor
        return found, newest

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> ChannelDelivery:
        lowered = {k.lower(): v for k, v in headers.items()}
        signature = lowered.get(SIGNATURE_HEADER)
        if not signature or not hmac.compare_digest(signature, sign_body(raw_body, self.secret)):
            raise WebhookVerificationError("signature missing or wrong", system=self._kind)
        try:
            order = ChannelOrderSnapshot.from_payload(json.loads(raw_body))
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookVerificationError(f"body is not an order: {exc}", system=self._kind) from exc
        return ChannelDelivery(
            channel=self._name,
            dedupe_key=f"{self._name}:{lowered.get(DELIVERY_HEADER) or hashlib.sha256(raw_body).hexdigest()}",
            topic="orders/updated",
            kind=DeliveryKind.ORDER,
            occurred_at=order.updated_at,
            resource_key=f"{self._name}:order:{order.channel_order_id}",
            order=order,
        )

    async def aclose(self) -> None:
        self.calls.append("aclose")


@dataclass
class _FakeOrder:
    ref: ErpOrderRef
    lines: dict[str, int]
    note: str
    reserved: bool = False


class FakeErpGateway(_FailureInjection):
    """An ERP with stock rows, a change log (for cursors) and sale orders, in memory.

    Confirming an order reserves its units on the first location holding the SKU (as Odoo's
    picking reservation does); cancelling gives them back."""

    def __init__(
        self, *, token: str = "fake-odoo-token-0123456789", known_skus: set[str] | None = None
    ) -> None:
        super().__init__()
        self.token = token
        self.rows: dict[tuple[str, str, str], ErpStockRow] = {}
        self.changes: list[str] = []  # SKU per change; the cursor is the position in this list
        self.orders: dict[str, _FakeOrder] = {}
        self.known_skus = known_skus  # None: every SKU with stock rows (plus any ordered SKU)
        self.refuse_skus: set[str] = set()
        self.created = 0
        self.product_ids: dict[int, str] = {}
        self.reserve_on_confirm = True  # False: stock was short, Odoo reserves later (`reserve_now`)

    # -- test set-up ---------------------------------------------------------------------------

    def put_stock(
        self,
        sku: str,
        warehouse: str,
        *,
        on_hand: int,
        reserved: int = 0,
        hold: int = 0,
        location: str | None = None,
        write_date: datetime | None = None,
    ) -> None:
        where = location or f"{warehouse.upper()}/Stock"
        self.rows[(sku, warehouse, where)] = ErpStockRow(
            sku, warehouse, where, on_hand, reserved, hold, write_date
        )
        self.changes.append(sku)
        self.product_id_of(sku)

    def remove_stock(self, sku: str, warehouse: str, location: str | None = None) -> None:
        self.rows.pop((sku, warehouse, location or f"{warehouse.upper()}/Stock"), None)
        self.changes.append(sku)

    def product_id_of(self, sku: str) -> int:
        for product_id, known in self.product_ids.items():
            if known == sku:
                return product_id
        product_id = len(self.product_ids) + 1
        self.product_ids[product_id] = sku
        return product_id

    def notification_body(self, sku: str) -> tuple[dict[str, str], bytes]:
        body = json.dumps(
            {"_model": "stock.quant", "_id": self.product_id_of(sku), "product_id": self.product_id_of(sku)}
        ).encode()
        return {TOKEN_HEADER: self.token}, body

    def order(self, client_order_ref: str) -> ErpOrderRef | None:
        found = self.orders.get(client_order_ref)
        return found.ref if found else None

    # -- stock ---------------------------------------------------------------------------------

    def _read(self, skus: Sequence[str] | None) -> ErpStockRead:
        wanted = (
            sorted({row.sku for row in self.rows.values()}) if skus is None else list(dict.fromkeys(skus))
        )
        rows = tuple(row for key, row in sorted(self.rows.items()) if row.sku in set(wanted))
        known = self.known_skus if self.known_skus is not None else {r.sku for r in self.rows.values()}
        return ErpStockRead(
            skus=tuple(wanted),
            rows=rows,
            warehouses=tuple(sorted({row.warehouse for row in self.rows.values()})),
            unknown_skus=tuple(sku for sku in wanted if sku not in known),
        )

    async def read_stock(self, skus: Sequence[str] | None = None) -> ErpStockRead:
        self._call("read_stock")
        return self._read(skus)

    async def read_stock_pages(self, page_size: int = 5000) -> AsyncIterator[ErpStockRead]:
        """`read_stock(None)` in pages of `page_size` SKUs (by SKU); a failure injected with
        `fail_next` is raised by the page it falls on."""
        every = sorted({row.sku for row in self.rows.values()})
        for start in range(0, len(every), max(1, page_size)):
            self._call("read_stock_pages")
            yield self._read(every[start : start + page_size])

    async def stock_changes_since(self, cursor: str | None, *, limit: int = 1000) -> ErpStockChanges:
        self._call("stock_changes_since")
        start = int(cursor) if cursor else 0
        window = self.changes[start : start + limit]
        end = start + len(window)
        return ErpStockChanges(self._read(sorted(set(window))), str(end), has_more=end < len(self.changes))

    def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, url_token: str | None = None
    ) -> ErpNotification:
        lowered = {k.lower(): v for k, v in headers.items()}
        presented = url_token if url_token is not None else lowered.get(TOKEN_HEADER)
        if not presented or not hmac.compare_digest(presented, self.token):
            raise WebhookVerificationError("Odoo webhook token missing or wrong", system="odoo")
        try:
            payload = json.loads(raw_body)
            model, record_id = str(payload["_model"]), int(payload["_id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValidationFailed(f"not an Odoo notification: {exc}", system="odoo") from exc
        digest = hashlib.sha256(raw_body).hexdigest()[:32]
        return ErpNotification(f"odoo:{model}:{record_id}:{digest}", model, record_id, payload)

    async def skus_of_notification(self, notification: ErpNotification) -> tuple[str, ...]:
        product = notification.values.get("product_id")
        sku = self.product_ids.get(int(product)) if isinstance(product, int) else None
        return (sku,) if sku else ()

    # -- orders --------------------------------------------------------------------------------

    async def find_sale_order(self, client_order_ref: str) -> ErpOrderRef | None:
        self._call("find_sale_order")
        return self.order(client_order_ref)

    async def ensure_sale_order(self, order: ChannelOrderSnapshot, *, note: str = "") -> ErpOrderRef:
        self._call("ensure_sale_order")
        existing = self.orders.get(order.order_key)
        if existing is not None:
            return replace(existing.ref, created=False)
        lines = order.units_by_sku()
        known = self.known_skus if self.known_skus is not None else None
        missing = sorted(
            sku for sku in lines if sku in self.refuse_skus or (known is not None and sku not in known)
        )
        if missing or not lines:
            raise ValidationFailed(
                f"no Odoo product with SKU {', '.join(missing)}" if missing else "an order needs lines",
                system="odoo",
                operation="sale.order/create",
            )
        self.created += 1
        ref = ErpOrderRef(self.created, f"S{self.created:05d}", "draft", order.order_key, created=True)
        self.orders[order.order_key] = _FakeOrder(replace(ref, created=False), lines, note)
        return ref

    async def confirm_sale_order(self, ref: ErpOrderRef) -> ErpOrderRef:
        self._call("confirm_sale_order")
        found = self._order(ref)
        if found.ref.cancelled:
            raise ValidationFailed(f"sale order {found.ref.name} is cancelled", system="odoo")
        if not found.ref.confirmed:
            found.ref = replace(found.ref, state="sale")
            if self.reserve_on_confirm:
                self._reserve(found, +1)
        return found.ref

    def reserve_now(self, client_order_ref: str) -> None:
        """Odoo reserves a confirmed order's stock later (a receipt arrived)."""
        found = self.orders[client_order_ref]
        if found.ref.confirmed and not found.reserved:
            self._reserve(found, +1)

    async def cancel_sale_order(self, ref: ErpOrderRef) -> ErpOrderRef:
        self._call("cancel_sale_order")
        found = self._order(ref)
        if found.ref.locked:
            raise ValidationFailed(f"sale order {found.ref.name} is locked", system="odoo")
        if not found.ref.cancelled:
            if found.reserved:
                self._reserve(found, -1)
            found.ref = replace(found.ref, state="cancel")
        return found.ref

    async def reservation_seen(self, ref: ErpOrderRef) -> bool:
        self._call("reservation_seen")
        return self._order(ref).reserved

    async def reserved_orders(self, client_order_refs: Sequence[str]) -> set[str]:
        self._call("reserved_orders")
        return {ref for ref in client_order_refs if (found := self.orders.get(ref)) and found.reserved}

    async def aclose(self) -> None:
        self.calls.append("aclose")

    def _order(self, ref: ErpOrderRef) -> _FakeOrder:
        found = self.orders.get(ref.client_order_ref)
        if found is None:
            raise ConnectorError(f"sale order {ref.id} does not exist", system="odoo")
        return found

    def _reserve(self, order: _FakeOrder, sign: int) -> None:
        for sku, units in order.lines.items():
            key = next((k for k in sorted(self.rows) if k[0] == sku), None)
            if key is None:
                continue
            row = self.rows[key]
            reserved = max(0, row.reserved + sign * units)
            self.rows[key] = replace(row, reserved=reserved)
            self.changes.append(sku)
        order.reserved = sign > 0


def order_snapshot(
    channel: str,
    order_id: str,
    lines: Mapping[str, int],
    *,
    at: datetime,
    updated_at: datetime | None = None,
    payment: str = "paid",
    cancelled: bool = False,
    fulfilment_started: bool = False,
    currency: str = "EUR",
    channel_reduced_stock: bool = False,
    **extra: Any,
) -> ChannelOrderSnapshot:
    """A snapshot for tests: `lines` maps SKU → units (unit price 10)."""
    order_lines = tuple(
        ChannelOrderLine(str(index), sku, units, Decimal("10"))
        for index, (sku, units) in enumerate(lines.items(), 1)
    )
    return ChannelOrderSnapshot(
        channel=channel,
        channel_order_id=order_id,
        name=str(extra.get("name", f"#{order_id}")),
        currency=currency,
        placed_at=at,
        updated_at=updated_at or at,
        payment=PaymentState(payment),
        lines=order_lines,
        total=sum((line.unit_price * line.quantity for line in order_lines), Decimal(0)),
        cancelled=cancelled,
        fulfilment_started=fulfilment_started,
        channel_reduced_stock=channel_reduced_stock,
    )
