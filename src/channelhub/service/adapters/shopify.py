"""`ChannelGateway` over `ShopifyConnector` (one shop location).

Publishing uses the connector's compare-and-set (`compareQuantity` on 2025-10,
`changeFromQuantity` on 2026-10): `expected_previous` is sent as the compare value; when it is
None the value last read into the connector's SKU index is used instead, so even a first publish
does not blindly overwrite a storefront sale. Order webhooks (REST shape) and backfill reads
(GraphQL shape) both become the same `ChannelOrderSnapshot`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from channelhub.connectors.shopify import (
    Outcome,
    QuantityResult,
    ShopifyConnector,
    ShopifyOrder,
)
from channelhub.connectors.shopify import QuantityUpdate as ShopifyQuantityUpdate
from channelhub.connectors.shopify.client import INITIAL_BUCKET_CAPACITY, INITIAL_RESTORE_RATE
from channelhub.connectors.shopify.cost import MAX_INPUT_ARRAY
from channelhub.connectors.shopify.inventory import read_available as read_levels
from channelhub.connectors.shopify.mapping import order_from_rest
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

SET_QUANTITIES_OPERATION = "set_quantities"  # the connector's name for the publishing mutation
UNKNOWN_SKU_CODES = frozenset({"UNKNOWN_SKU", "AMBIGUOUS_SKU", "ITEM_NOT_STOCKED_AT_LOCATION"})
_PAYMENT = {
    "paid": PaymentState.PAID,
    "partially_refunded": PaymentState.REFUNDED,
    "refunded": PaymentState.REFUNDED,
    "authorized": PaymentState.AUTHORIZED,
    "partially_paid": PaymentState.AUTHORIZED,
    "voided": PaymentState.VOIDED,
}


def snapshot_of(channel: str, order: ShopifyOrder) -> ChannelOrderSnapshot:
    """The channel-neutral snapshot of a Shopify order (webhook or GraphQL shape)."""
    return ChannelOrderSnapshot(
        channel=channel,
        channel_order_id=order.order_id,
        name=order.name,
        currency=order.currency,
        placed_at=order.created_at,
        updated_at=order.updated_at,
        payment=_PAYMENT.get(order.financial_status, PaymentState.PENDING),
        lines=tuple(
            ChannelOrderLine(line.line_id, line.sku, line.quantity, line.unit_price) for line in order.lines
        ),
        total=order.total,
        cancelled=order.cancelled_at is not None,
        cancel_reason=order.cancel_reason,
        fulfilment_started=bool(order.fulfillments)
        or (order.fulfillment_status or "").lower() in ("fulfilled", "partial", "partially_fulfilled"),
        # Shopify commits inventory when it creates the order (tracked items).
        channel_reduced_stock=True,
    )


def _result(result: QuantityResult) -> PublishResult:
    if result.outcome is Outcome.APPLIED:
        return PublishResult(result.sku, PublishStatus.APPLIED, channel_quantity=result.quantity)
    if result.outcome is Outcome.CONFLICT:
        return PublishResult(
            result.sku, PublishStatus.CONFLICT, channel_quantity=result.current, error=result.message
        )
    status = PublishStatus.UNKNOWN_SKU if result.code in UNKNOWN_SKU_CODES else PublishStatus.FAILED
    return PublishResult(result.sku, status, error=f"{result.code}: {result.message}")


class ShopifyChannelGateway(NamedChannelGateway[ShopifyConnector]):
    def __init__(
        self,
        name: str,
        connector: ShopifyConnector,
        *,
        bucket: float = 1000.0,
        restore_per_second: float = 50.0,
    ) -> None:
        """`bucket`/`restore_per_second`: the plan's cost limits as configured (basic/standard
        2,000 and 100/s; Plus 20,000 and 1,000/s). They are only the starting figures: `limits`
        follows the connector's bucket, which resyncs from every answer's `throttleStatus`."""
        super().__init__(name, connector)
        self._bucket = bucket
        self._restore_per_second = restore_per_second

    @property
    def limits(self) -> ChannelLimits:
        """Planning figures from the real cost bucket and the real cost of the calls sent so far.

        The connector paces every call against the server's bucket itself (it waits exactly as
        long as needed and never surfaces THROTTLED), so no calls-per-second cap is imposed here
        beyond what the bucket sustains: `restore rate / observed requested cost of one
        set-quantities call` (a ~31-point call on 100 points/s is ~3 calls/s, not the 1/s a
        guessed 100-point call would give), and none before a call has been observed."""
        client = self.connector.client
        live = client.bucket
        observed = client.costs.operations.get(SET_QUANTITIES_OPERATION)
        seen_bucket = live.capacity != INITIAL_BUCKET_CAPACITY or live.rate != INITIAL_RESTORE_RATE
        capacity = live.capacity if seen_bucket else self._bucket
        restore = live.rate if seen_bucket else self._restore_per_second
        calls_per_second: float | None = None
        per_quantity: float | None = None
        if observed is not None and observed.observations:
            costs = [requested for requested, _ in observed.observations.values()]
            per_call = sum(costs) / len(costs)
            calls_per_second = restore / per_call if per_call > 0 else None
            if len(observed.observations) > 1:
                per_quantity = observed.line()[1]
        return ChannelLimits(
            max_quantities_per_call=MAX_INPUT_ARRAY,
            calls_per_second=calls_per_second,
            max_in_flight=2,
            compare_and_set=True,
            cost_bucket=capacity,
            cost_restore_per_second=restore,
            cost_per_quantity=per_quantity,
        )

    @property
    def kind(self) -> str:
        return "shopify"

    async def set_available(self, updates: Sequence[QuantityUpdate]) -> list[PublishResult]:
        if not updates:
            return []
        # A quantity refused because a storefront sale changed it is sent again at once when it
        # lowers Shopify further (the publisher's rule: lowering is always allowed); a raise comes
        # back as a conflict, for the publisher to hold until the sale is ingested.
        results = await self.connector.set_available(
            [ShopifyQuantityUpdate(u.sku, u.quantity, expected=u.expected_previous) for u in updates],
            lower_on_conflict=True,
        )
        return [_result(result) for result in results]

    async def read_available(self, skus: Sequence[str] | None = None) -> dict[str, int]:
        if skus is None:
            # One bulk operation reads the whole catalog with `available` at our location: seconds
            # for 10k SKUs, where paged reads cost minutes of bucket time on the basic plan.
            index = await self.connector.load_catalog(bulk=True)
            return {sku: ref.available for sku, ref in index.by_sku.items() if ref.available is not None}
        index = await self.connector.catalog()
        refs = {ref.inventory_item_id: sku for sku in skus if (ref := index.get(sku)) is not None}
        levels = await read_levels(self.connector.client, index.location_id, list(refs))
        found = {refs[item]: level for item, level in levels.items() if level is not None and item in refs}
        for sku, level in found.items():
            index.remember_available(sku, level)
        return found

    async def orders_since(self, cursor: str | None) -> tuple[list[ChannelOrderSnapshot], str | None]:
        since = cursor_time(cursor) or EPOCH
        orders = [
            snapshot_of(self._name, order) async for order in self.connector.orders_updated_since(since)
        ]
        newest = max((o.updated_at for o in orders), default=None)
        return orders, next_cursor(newest, cursor)

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> ChannelDelivery:
        delivery = self.connector.verify_webhook(headers, raw_body)
        family = delivery.topic.split("/", 1)[0]
        order = None
        kind = DeliveryKind.OTHER
        if family == "orders":
            order = snapshot_of(self._name, order_from_rest(delivery.payload))
            kind = DeliveryKind.ORDER
        elif family == "inventory_levels":
            kind = DeliveryKind.STOCK
        return ChannelDelivery(
            channel=self._name,
            dedupe_key=delivery.dedupe_key,
            topic=delivery.topic,
            kind=kind,
            occurred_at=delivery.resource_version,
            resource_key=delivery.resource_key,
            order=order,
            event_key=delivery.event_key,
        )

    async def aclose(self) -> None:
        await self.connector.aclose()
