"""`ChannelGateway` over `WooCommerceConnector`.

WooCommerce has no compare-and-set: a stock write is unconditional (`limits.compare_and_set` is
False), so a storefront sale racing our write can be overwritten. The gateway therefore reads the
quantities it is about to replace (`GET products?sku=...`, one call per 100 SKUs) and answers a SKU
that no longer shows what the publisher expects as a CONFLICT with the shop's value, as Shopify's
`compareQuantity` does, instead of overwriting it (`guard_writes`). What remains is the window
between that read and the write; reconciliation reads the shop back.

Webhook dedupe keys never use the delivery id alone (it is `hash(webhook id, second)`): the
connector's key adds resource id, `date_modified_gmt` and a body hash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from channelhub.connectors.woocommerce import ChannelOrder, WooCommerceConnector, ping_webhook_id
from channelhub.connectors.woocommerce import verify_webhook as verify_woo_webhook
from channelhub.connectors.woocommerce.client import MAX_PER_PAGE
from channelhub.connectors.woocommerce.mapping import order_from_payload
from channelhub.observability import get_logger
from channelhub.service.adapters.common import EPOCH, NamedChannelGateway, cursor_time, next_cursor
from channelhub.service.ports import (
    ChannelDelivery,
    ChannelLimits,
    ChannelOrderLine,
    ChannelOrderSnapshot,
    DeliveryKind,
    PaymentState,
    PublishResult,
    PublishStatus,
    QuantityUpdate,
)

_log = get_logger(__name__)
# Order statuses in which WooCommerce has reduced the products' stock (`wc_maybe_reduce_stock_levels`
# runs on payment, processing, completed and on-hold; a pending order holds none).
_REDUCES_STOCK = frozenset({"processing", "completed", "on-hold"})
# WooCommerce order status → payment. `on-hold` is "awaiting payment" (bank transfer, cheque).
_PAYMENT = {
    "processing": PaymentState.PAID,
    "completed": PaymentState.PAID,
    "refunded": PaymentState.REFUNDED,
}


def snapshot_of(channel: str, order: ChannelOrder) -> ChannelOrderSnapshot:
    placed = order.created_at or order.modified_at or EPOCH
    payment = _PAYMENT.get(order.status)
    if payment is None:
        payment = PaymentState.PAID if order.paid_at is not None else PaymentState.PENDING
    # A refunded order that never shipped was called off (as `connectors.woocommerce.canonical`).
    cancelled = order.status == "cancelled" or (order.status == "refunded" and order.completed_at is None)
    return ChannelOrderSnapshot(
        channel=channel,
        channel_order_id=str(order.order_id),
        name=order.number,
        currency=order.currency,
        placed_at=placed,
        updated_at=order.modified_at or placed,
        payment=payment,
        lines=tuple(
            ChannelOrderLine(str(line.line_id), line.sku or None, line.quantity, line.unit_price)
            for line in order.lines
        ),
        total=order.total,
        cancelled=cancelled,
        cancel_reason=f"{order.status} in WooCommerce" if cancelled else None,
        fulfilment_started=order.status == "completed" or order.completed_at is not None,
        channel_reduced_stock=order.status in _REDUCES_STOCK,
    )


class WooCommerceChannelGateway(NamedChannelGateway[WooCommerceConnector]):
    def __init__(
        self,
        name: str,
        connector: WooCommerceConnector,
        *,
        webhook_secret: str,
        calls_per_second: float | None = None,
        max_in_flight: int = 4,
        guard_writes: bool = True,
    ) -> None:
        super().__init__(name, connector)
        self._secret = webhook_secret
        self._calls_per_second = calls_per_second
        self._max_in_flight = max_in_flight
        self._guard_writes = guard_writes

    @property
    def kind(self) -> str:
        return "woocommerce"

    @property
    def limits(self) -> ChannelLimits:
        # The batch limit can shrink at run time (a shop answering 413 names a smaller one).
        return ChannelLimits(
            max_quantities_per_call=self.connector.batch_limit,
            calls_per_second=self._calls_per_second,
            max_in_flight=self._max_in_flight,
            compare_and_set=False,
        )

    async def set_available(self, updates: Sequence[QuantityUpdate]) -> list[PublishResult]:
        latest = {u.sku: u for u in updates}
        invalid = {sku for sku, u in latest.items() if u.quantity < 0}
        changed = await self._changed_behind_us(latest, invalid) if self._guard_writes else {}
        pushed = await self.connector.set_stock(
            {sku: u.quantity for sku, u in latest.items() if sku not in invalid and sku not in changed}
        )
        unknown = set(pushed.unknown_skus)
        results = []
        for sku in latest:
            if sku in invalid:
                results.append(PublishResult(sku, PublishStatus.FAILED, error="quantity is negative"))
            elif sku in changed:
                results.append(PublishResult(sku, PublishStatus.CONFLICT, channel_quantity=changed[sku]))
            elif sku in unknown:
                results.append(
                    PublishResult(sku, PublishStatus.UNKNOWN_SKU, error="no product with this SKU")
                )
            elif sku in pushed.applied:
                results.append(
                    PublishResult(sku, PublishStatus.APPLIED, channel_quantity=pushed.applied[sku].quantity)
                )
            else:
                error = pushed.failed.get(sku)
                results.append(
                    PublishResult(
                        sku,
                        PublishStatus.FAILED,
                        error=str(error) if error else "no answer for this SKU",
                        transient=bool(error and error.transient),
                    )
                )
        return results

    async def _changed_behind_us(
        self, latest: Mapping[str, QuantityUpdate], invalid: set[str]
    ) -> dict[str, int]:
        """SKUs whose quantity in the shop is not the one the publisher expects (a sale not
        ingested yet, stock put back by a cancellation, an edit in the admin), with the shop's
        value. Updates without an expectation (first publish, forced correction) are not read."""
        guarded = [sku for sku, u in latest.items() if u.expected_previous is not None and sku not in invalid]
        if not guarded:
            return {}
        # Known SKUs, one item each: a full page of them per call (a write of 100 reads once).
        current = await self.connector.index.fetch(guarded, per_call=MAX_PER_PAGE)
        changed = {}
        for sku in guarded:
            listing = current.get(sku)
            if listing is None or not listing.manage_stock or listing.quantity is None:
                continue  # unknown or not managed: the write below says so
            if listing.quantity != latest[sku].expected_previous:
                changed[sku] = listing.quantity
        return changed

    async def read_available(self, skus: Sequence[str] | None = None) -> dict[str, int]:
        listings = await self.connector.read_listings(list(skus) if skus is not None else None)
        return {
            sku: listing.quantity
            for sku, listing in listings.items()
            if listing.manage_stock and listing.quantity is not None
        }

    async def orders_since(self, cursor: str | None) -> tuple[list[ChannelOrderSnapshot], str | None]:
        page = await self.connector.orders_since(cursor_time(cursor))
        for order_id, reason in page.rejected.items():
            # Visible, never silent: the order id and the mapping error only (no personal data).
            _log.warning("backfill_order_rejected", channel=self._name, order_id=order_id, reason=reason)
        orders = [snapshot_of(self._name, order) for order in page.orders]
        return orders, next_cursor(page.next_cursor, cursor)

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> ChannelDelivery:
        ping = ping_webhook_id(raw_body, headers)
        if ping is not None:
            # WooCommerce's unsigned creation ping: answer 200, store nothing.
            return ChannelDelivery(self._name, f"woocommerce:ping:{ping}", "ping", DeliveryKind.PING, None)
        hook = verify_woo_webhook(raw_body, headers, self._secret)
        order = None
        kind = DeliveryKind.OTHER
        levels: dict[str, int] = {}
        if hook.resource == "order" and hook.resource_id is not None:
            order = snapshot_of(self._name, order_from_payload(hook.payload))
            kind = DeliveryKind.ORDER
        elif hook.resource == "product":
            sku, quantity = hook.payload.get("sku"), hook.payload.get("stock_quantity")
            if isinstance(sku, str) and sku and isinstance(quantity, int):
                levels[sku] = quantity
            kind = DeliveryKind.STOCK
        resource = (
            f"{self._name}:{hook.resource}:{hook.resource_id}" if hook.resource_id is not None else None
        )
        return ChannelDelivery(
            channel=self._name,
            dedupe_key=hook.dedupe_key,
            topic=hook.topic,
            kind=kind,
            occurred_at=hook.modified_at,
            resource_key=resource,
            order=order,
            stock_levels=levels,
        )

    async def aclose(self) -> None:
        await self.connector.client.aclose()
