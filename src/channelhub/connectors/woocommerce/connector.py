"""What the engine asks of a WooCommerce shop: push stock and prices, read them back, list orders
since a cursor, fulfil, cancel, refund.

Writes go through the batch endpoints in as few calls as the limit allows: simple products share
`products/batch`, variations are grouped per parent into `products/<id>/variations/batch` (or, opted
in, ride along in `products/batch`), at most `batch_limit` items per call (100 by default; when a shop answers 413 with a smaller limit the
connector adopts it and splits again). Each item succeeds or fails on its own.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from channelhub.connectors.errors import ConnectorError, NotFoundError, ValidationFailed
from channelhub.connectors.woocommerce.catalog import SkuIndex
from channelhub.connectors.woocommerce.client import MAX_PER_PAGE, WooCommerceClient
from channelhub.connectors.woocommerce.errors import item_error
from channelhub.connectors.woocommerce.mapping import (
    ChannelListing,
    ChannelOrder,
    ChannelRefund,
    PriceChange,
    Tracking,
    listing_from_payload,
    money_string,
    order_from_payload,
    to_gmt_param,
    tracking_note,
)

DEFAULT_BATCH_LIMIT = 100
CURSOR_OVERLAP = timedelta(seconds=1)  # WooCommerce dates have second resolution and `after` is exclusive


@dataclass
class PushResult:
    """Outcome of a stock or price push, per SKU."""

    applied: dict[str, ChannelListing] = field(default_factory=dict)
    failed: dict[str, ConnectorError] = field(default_factory=dict)
    unknown_skus: list[str] = field(default_factory=list)
    calls: int = 0


@dataclass(frozen=True)
class OrderPage:
    orders: list[ChannelOrder]
    next_cursor: datetime | None
    # Orders the shop returned in a shape we cannot map (order id or "?" → the precise reason):
    # one malformed order (an empty draft, a plugin's odd payload) must not hide the rest of the page.
    rejected: dict[str, str] = field(default_factory=dict)


class WooCommerceConnector:
    def __init__(
        self,
        client: WooCommerceClient,
        *,
        batch_limit: int = DEFAULT_BATCH_LIMIT,
        max_in_flight: int = 4,
        index: SkuIndex | None = None,
        variations_in_products_batch: bool = False,
    ) -> None:
        self.client = client
        self.batch_limit = batch_limit
        # WooCommerce resolves `products/<id>` with wc_get_product(), which returns variations too,
        # so `products/batch` can carry variations of many parents in one call (~20x fewer calls on
        # a catalog of small variable products). Off by default: the documented route for
        # variations is `products/<parent>/variations/batch`; turn it on after checking your shop.
        self.variations_in_products_batch = variations_in_products_batch
        self.index = index or SkuIndex(client)
        self._gate = asyncio.Semaphore(max_in_flight)

    # -- stock and prices ----------------------------------------------------------------------

    async def set_stock(self, quantities: Mapping[str, int]) -> PushResult:
        """Set absolute stock quantities (and turn on stock management) for many SKUs."""
        return await self._push(
            {sku: {"manage_stock": True, "stock_quantity": int(q)} for sku, q in quantities.items()}
        )

    async def adjust_stock(self, deltas: Mapping[str, int]) -> PushResult:
        """Change stock by relative amounts (`inventory_delta`): a sale the shop took while the
        engine was computing is kept instead of overwritten — the safe write when the engine only
        knows the difference between what it wants and what it last saw acknowledged.

        A delta is not idempotent: it is retried only when the shop certainly did not apply it
        (429, connection refused, maintenance page); otherwise the SKUs fail with an error whose
        `details["ambiguous"]` is True and the caller must read the quantity back first."""
        changes = {sku: {"manage_stock": True, "inventory_delta": int(d)} for sku, d in deltas.items() if d}
        return await self._push(changes)

    async def set_prices(self, prices: Mapping[str, PriceChange]) -> PushResult:
        changes = {
            sku: {
                "regular_price": money_string(change.regular_price),
                "sale_price": money_string(change.sale_price) if change.sale_price is not None else "",
            }
            for sku, change in prices.items()
        }
        return await self._push(changes)

    async def read_listings(self, skus: list[str] | None = None) -> dict[str, ChannelListing]:
        """Quantities and prices as the shop shows them (full paged read; refreshes the id map)."""
        listings = await self.index.load()
        return listings if skus is None else {s: listings[s] for s in skus if s in listings}

    async def _push(self, changes: Mapping[str, dict[str, Any]]) -> PushResult:
        result = PushResult()
        known, result.unknown_skus = await self.index.resolve(changes)
        groups: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for sku, listing in known.items():
            per_parent = listing.ref.variation_id and not self.variations_in_products_batch
            endpoint = (
                f"products/{listing.ref.product_id}/variations/batch" if per_parent else "products/batch"
            )
            groups.setdefault(endpoint, []).append((sku, {"id": listing.ref.item_id, **changes[sku]}))
        await asyncio.gather(
            *(self._push_group(endpoint, items, result) for endpoint, items in groups.items())
        )
        return result

    async def _push_group(
        self, endpoint: str, items: list[tuple[str, dict[str, Any]]], result: PushResult
    ) -> None:
        chunks = [items[i : i + self.batch_limit] for i in range(0, len(items), self.batch_limit)]
        await asyncio.gather(*(self._push_chunk(endpoint, chunk, result) for chunk in chunks))

    async def _push_chunk(
        self, endpoint: str, chunk: list[tuple[str, dict[str, Any]]], result: PushResult
    ) -> None:
        async with self._gate:
            try:
                result.calls += 1
                idempotent = all("inventory_delta" not in item for _, item in chunk)
                response = await self.client.post(
                    endpoint, {"update": [item for _, item in chunk]}, idempotent=idempotent
                )
            except ValidationFailed as error:
                smaller = _adopted_limit(error)
                if smaller is None or smaller >= len(chunk):
                    for sku, _ in chunk:
                        result.failed[sku] = error
                    return
                self.batch_limit = smaller
            except ConnectorError as error:
                for sku, _ in chunk:
                    result.failed[sku] = error
                return
            else:
                self._record(endpoint, chunk, response.data, result)
                return
        await self._push_group(endpoint, chunk, result)  # re-split outside the gate

    def _record(
        self, endpoint: str, chunk: list[tuple[str, dict[str, Any]]], data: Any, result: PushResult
    ) -> None:
        answers = (data or {}).get("update") or [] if isinstance(data, dict) else []
        by_id = {int(a.get("id") or 0): a for a in answers if isinstance(a, dict)}
        for sku, item in chunk:
            answer = by_id.get(int(item["id"]))
            if answer is None:
                result.failed[sku] = ValidationFailed(
                    "missing from the batch answer", system="woocommerce", operation=f"POST {endpoint}"
                )
            elif "error" in answer:
                error = item_error(answer["error"], f"POST {endpoint}")
                result.failed[sku] = error
                if isinstance(error, NotFoundError):
                    self.index.forget(sku)
            else:
                listing = listing_from_payload(answer)
                result.applied[sku] = listing
                self.index.listings[sku] = listing

    # -- orders --------------------------------------------------------------------------------

    async def orders_since(self, cursor: datetime | None, status: list[str] | None = None) -> OrderPage:
        """Orders modified after `cursor` (webhook backfill), oldest change first.

        Keyset paging on `modified_after` (always page 1) so orders changing while we read cannot
        shift unread ones out of view. The window starts one second before the cursor: callers see
        orders modified in the cursor's second again and must dedupe on `ChannelOrder.version_key`.
        """
        seen: dict[tuple[int, datetime | None], ChannelOrder] = {}
        rejected: dict[str, str] = {}
        after = cursor - CURSOR_OVERLAP if cursor is not None else None
        page = 1
        while True:
            params: dict[str, Any] = {
                "orderby": "modified",
                "order": "asc",
                "per_page": MAX_PER_PAGE,
                "page": page,
                "dates_are_gmt": True,
            }
            if after is not None:
                params["modified_after"] = to_gmt_param(after)
            if status:
                params["status"] = status
            response = await self.client.get("orders", params)
            payloads = response.data or []
            batch: list[ChannelOrder] = []
            for payload in payloads:
                try:
                    batch.append(order_from_payload(payload))
                except ValidationFailed as error:
                    order_id = payload.get("id") if isinstance(payload, dict) else None
                    rejected[str(order_id) if order_id is not None else "?"] = str(error)
            fresh = [o for o in batch if o.version_key not in seen]
            seen.update((o.version_key, o) for o in batch)
            if len(payloads) < MAX_PER_PAGE:
                break
            newest = max((o.modified_at for o in batch if o.modified_at), default=None)
            if fresh and newest is not None and (after is None or newest - CURSOR_OVERLAP > after):
                after, page = newest - CURSOR_OVERLAP, 1
            else:
                page += 1  # a full page inside one second: step through it by offset
        orders = sorted(seen.values(), key=lambda o: (o.modified_at or datetime.min, o.order_id))
        newest_seen = max((o.modified_at for o in orders if o.modified_at), default=cursor)
        return OrderPage(orders, newest_seen, rejected)

    async def get_order(self, order_id: int) -> ChannelOrder:
        return order_from_payload((await self.client.get(f"orders/{order_id}")).data)

    async def fulfil(self, order_id: int, tracking: Tracking, *, partial: bool = False) -> ChannelOrder:
        """Record the shipment as a customer note; a complete shipment also completes the order.

        WooCommerce core has no partial fulfilments: a partial shipment is a note only."""
        await self.client.post(
            f"orders/{order_id}/notes", {"note": tracking_note(tracking, partial), "customer_note": True}
        )
        if partial:
            return await self.get_order(order_id)
        return await self._set_status(order_id, "completed")

    async def cancel(self, order_id: int) -> ChannelOrder:
        """Cancel; WooCommerce puts reduced stock back itself."""
        return await self._set_status(order_id, "cancelled")

    async def _set_status(self, order_id: int, status: str) -> ChannelOrder:
        return order_from_payload((await self.client.put(f"orders/{order_id}", {"status": status})).data)

    # -- webhooks ------------------------------------------------------------------------------

    async def ensure_webhook(self, topic: str, delivery_url: str, secret: str) -> WebhookSubscription:
        """Subscribe once, and bring a subscription back to life: WooCommerce silently disables a
        webhook after more than five failed deliveries and never retries, so the engine calls this
        periodically (and backfills with `orders_since` for the gap)."""
        async for page in self.client.pages("webhooks"):
            for hook in page:
                if hook.get("topic") == topic and hook.get("delivery_url") == delivery_url:
                    if hook.get("status") != "active":
                        hook = (
                            await self.client.put(
                                f"webhooks/{hook['id']}", {"status": "active", "secret": secret}
                            )
                        ).data
                    return WebhookSubscription(int(hook["id"]), topic, delivery_url, str(hook["status"]))
        created = (
            await self.client.post(
                "webhooks",
                {
                    "name": f"channelhub {topic}",
                    "topic": topic,
                    "delivery_url": delivery_url,
                    "secret": secret,
                },
            )
        ).data
        return WebhookSubscription(int(created["id"]), topic, delivery_url, str(created["status"]))

    async def refund(
        self, order_id: int, amount: Decimal, reason: str, idempotency_key: str
    ) -> ChannelRefund:
        """Create a refund record (no payment gateway call) at most once per `idempotency_key`."""
        marker = f"[channelhub:{idempotency_key}]"
        existing = (await self.client.get(f"orders/{order_id}/refunds")).data or []
        for refund in existing:
            if marker in str(refund.get("reason") or ""):
                return ChannelRefund(int(refund["id"]), Decimal(str(refund["amount"])), str(refund["reason"]))
        body = {"amount": money_string(amount), "reason": f"{reason} {marker}".strip(), "api_refund": False}
        created = (await self.client.post(f"orders/{order_id}/refunds", body)).data
        return ChannelRefund(int(created["id"]), Decimal(str(created["amount"])), str(created["reason"]))


@dataclass(frozen=True)
class WebhookSubscription:
    webhook_id: int
    topic: str
    delivery_url: str
    status: str


def _adopted_limit(error: ValidationFailed) -> int | None:
    """The limit a 413 `woocommerce_rest_request_entity_too_large` names ("more than N items")."""
    if (error.details or {}).get("code") != "woocommerce_rest_request_entity_too_large":
        return None
    found = re.search(r"more than (\d+)", error.message)
    return int(found.group(1)) if found and int(found.group(1)) > 0 else None
