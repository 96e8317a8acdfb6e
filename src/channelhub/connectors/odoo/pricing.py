"""Fixed prices from an Odoo pricelist, with their date windows and minimum quantities.

Odoo's price computation (`_get_product_price`) is private and not callable over RPC, so the
connector reads `product.pricelist.item` rules and applies Odoo's own precedence client-side:
rules are ordered `applied_on` (variant before template before category before global), then
`min_quantity` descending, then id descending; the first rule whose product, quantity and date
window match wins. Only `compute_price = 'fixed'` rules on variants and templates are read: those
are the prices a channel publishes; formula and percentage rules are reported as skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from channelhub.connectors.odoo.catalog import company_currency
from channelhub.connectors.odoo.client import OdooClient
from channelhub.connectors.odoo.errors import OdooMissingError
from channelhub.connectors.odoo.values import (
    decimal,
    format_datetime,
    many2one_id,
    many2one_name,
    parse_datetime,
    text,
)
from channelhub.domain import InvalidValue, Money, Sku

ITEM_FIELDS = (
    "pricelist_id", "applied_on", "product_id", "product_tmpl_id", "compute_price", "fixed_price",
    "min_quantity", "date_start", "date_end", "write_date",
)  # fmt: skip
_APPLIED_RANK = {"0_product_variant": 0, "1_product": 1}


@dataclass(frozen=True)
class PriceRule:
    """A fixed price for one SKU from `min_quantity` units on, valid in [starts, ends]."""

    rule_id: int
    sku: Sku
    price: Money
    min_quantity: Decimal
    starts: datetime | None
    ends: datetime | None
    applied_on: str

    def applies(self, quantity: Decimal, at: datetime) -> bool:
        if quantity < self.min_quantity:
            return False
        if self.starts is not None and at < self.starts:
            return False
        return self.ends is None or at <= self.ends

    def precedence(self) -> tuple[int, Decimal, int]:
        return (_APPLIED_RANK.get(self.applied_on, 9), -self.min_quantity, -self.rule_id)


@dataclass(frozen=True)
class PricelistPrices:
    pricelist_id: int
    currency: str
    rules: tuple[PriceRule, ...]
    skipped_rules: tuple[int, ...] = ()

    def price_for(self, sku: Sku, quantity: Decimal | int, at: datetime) -> Money | None:
        """The price Odoo would apply from these fixed rules, or None when no rule matches."""
        qty = Decimal(quantity)
        candidates = sorted((r for r in self.rules if r.sku == sku), key=PriceRule.precedence)
        return next((rule.price for rule in candidates if rule.applies(qty, at)), None)


async def _pricelist_currency(client: OdooClient, pricelist_id: int) -> str:
    rows = await client.execute_kw("product.pricelist", "read", [[pricelist_id], ["currency_id", "name"]])
    if not rows:
        raise OdooMissingError(
            f"pricelist {pricelist_id} does not exist", model="product.pricelist", method="read"
        )
    name = many2one_name(rows[0].get("currency_id"))
    return name if len(name) == 3 else await company_currency(client)


async def _skus_of(
    client: OdooClient, variant_ids: set[int], template_ids: set[int]
) -> dict[str, dict[int, list[Sku]]]:
    """SKUs of the variants, and of every variant of each template."""
    by_variant: dict[int, list[Sku]] = {}
    by_template: dict[int, list[Sku]] = {}
    domain: list[Any] = [
        "|",
        ("id", "in", sorted(variant_ids)),
        ("product_tmpl_id", "in", sorted(template_ids)),
    ]
    rows = await client.search_read_all(
        "product.product", domain, ["default_code", "product_tmpl_id"], context={"active_test": False}
    )
    for row in rows:
        try:
            sku = Sku(text(row.get("default_code")) or "")
        except InvalidValue:
            continue
        by_variant.setdefault(int(row["id"]), []).append(sku)
        template = many2one_id(row.get("product_tmpl_id"))
        if template is not None:
            by_template.setdefault(template, []).append(sku)
    return {"variant": by_variant, "template": by_template}


async def read_pricelist_prices(
    client: OdooClient,
    pricelist_id: int,
    *,
    at: datetime | None = None,
    skus: Iterable[str] | None = None,
) -> PricelistPrices:
    """Fixed-price rules of a pricelist, valid at `at` when given (all windows otherwise)."""
    currency = await _pricelist_currency(client, pricelist_id)
    domain: list[Any] = [("pricelist_id", "=", pricelist_id), ("applied_on", "in", sorted(_APPLIED_RANK))]
    if at is not None:
        moment = format_datetime(at)
        domain += ["|", ("date_start", "=", False), ("date_start", "<=", moment),
                   "|", ("date_end", "=", False), ("date_end", ">=", moment)]  # fmt: skip
    rows = await client.search_read_all("product.pricelist.item", domain, ITEM_FIELDS)
    fixed = [row for row in rows if row.get("compute_price") == "fixed"]
    skipped = tuple(int(row["id"]) for row in rows if row.get("compute_price") != "fixed")
    variant_ids = {pid for row in fixed if (pid := many2one_id(row.get("product_id"))) is not None}
    template_ids = {tid for row in fixed if (tid := many2one_id(row.get("product_tmpl_id"))) is not None}
    skus_of = await _skus_of(client, variant_ids, template_ids) if fixed else {"variant": {}, "template": {}}
    wanted = {Sku(code) for code in skus} if skus is not None else None
    rules: list[PriceRule] = []
    for row in fixed:
        rules.extend(_rules_of(row, currency, skus_of, wanted))
    return PricelistPrices(pricelist_id, currency, tuple(rules), skipped)


def _rules_of(
    row: dict[str, Any], currency: str, skus_of: dict[str, dict[int, list[Sku]]], wanted: set[Sku] | None
) -> Sequence[PriceRule]:
    applied_on = str(row.get("applied_on"))
    if applied_on == "0_product_variant":
        target = many2one_id(row.get("product_id"))
        skus = skus_of["variant"].get(target, []) if target is not None else []
    else:
        target = many2one_id(row.get("product_tmpl_id"))
        skus = skus_of["template"].get(target, []) if target is not None else []
    return [
        PriceRule(
            rule_id=int(row["id"]),
            sku=sku,
            price=Money(decimal(row.get("fixed_price")), currency),
            min_quantity=decimal(row.get("min_quantity")),
            starts=parse_datetime(row.get("date_start")),
            ends=parse_datetime(row.get("date_end")),
            applied_on=applied_on,
        )
        for sku in skus
        if wanted is None or sku in wanted
    ]
