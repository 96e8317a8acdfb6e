"""The SKU index: SKU → (variant, product, inventory item, `available` at the publishing location).

Shopify addresses inventory by inventory item and location, prices by variant and product; the
engine speaks SKUs. The index is built with paged `productVariants` reads whose page size is
planned from the cost bucket (Shopify's single-query maximum of 1,000 points caps a page of this
query at ~199 variants), and is kept current by the operations that change quantities and prices.

A SKU carried by two variants is ambiguous: it is listed in `duplicates` and never published to,
because writing to "one of them" would be a silent guess.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from channelhub.connectors.shopify.client import ShopifyGraphQLClient
from channelhub.connectors.shopify.errors import ShopifyUnavailable, raise_user_errors
from channelhub.connectors.shopify.queries import (
    BULK_CURRENT,
    BULK_RUN_QUERY,
    CATALOG_PAGE,
    bulk_catalog_query,
)


@dataclass(frozen=True)
class VariantRef:
    """Where one SKU lives in the shop, and what we last knew of it there."""

    sku: str
    variant_id: str
    product_id: str
    inventory_item_id: str
    tracked: bool
    price: Decimal | None
    compare_at_price: Decimal | None
    available: int | None  # at the index's location; None: not stocked there


@dataclass
class SkuIndex:
    location_id: str
    by_sku: dict[str, VariantRef] = field(default_factory=dict)
    duplicates: dict[str, list[str]] = field(default_factory=dict)  # SKU → variant ids
    without_sku: int = 0

    def get(self, sku: str) -> VariantRef | None:
        return self.by_sku.get(sku)

    def __len__(self) -> int:
        return len(self.by_sku)

    def add(self, ref: VariantRef) -> None:
        if ref.sku in self.duplicates:
            self.duplicates[ref.sku].append(ref.variant_id)
            return
        existing = self.by_sku.get(ref.sku)
        if existing is not None and existing.variant_id != ref.variant_id:
            del self.by_sku[ref.sku]
            self.duplicates[ref.sku] = [existing.variant_id, ref.variant_id]
            return
        self.by_sku[ref.sku] = ref

    def add_read(self, ref: VariantRef | None) -> None:
        """A variant as read from Shopify: indexed, or only counted when it has no SKU."""
        if ref is None:
            self.without_sku += 1
        else:
            self.add(ref)

    def remember_available(self, sku: str, available: int) -> None:
        ref = self.by_sku.get(sku)
        if ref is not None:
            self.by_sku[sku] = replace(ref, available=available)

    def remember_price(self, sku: str, price: Decimal | None, compare_at_price: Decimal | None) -> None:
        ref = self.by_sku.get(sku)
        if ref is not None:
            self.by_sku[sku] = replace(ref, price=price, compare_at_price=compare_at_price)


def decimal_or_none(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def available_of(level: Mapping[str, Any] | None) -> int | None:
    """The `available` quantity out of an `inventoryLevel { quantities(...) }` selection."""
    if not isinstance(level, Mapping):
        return None
    for quantity in level.get("quantities") or []:
        if quantity.get("name") == "available" and isinstance(quantity.get("quantity"), int):
            return int(quantity["quantity"])
    return None


def variant_ref(node: Mapping[str, Any]) -> VariantRef | None:
    """One `productVariants` node as a `VariantRef`; None for variants without a SKU."""
    sku = (node.get("sku") or "").strip()
    item = node.get("inventoryItem") or {}
    if not sku or not node.get("id") or not item.get("id"):
        return None
    return VariantRef(
        sku=sku,
        variant_id=str(node["id"]),
        product_id=str((node.get("product") or {}).get("id") or ""),
        inventory_item_id=str(item["id"]),
        tracked=bool(item.get("tracked", True)),
        price=decimal_or_none(node.get("price")),
        compare_at_price=decimal_or_none(node.get("compareAtPrice")),
        available=available_of(item.get("inventoryLevel")),
    )


def sku_search_query(skus: Iterable[str]) -> str:
    """A `productVariants(query:)` filter matching any of `skus` (quoted: SKUs may hold `-`/`:`)."""
    return " OR ".join(f'sku:"{sku}"' for sku in skus)


async def load_sku_index(
    client: ShopifyGraphQLClient, location_id: str, *, query: str | None = None
) -> SkuIndex:
    """Read every variant (or those matching `query`) into a fresh index."""
    index = SkuIndex(location_id=location_id)
    async for nodes in client.paginate(
        CATALOG_PAGE,
        {"locationId": location_id, "query": query},
        operation="catalog_page",
        connection=lambda data: data.get("productVariants"),
    ):
        for node in nodes:
            index.add_read(variant_ref(node))
    return index


async def load_sku_index_bulk(
    client: ShopifyGraphQLClient,
    location_id: str,
    *,
    poll_interval_s: float = 1.0,
    max_wait_s: float = 3600.0,
) -> SkuIndex:
    """Read the whole catalog with one bulk query: a 10-point mutation and a few polls instead of
    ~5 points per variant of paged reads, the better choice for large catalogs. The JSONL result
    holds one line per variant (its inventory level is a plain object, so it stays inline)."""
    started = await client.execute(
        BULK_RUN_QUERY, {"query": bulk_catalog_query(location_id)}, operation="bulk_run"
    )
    raise_user_errors("bulk_run", started.data.get("bulkOperationRunQuery"))
    waited = 0.0
    while True:
        polled = await client.execute(BULK_CURRENT, operation="bulk_poll")
        current = polled.data.get("currentBulkOperation") or {}
        status = current.get("status")
        if status == "COMPLETED":
            break
        if status in ("FAILED", "CANCELED", "EXPIRED") or waited >= max_wait_s:
            raise ShopifyUnavailable(
                f"bulk catalog read ended {status or 'unknown'} ({current.get('errorCode')})",
                operation="bulk_poll",
                details=current,
            )
        await client.clock.sleep(poll_interval_s)
        waited += poll_interval_s
    index = SkuIndex(location_id=location_id)
    if not current.get("url"):  # an empty shop has no result file
        return index
    for line in (await client.download(str(current["url"]), operation="bulk_download")).splitlines():
        if not line.strip():
            continue
        node = json.loads(line)
        index.add_read(variant_ref(node) if isinstance(node, dict) and "__parentId" not in node else None)
    return index
