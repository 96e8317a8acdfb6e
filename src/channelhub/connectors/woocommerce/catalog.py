"""SKU → (product id, variation id), cached: WooCommerce addresses items by id, channelhub by SKU.

A full read (`load`: products, then the variations of each variable product) fills the index for
reconciliation. A SKU that is not in the index is looked up with the `sku` filter of
`GET products`, which in wc/v3 searches products *and* variations and takes a comma-separated list
(`lookup_batch` SKUs per call). Many unknown SKUs at once (a cold start on a large catalog) are
found by reading the product list instead, 100 per page, when its size makes that cheaper: the
first page tells the size (`X-WP-Total`), and the SKUs it did not find (variations, products the
shop does not have) are looked up as above. A write that reports an id as invalid evicts that SKU,
so the next push looks it up again (the product was deleted or re-created behind our back).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from channelhub.clock import SYSTEM_CLOCK, Clock
from channelhub.connectors.woocommerce.client import MAX_PER_PAGE, WooCommerceClient
from channelhub.connectors.woocommerce.mapping import LISTING_FIELDS, ChannelListing, listing_from_payload

# WordPress's `_fields` global parameter: a listing needs a dozen of a product's fifty-odd fields
# (descriptions, images, attributes, links ...), so the shop renders and sends far less.
ONLY_LISTING = {"_fields": ",".join(LISTING_FIELDS)}


class SkuIndex:
    def __init__(
        self,
        client: WooCommerceClient,
        clock: Clock = SYSTEM_CLOCK,
        max_age_s: float = 300.0,
        concurrency: int = 4,
        lookup_batch: int = 50,
        scan_above: int = 500,
    ) -> None:
        self._client = client
        self._clock = clock
        self._max_age_s = max_age_s
        self._concurrency = concurrency
        self._lookup_batch = lookup_batch
        self._scan_above = scan_above  # unknown SKUs beyond which a product list read is considered
        self.listings: dict[str, ChannelListing] = {}
        self._loaded_at: float | None = None
        self._lock = asyncio.Lock()
        self.loads = 0
        self.scans = 0

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
        async for page in self._client.pages("products", ONLY_LISTING):
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
                async for page in self._client.pages(f"products/{parent_id}/variations", ONLY_LISTING):
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

    async def _lookup(self, skus: list[str]) -> None:
        """Find SKUs with `GET products?sku=a,b,c` (matches variations too)."""
        await self.fetch(skus)
        if any("," in sku for sku in skus) and self._stale():
            await self.load()  # a SKU with a comma cannot be looked up by the filter

    async def fetch(self, skus: list[str], per_call: int | None = None) -> dict[str, ChannelListing]:
        """The shop's current listings of `skus` (`GET products?sku=a,b,c`, which matches
        variations too), also kept in the index. A SKU with a comma cannot be filtered: absent.
        `per_call`: SKUs per request (default `lookup_batch`); a page holds 100 items and more
        pages are read when more match."""
        gate = asyncio.Semaphore(self._concurrency)
        plain = [sku for sku in dict.fromkeys(skus) if "," not in sku]
        size = per_call or self._lookup_batch
        chunks = [plain[i : i + size] for i in range(0, len(plain), size)]
        found: dict[str, ChannelListing] = {}

        async def look(chunk: list[str]) -> None:
            async with gate:
                async for page in self._client.pages("products", {"sku": ",".join(chunk), **ONLY_LISTING}):
                    for payload in page:
                        listing = listing_from_payload(payload)
                        if listing.sku in chunk and payload.get("type") != "variable":
                            self.listings[listing.sku] = listing
                            found[listing.sku] = listing

        await asyncio.gather(*(look(chunk) for chunk in chunks))
        return found

    def _lookup_calls(self, count: int) -> int:
        return -(-count // self._lookup_batch)

    async def _scan(self, missing: list[str]) -> list[str]:
        """Find many SKUs by reading the product list (`orderby=id`, ascending, so products created
        meanwhile land on later pages instead of shifting the ones still to read), when the
        first page shows that this takes fewer calls than looking them all up. Only products
        are listed (variations would cost a call per variable product): the SKUs still missing
        are returned for `_lookup`."""
        wanted = set(missing)
        params = {"orderby": "id", "order": "asc", "per_page": MAX_PER_PAGE, **ONLY_LISTING}

        def take(page: list[Any]) -> int:
            hits = 0
            for payload in page:
                if payload.get("type") != "variable" and payload.get("sku") in wanted:
                    listing = listing_from_payload(payload)
                    self.listings[listing.sku] = listing
                    hits += 1
            return hits

        first = await self._client.get("products", {**params, "page": 1})
        page_one = list(first.data or [])
        hits = take(page_one)
        left = len(wanted) - hits
        # Expected finds on the other pages, at the rate of the first one.
        expected = hits / len(page_one) * max(0, first.total - len(page_one)) if page_one else 0.0
        scan_calls = first.total_pages - 1 + self._lookup_calls(max(0, round(left - expected)))
        if first.total_pages > 1 and scan_calls < self._lookup_calls(left):
            self.scans += 1
            gate = asyncio.Semaphore(self._concurrency)

            async def read(number: int) -> None:
                async with gate:
                    response = await self._client.get("products", {**params, "page": number})
                    take(list(response.data or []))

            await asyncio.gather(*(read(n) for n in range(2, first.total_pages + 1)))
        return [sku for sku in missing if sku not in self.listings]

    async def resolve(self, skus: Iterable[str]) -> tuple[dict[str, ChannelListing], list[str]]:
        """(known listings, SKUs the shop does not have)."""
        wanted = list(dict.fromkeys(skus))
        async with self._lock:
            missing = [sku for sku in wanted if sku not in self.listings]
            if len(missing) > self._scan_above:
                missing = await self._scan(missing)
            if missing:
                await self._lookup(missing)
        found = {sku: self.listings[sku] for sku in wanted if sku in self.listings}
        return found, [sku for sku in wanted if sku not in found]
