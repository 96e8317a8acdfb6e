"""Publishing prices (`productVariantsBulkUpdate`, one call per product) and reading them back.

Shopify takes variant prices per product: one call carries every variant of one product (≤ 250
per input array). `allowPartialUpdates: true` keeps one bad variant from blocking its siblings;
each user error names the variant's position, so results are per SKU.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from channelhub.connectors.shopify.catalog import SkuIndex, decimal_or_none, load_sku_index
from channelhub.connectors.shopify.client import ShopifyGraphQLClient
from channelhub.connectors.shopify.cost import MAX_INPUT_ARRAY
from channelhub.connectors.shopify.errors import UserError
from channelhub.connectors.shopify.inventory import Outcome
from channelhub.connectors.shopify.queries import SET_PRICES


@dataclass(frozen=True)
class PriceUpdate:
    sku: str
    price: Decimal
    compare_at_price: Decimal | None = None  # None clears the "was" price


@dataclass(frozen=True)
class PriceResult:
    sku: str
    outcome: Outcome
    price: Decimal | None = None
    compare_at_price: Decimal | None = None
    code: str | None = None
    message: str = ""


def money_text(amount: Decimal) -> str:
    """Shopify's `Money` input: a decimal string (never a float)."""
    return format(amount.quantize(Decimal("0.01")), "f")


async def set_prices(
    client: ShopifyGraphQLClient, index: SkuIndex, updates: list[PriceUpdate]
) -> list[PriceResult]:
    results: dict[str, PriceResult] = {}
    by_product: dict[str, list[tuple[PriceUpdate, str]]] = defaultdict(list)
    for update in {u.sku: u for u in updates}.values():
        ref = index.get(update.sku)
        if ref is None:
            code = "AMBIGUOUS_SKU" if update.sku in index.duplicates else "UNKNOWN_SKU"
            results[update.sku] = PriceResult(update.sku, Outcome.ERROR, code=code, message="SKU not mapped")
        elif update.price < 0 or (update.compare_at_price is not None and update.compare_at_price < 0):
            results[update.sku] = PriceResult(
                update.sku, Outcome.ERROR, code="INVALID_INPUT", message="negative price"
            )
        else:
            by_product[ref.product_id].append((update, ref.variant_id))
    for product_id, entries in by_product.items():
        for start in range(0, len(entries), MAX_INPUT_ARRAY):
            await _send_product(client, index, product_id, entries[start : start + MAX_INPUT_ARRAY], results)
    return [results[u.sku] for u in {u.sku: u for u in updates}.values()]


async def _send_product(
    client: ShopifyGraphQLClient,
    index: SkuIndex,
    product_id: str,
    entries: list[tuple[PriceUpdate, str]],
    results: dict[str, PriceResult],
) -> None:
    variants = [
        {
            "id": variant_id,
            "price": money_text(update.price),
            "compareAtPrice": money_text(update.compare_at_price)
            if update.compare_at_price is not None
            else None,
        }
        for update, variant_id in entries
    ]
    result = await client.execute(
        SET_PRICES,
        {"productId": product_id, "variants": variants},
        operation="set_prices",
        items=len(variants),
    )
    body: dict[str, Any] = result.data.get("productVariantsBulkUpdate") or {}
    errors = [UserError.from_payload(e) for e in body.get("userErrors") or []]
    by_position: dict[int, UserError] = {}
    general: list[UserError] = []
    for user_error in errors:
        parts = list(user_error.field)
        if (
            "variants" in parts
            and parts.index("variants") + 1 < len(parts)
            and parts[parts.index("variants") + 1].isdigit()
        ):
            by_position.setdefault(int(parts[parts.index("variants") + 1]), user_error)
        else:
            general.append(user_error)
    returned = {str(v.get("id")): v for v in body.get("productVariants") or [] if isinstance(v, dict)}
    for position, (update, variant_id) in enumerate(entries):
        error = by_position.get(position) or (general[0] if general and not by_position else None)
        if error is not None:
            results[update.sku] = PriceResult(
                update.sku, Outcome.ERROR, code=error.code, message=error.message
            )
            continue
        echoed = returned.get(variant_id, {})
        price = decimal_or_none(echoed.get("price")) if echoed else update.price
        compare_at = decimal_or_none(echoed.get("compareAtPrice")) if echoed else update.compare_at_price
        results[update.sku] = PriceResult(
            update.sku, Outcome.APPLIED, price=price, compare_at_price=compare_at
        )
        index.remember_price(update.sku, price, compare_at)


@dataclass(frozen=True)
class ListingSnapshot:
    """What Shopify shows for one SKU, for reconciliation against the desired state."""

    sku: str
    available: int | None
    price: Decimal | None
    compare_at_price: Decimal | None


async def read_back(
    client: ShopifyGraphQLClient, location_id: str, *, query: str | None = None
) -> dict[str, ListingSnapshot]:
    """Quantities and prices of every SKU (paged, page size planned from the bucket)."""
    index = await load_sku_index(client, location_id, query=query)
    return {
        sku: ListingSnapshot(sku, ref.available, ref.price, ref.compare_at_price)
        for sku, ref in index.by_sku.items()
    }
