"""`ShopifyConnector`: the operations the engine needs from one Shopify shop, in SKU terms."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from channelhub.clock import SYSTEM_CLOCK, Clock
from channelhub.connectors.shopify import inventory, orders, prices
from channelhub.connectors.shopify.catalog import SkuIndex, load_sku_index, load_sku_index_bulk
from channelhub.connectors.shopify.client import ShopifyGraphQLClient
from channelhub.connectors.shopify.config import ShopifyConfig
from channelhub.connectors.shopify.errors import (
    ShopifyNotFound,
    ShopifyUserError,
    UserError,
    raise_user_errors,
)
from channelhub.connectors.shopify.mapping import ShopifyOrder
from channelhub.connectors.shopify.queries import (
    ADJUST_QUANTITIES,
    ADJUST_QUANTITIES_IDEMPOTENT,
    SHOP_AND_LOCATIONS,
)
from channelhub.connectors.shopify.webhooks import WebhookDelivery, parse_delivery


class ShopifyConnector:
    """One shop. Build the SKU index once (`load_catalog`), then publish and read in SKU terms."""

    def __init__(
        self,
        config: ShopifyConfig,
        *,
        clock: Clock = SYSTEM_CLOCK,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.client = ShopifyGraphQLClient(config, clock=clock, transport=transport, rng=rng)
        self._location_id = config.location_id
        self._index: SkuIndex | None = None

    async def __aenter__(self) -> ShopifyConnector:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.client.aclose()

    # -- catalog ----------------------------------------------------------------------------------

    async def location_id(self) -> str:
        """The configured location, else the shop's first active one (looked up once)."""
        if self._location_id is None:
            result = await self.client.execute(SHOP_AND_LOCATIONS, operation="shop")
            active = [n for n in (result.data.get("locations") or {}).get("nodes") or [] if n.get("isActive")]
            if not active:
                raise ShopifyNotFound("the shop has no active location", operation="shop")
            self._location_id = str(active[0]["id"])
        return self._location_id

    async def load_catalog(self, query: str | None = None, *, bulk: bool = False) -> SkuIndex:
        """(Re)build the SKU → ids map: paged `productVariants` reads (planned from the bucket), or
        one bulk operation (`bulk=True`, whole catalog only) for large catalogs."""
        location = await self.location_id()
        if bulk:
            if query is not None:
                raise ValueError("a bulk catalog read covers the whole catalog; query is not supported")
            self._index = await load_sku_index_bulk(self.client, location)
        else:
            self._index = await load_sku_index(self.client, location, query=query)
        return self._index

    async def catalog(self) -> SkuIndex:
        return self._index if self._index is not None else await self.load_catalog()

    # -- inventory and prices ---------------------------------------------------------------------

    async def set_available(
        self,
        updates: Sequence[inventory.QuantityUpdate],
        *,
        reason: str = "correction",
        reference_document_uri: str | None = None,
        force: bool = False,
        lower_on_conflict: bool = False,
    ) -> list[inventory.QuantityResult]:
        return await inventory.set_available(
            self.client,
            await self.catalog(),
            list(updates),
            reason=reason,
            reference_document_uri=reference_document_uri,
            force=force,
            lower_on_conflict=lower_on_conflict,
        )

    async def adjust_available(
        self, deltas: Mapping[str, int], *, reason: str = "correction", idempotency_key: str | None = None
    ) -> None:
        """Add deltas to `available` (for movements, not snapshots). From 2026-04 Shopify requires
        an idempotency key; reuse the same key when resending the same adjustment."""
        index = await self.catalog()
        unknown = [sku for sku in deltas if index.get(sku) is None]
        if unknown:
            raise ShopifyUserError("adjust_quantities", [UserError(f"unknown SKU(s): {', '.join(unknown)}")])
        profile = self.client.profile
        changes = [
            profile.change_entry(ref.inventory_item_id, index.location_id, delta)
            for sku, delta in deltas.items()
            if (ref := index.get(sku)) is not None and delta
        ]
        variables: dict[str, Any] = {"input": {"name": "available", "reason": reason, "changes": changes}}
        document = ADJUST_QUANTITIES
        if self.client.profile.requires_idempotency_key:
            document = ADJUST_QUANTITIES_IDEMPOTENT
            variables["idempotencyKey"] = idempotency_key or str(uuid.uuid4())
        result = await self.client.execute(
            document,
            variables,
            operation="adjust_quantities",
            items=len(changes),
            idempotent=document != ADJUST_QUANTITIES,
        )
        raise_user_errors("adjust_quantities", result.data.get("inventoryAdjustQuantities"))

    async def set_prices(self, updates: Sequence[prices.PriceUpdate]) -> list[prices.PriceResult]:
        return await prices.set_prices(self.client, await self.catalog(), list(updates))

    async def read_back(self, query: str | None = None) -> dict[str, prices.ListingSnapshot]:
        """Quantities and prices as Shopify shows them now (for reconciliation)."""
        return await prices.read_back(self.client, await self.location_id(), query=query)

    # -- orders -----------------------------------------------------------------------------------

    def orders_updated_since(self, since: datetime) -> AsyncIterator[ShopifyOrder]:
        return orders.orders_updated_since(self.client, since)

    async def get_order(self, order_id: str | int) -> ShopifyOrder:
        return await orders.get_order(self.client, order_id)

    async def create_fulfillment(
        self,
        order_id: str | int,
        lines: Sequence[orders.ShipmentLine] | None = None,
        tracking: orders.Tracking | None = None,
        *,
        notify_customer: bool = False,
    ) -> orders.FulfillmentResult:
        return await orders.create_fulfillment(
            self.client, order_id, lines, tracking, notify_customer=notify_customer
        )

    async def cancel_order(self, order_id: str | int, **options: Any) -> str | None:
        return await orders.cancel_order(self.client, order_id, **options)

    async def create_refund(self, order_id: str | int, **options: Any) -> orders.RefundResult:
        return await orders.create_refund(self.client, order_id, **options)

    # -- webhooks ---------------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> WebhookDelivery:
        """Verify (HMAC over the raw body) and parse; raises `WebhookVerificationError`."""
        return parse_delivery(headers, raw_body, self.config.api_secret or "")
