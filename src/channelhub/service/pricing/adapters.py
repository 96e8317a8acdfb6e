"""The pricing ports over the real connectors: Odoo pricelists as the source, Shopify and
WooCommerce as publishers (with read-back from the platform, never from a cache).

Known simplification: a channel publishes a pricelist item's own fixed price for quantity 1.
Items with a minimum quantity above 1 (quantity breaks) and formula/percentage rules are skipped,
and when two fixed rules compete for a SKU the snapshot (`prices_at`, Odoo's precedence) is the
authority that the next snapshot run reconciles to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar

from channelhub.clock import SYSTEM_CLOCK, Clock
from channelhub.connectors.odoo import ChangeCursor, OdooConnector
from channelhub.connectors.odoo.catalog import company_currency
from channelhub.connectors.odoo.changes import PRICELIST_ITEM_CHANGE_FIELDS, read_changes
from channelhub.connectors.odoo.values import (
    decimal,
    format_datetime,
    many2one_id,
    many2one_name,
    parse_datetime,
    text,
)
from channelhub.connectors.shopify import Outcome, PriceUpdate, ShopifyConnector
from channelhub.connectors.woocommerce import WooCommerceConnector
from channelhub.connectors.woocommerce.mapping import PriceChange
from channelhub.service.pricing.ports import PriceChangeBatch, PricelistChange, PushOutcome, SourcePrice

CHANNEL_PRICE_RULES = ("0_product_variant", "1_product")
Connector = TypeVar("Connector")


class OdooPriceSource:
    """Fixed prices of Odoo pricelists (`product.pricelist.item`), costs from `standard_price`."""

    def __init__(self, connector: OdooConnector, *, overlap_s: float = 0.0) -> None:
        self.connector = connector
        self.overlap_s = overlap_s
        self._currencies: dict[int, str] = {}

    async def price_changes_since(self, cursor: str | None, *, limit: int = 1000) -> PriceChangeBatch:
        client = self.connector.client
        start = ChangeCursor.decode(cursor) if cursor else ChangeCursor()
        batch = await read_changes(
            client, "product.pricelist.item", start, [*PRICELIST_ITEM_CHANGE_FIELDS, "write_uid"],
            limit=limit, overlap_s=self.overlap_s,
        )  # fmt: skip
        rows = [
            row for row in batch.records
            if row.get("compute_price") == "fixed" and row.get("applied_on") in CHANNEL_PRICE_RULES
            and decimal(row.get("min_quantity")) <= 1
        ]  # fmt: skip
        skus = await self._skus_of(rows)
        logins = await self._logins({uid for row in rows if (uid := many2one_id(row.get("write_uid")))})
        grouped: dict[tuple[int, str | None], list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            pricelist = many2one_id(row.get("pricelist_id"))
            if pricelist is not None:
                grouped[(pricelist, logins.get(many2one_id(row.get("write_uid")) or 0))].append(row)
        changes = []
        for (pricelist, author), members in sorted(grouped.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
            currency = await self._currency(pricelist)
            prices = tuple(
                SourcePrice(
                    sku=sku,
                    amount=decimal(row.get("fixed_price")),
                    currency=currency,
                    starts=parse_datetime(row.get("date_start")),
                    ends=parse_datetime(row.get("date_end")),
                    rule_id=int(row["id"]),
                    ref=f"product.pricelist.item:{row['id']}@{row.get('write_date')}",
                )
                for row in members
                for sku in skus.get(int(row["id"]), [])
            )
            if prices:
                stamp = max(str(row.get("write_date")) for row in members)
                changes.append(PricelistChange(pricelist, prices, stamp, author))
        return PriceChangeBatch(tuple(changes), batch.cursor.encode(), batch.has_more)

    async def prices_at(self, pricelist: int, at: datetime) -> tuple[str, dict[str, Decimal]]:
        prices = await self.connector.read_prices(pricelist, at=at)
        result: dict[str, Decimal] = {}
        for sku in sorted({rule.sku for rule in prices.rules}):
            price = prices.price_for(sku, 1, at)
            if price is not None:
                result[str(sku)] = price.amount
        return prices.currency, result

    async def costs(self, skus: Sequence[str]) -> dict[str, tuple[Decimal, str]]:
        if not skus:
            return {}
        client = self.connector.client
        currency = await company_currency(client)
        rows = await client.search_read_all(
            "product.product", [("default_code", "in", list(skus))], ["default_code", "standard_price"],
            context={"active_test": False},
        )  # fmt: skip
        return {
            code: (decimal(row.get("standard_price")), currency)
            for row in rows
            if (code := text(row.get("default_code")))
        }

    async def _currency(self, pricelist: int) -> str:
        if pricelist not in self._currencies:
            rows = await self.connector.client.execute_kw(
                "product.pricelist", "read", [[pricelist], ["currency_id"]]
            )
            name = many2one_name(rows[0].get("currency_id")) if rows else ""
            self._currencies[pricelist] = (
                name if len(name) == 3 else await company_currency(self.connector.client)
            )
        return self._currencies[pricelist]

    async def _skus_of(self, rows: Sequence[Mapping[str, Any]]) -> dict[int, list[str]]:
        variants = {pid for row in rows if row.get("applied_on") == "0_product_variant"
                    and (pid := many2one_id(row.get("product_id")))}  # fmt: skip
        templates = {tid for row in rows if row.get("applied_on") == "1_product"
                     and (tid := many2one_id(row.get("product_tmpl_id")))}  # fmt: skip
        if not variants and not templates:
            return {}
        products = await self.connector.client.search_read_all(
            "product.product",
            ["|", ("id", "in", sorted(variants)), ("product_tmpl_id", "in", sorted(templates))],
            ["default_code", "product_tmpl_id"],
            context={"active_test": False},
        )
        by_variant: dict[int, str] = {}
        by_template: dict[int, list[str]] = defaultdict(list)
        for product in products:
            code = text(product.get("default_code"))
            if not code:
                continue
            by_variant[int(product["id"])] = code
            template = many2one_id(product.get("product_tmpl_id"))
            if template is not None:
                by_template[template].append(code)
        result: dict[int, list[str]] = {}
        for row in rows:
            if row.get("applied_on") == "0_product_variant":
                code_of = by_variant.get(many2one_id(row.get("product_id")) or 0)
                result[int(row["id"])] = [code_of] if code_of else []
            else:
                result[int(row["id"])] = sorted(
                    by_template.get(many2one_id(row.get("product_tmpl_id")) or 0, [])
                )
        return result

    async def _logins(self, user_ids: set[int]) -> dict[int, str]:
        if not user_ids:
            return {}
        rows = await self.connector.client.execute_kw("res.users", "read", [sorted(user_ids), ["login"]])
        return {int(row["id"]): str(row.get("login") or row["id"]) for row in rows}


async def ensure_fixed_pricelist(
    connector: OdooConnector, name: str, prices: Mapping[str, Decimal]
) -> tuple[int, dict[str, int]]:
    """The pricelist called `name` (created if missing) with one undated fixed-price variant item
    per SKU at `prices` (created or corrected; safe to repeat). Returns its id and SKU → item id.
    For seeding a sandbox or a demo; SKUs Odoo does not know are left out."""
    client = connector.client
    found = await client.execute_kw("product.pricelist", "search", [[("name", "=", name)]], {"limit": 1})
    pricelist = (
        int(found[0])
        if found
        else int(await client.execute_kw("product.pricelist", "create", [{"name": name}]))
    )
    products = await client.search_read_all(
        "product.product",
        [("default_code", "in", sorted(prices))],
        ["default_code"],
        context={"active_test": False},
    )
    product_of = {str(row["default_code"]): int(row["id"]) for row in products}
    existing = await client.search_read_all(
        "product.pricelist.item",
        [("pricelist_id", "=", pricelist), ("applied_on", "=", "0_product_variant"),
         ("compute_price", "=", "fixed"), ("date_start", "=", False), ("date_end", "=", False)],
        ["product_id", "fixed_price", "min_quantity"],
    )  # fmt: skip
    item_of = {
        pid: row for row in existing if decimal(row.get("min_quantity")) <= 1
        and (pid := many2one_id(row.get("product_id"))) is not None
    }  # fmt: skip
    items: dict[str, int] = {}
    for sku, price in sorted(prices.items()):
        product = product_of.get(sku)
        if product is None:
            continue
        row = item_of.get(product)
        if row is None:
            items[sku] = int(
                await client.execute_kw(
                    "product.pricelist.item",
                    "create",
                    [
                        {
                            "pricelist_id": pricelist,
                            "applied_on": "0_product_variant",
                            "product_id": product,
                            "compute_price": "fixed",
                            "fixed_price": float(price),
                        }
                    ],
                )
            )
        else:
            items[sku] = int(row["id"])
            if decimal(row.get("fixed_price")) != price:
                await client.execute_kw(
                    "product.pricelist.item", "write", [[items[sku]], {"fixed_price": float(price)}]
                )
    return pricelist, items


class OdooSalesVelocity:
    """Units sold per day per SKU on one channel over the last `days` days, from confirmed Odoo
    sale orders (channel orders carry `client_order_ref = "<channel>:<order id>"`)."""

    def __init__(self, connector: OdooConnector, *, clock: Clock = SYSTEM_CLOCK, days: int = 28) -> None:
        if days < 1:
            raise ValueError("the velocity window must be at least one day")
        self.connector = connector
        self.clock = clock
        self.days = days

    async def units_per_day(self, channel: str, skus: Sequence[str]) -> dict[str, Decimal]:
        if not skus:
            return {}
        since = self.clock.now() - timedelta(days=self.days)
        rows = await self.connector.client.search_read_all(
            "sale.order.line",
            [
                ("order_id.client_order_ref", "=like", f"{channel}:%"),
                ("order_id.state", "in", ["sale", "done"]),
                ("order_id.date_order", ">=", format_datetime(since)),
                ("product_id.default_code", "in", list(skus)),
            ],
            ["product_id", "product_uom_qty"],
        )
        units: dict[int, Decimal] = defaultdict(Decimal)
        for row in rows:
            product = many2one_id(row.get("product_id"))
            if product is not None:
                units[product] += decimal(row.get("product_uom_qty"))
        if not units:
            return {}
        products = await self.connector.client.execute_kw(
            "product.product", "read", [sorted(units), ["default_code"]], {"context": {"active_test": False}}
        )
        per_day: dict[str, Decimal] = defaultdict(Decimal)
        for product in products:
            code = text(product.get("default_code"))
            if code:
                per_day[code] += units[int(product["id"])] / self.days
        return dict(per_day)


class OdooOrderRate:
    """Orders per hour a channel brought into Odoo in a time range (the canary's order signal)."""

    def __init__(self, connector: OdooConnector) -> None:
        self.connector = connector

    async def orders_per_hour(self, channel: str, since: datetime, until: datetime) -> Decimal:
        hours = Decimal(str((until - since).total_seconds())) / 3600
        if hours <= 0:
            return Decimal(0)
        count = await self.connector.client.execute_kw(
            "sale.order",
            "search_count",
            [[("client_order_ref", "=like", f"{channel}:%"), ("state", "!=", "cancel"),
              ("date_order", ">=", format_datetime(since)), ("date_order", "<", format_datetime(until))]],
        )  # fmt: skip
        return Decimal(int(count)) / hours


class ChannelPublisher(Generic[Connector]):
    """A price publisher for one channel (named as in the landscape file) over its connector."""

    def __init__(self, channel: str, connector: Connector) -> None:
        self._channel = channel
        self.connector = connector

    @property
    def channel(self) -> str:
        return self._channel


class ShopifyPricePublisher(ChannelPublisher[ShopifyConnector]):
    """Variant prices through `productVariantsBulkUpdate`; read back with a fresh catalog read."""

    async def set_prices(self, prices: Mapping[str, Decimal]) -> dict[str, PushOutcome]:
        index = await self.connector.catalog()
        updates = []
        for sku, price in prices.items():
            ref = index.get(sku)
            # Keep a strike-through price only while it is still above the new price.
            compare_at = ref.compare_at_price if ref is not None else None
            updates.append(PriceUpdate(sku, price, compare_at if compare_at and compare_at > price else None))
        results = await self.connector.set_prices(updates)
        return {
            r.sku: PushOutcome(
                r.sku,
                r.outcome is Outcome.APPLIED,
                None if r.outcome is Outcome.APPLIED else f"{r.code}: {r.message}",
            )
            for r in results
        }

    async def read_prices(self, skus: Sequence[str]) -> dict[str, Decimal]:
        wanted = set(skus)
        snapshots = await self.connector.read_back()
        return {sku: s.price for sku, s in snapshots.items() if sku in wanted and s.price is not None}


class WooCommercePricePublisher(ChannelPublisher[WooCommerceConnector]):
    """`regular_price` through the batch endpoints (sale price cleared, so the regular price is
    what shoppers pay); read back from a fresh product listing."""

    async def set_prices(self, prices: Mapping[str, Decimal]) -> dict[str, PushOutcome]:
        result = await self.connector.set_prices({sku: PriceChange(price) for sku, price in prices.items()})
        outcomes = {sku: PushOutcome(sku, True) for sku in result.applied}
        for sku, error in result.failed.items():
            outcomes[sku] = PushOutcome(sku, False, str(error), error.transient)
        for sku in result.unknown_skus:
            outcomes[sku] = PushOutcome(sku, False, "SKU not listed on the shop")
        return outcomes

    async def read_prices(self, skus: Sequence[str]) -> dict[str, Decimal]:
        listings = await self.connector.read_listings(list(skus))
        shown: dict[str, Decimal] = {}
        for sku, listing in listings.items():
            price = listing.sale_price if listing.sale_price is not None else listing.regular_price
            if price is not None:
                shown[sku] = price
        return shown


def price_publisher_for(gateway: object) -> ShopifyPricePublisher | WooCommercePricePublisher | None:
    """The price publisher over a channel gateway's connector (None for platforms without one)."""
    from channelhub.service.adapters import ShopifyChannelGateway, WooCommerceChannelGateway

    if isinstance(gateway, ShopifyChannelGateway):
        return ShopifyPricePublisher(gateway.name, gateway.connector)
    if isinstance(gateway, WooCommerceChannelGateway):
        return WooCommercePricePublisher(gateway.name, gateway.connector)
    return None
