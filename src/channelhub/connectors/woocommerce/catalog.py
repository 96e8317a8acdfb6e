"""SKU → (product id, variation id), cached: WooCommerce addresses items by id, channelhub by SKU.

The index is built from a full read (products, then the variations of variable products) and
reloaded when a SKU is missing and the index is older than `max_age_s`, or when a write reports
an id as invalid (the product was deleted or re-created behind our back).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from channelhub.clock import SYSTEM_CLOCK, Clock
from channelhub.connectors.woocommerce.client import WooCommerceClient
from channelhub.connectors.woocommerce.mapping import ChannelListing, listing_from_payload


class SkuIndex:
    def __init__(
        self,
        client: WooCommerceClient,
        clock: Clock = SYSTEM_CLOCK,
        max_age_s: float = 300.0,
        concurrency: int = 4,
    ) -> None:
        self._client = client
        self._clock = clock
        self._max_age_s = max_age_s
        self._concurrency = concurrency
        self.listings: dict[str, ChannelListing] = {}
        self._loaded_at: float | None = None
        self._lock = asyncio.Lock()
        self.loads = 0

    def adopt(self, listings: dict[str, ChannelListing]) -> None:
        """Start from a known id map (e.g. persisted by the engine) instead of a full read."""
        self.listings = dict(listings)
        self._loaded_at = self._clock.monotonic()

    def forget(self, sku: str) -> None:
        self.listings.pop(sku, None)
        self._loaded_at = None  # the next miss reloads

    async def load(self) -> dict[str, ChannelListing]:
        """Read the whole catalog (paged) and rebuild the index; returns every listing by SKU."""
        listings: dict[str, ChannelListing] = {}
        variable_ids: list[int] = []
        async for page in self._client.pages("products"):
            for product in page:
                if product.get("type") == "variable":
                    variable_ids.append(int(product["id"]))
                elif product.get("sku"):
                    listing = listing_from_payload(product)
                    listings[listing.sku] = listing
        gate = asyncio.Semaphore(self._concurrency)

        async def variations_of(parent_id: int) -> list[ChannelListing]:
            async with gate:
                found: list[ChannelListing] = []
                async for page in self._client.pages(f"products/{parent_id}/variations"):
                    found.extend(
                        listing_from_payload({**v, "parent_id": parent_id}) for v in page if v.get("sku")
                    )
                return found

        for group in await asyncio.gather(*(variations_of(pid) for pid in variable_ids)):
            listings.update((listing.sku, listing) for listing in group)
        self.listings = listings
        self._loaded_at = self._clock.monotonic()
        self.loads += 1
        return listings

    def _stale(self) -> bool:
        return self._loaded_at is None or self._clock.monotonic() - self._loaded_at > self._max_age_s

    async def resolve(self, skus: Iterable[str]) -> tuple[dict[str, ChannelListing], list[str]]:
        """(known listings, SKUs the shop does not have)."""
        wanted = list(dict.fromkeys(skus))
        async with self._lock:
            if any(sku not in self.listings for sku in wanted) and self._stale():
                await self.load()
        found = {sku: self.listings[sku] for sku in wanted if sku in self.listings}
        return found, [sku for sku in wanted if sku not in found]
