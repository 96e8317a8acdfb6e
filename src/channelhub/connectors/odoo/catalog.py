"""The catalog as Odoo holds it: variants (`product.product`) with SKU, barcode, unit and prices.

Maps onto the canonical `Variant` (SKU identity, unit, barcode); prices come as `Money` in the
company currency. Products whose `default_code` cannot be a channelhub SKU (empty, spaces) are
reported, not dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from channelhub.connectors.odoo.client import OdooClient
from channelhub.connectors.odoo.values import decimal, many2one_id, many2one_name, parse_datetime, text
from channelhub.domain import InvalidValue, Money, Sku, UnitOfMeasure, Variant

PRODUCT_FIELDS = (
    "default_code", "barcode", "name", "display_name", "uom_id", "list_price", "standard_price",
    "product_tmpl_id", "active", "write_date",
)  # fmt: skip


@dataclass(frozen=True)
class CatalogItem:
    """One Odoo variant as channelhub sees it."""

    product_id: int
    template_id: int | None
    sku: Sku
    name: str
    barcode: str | None
    unit: str
    list_price: Money
    standard_price: Money
    storable: bool
    active: bool
    write_date: str

    def to_variant(self) -> Variant:
        return Variant(
            sku=self.sku, name=self.name, unit=UnitOfMeasure(self.unit or "Units"), barcode=self.barcode
        )


@dataclass(frozen=True)
class Catalog:
    items: tuple[CatalogItem, ...]
    currency: str
    unusable: tuple[tuple[int, str], ...] = ()  # (product id, default_code) that are not SKUs


async def company_currency(client: OdooClient) -> str:
    """The ISO code of the user's company currency (prices in Odoo are in it)."""
    users = await client.execute_kw("res.users", "read", [[client.uid], ["company_id"]])
    company_id = many2one_id(users[0].get("company_id")) if users else None
    if company_id is None:
        return "EUR"
    companies = await client.execute_kw("res.company", "read", [[company_id], ["currency_id"]])
    name = many2one_name(companies[0].get("currency_id")) if companies else ""
    return name if len(name) == 3 and name.isalpha() else "EUR"


def catalog_item(row: dict[str, Any], currency: str, storable: bool) -> CatalogItem:
    """Map one `product.product` row; raises InvalidValue when its default_code is not a SKU."""
    sku = Sku(text(row.get("default_code")) or "")
    stamp = parse_datetime(row.get("write_date"))
    return CatalogItem(
        product_id=int(row["id"]),
        template_id=many2one_id(row.get("product_tmpl_id")),
        sku=sku,
        name=text(row.get("display_name")) or text(row.get("name")) or str(sku),
        barcode=text(row.get("barcode")),
        unit=many2one_name(row.get("uom_id")) or "Units",
        list_price=Money(decimal(row.get("list_price")), currency),
        standard_price=Money(decimal(row.get("standard_price")), currency),
        storable=storable,
        active=bool(row.get("active", True)),
        write_date=stamp.strftime("%Y-%m-%d %H:%M:%S") if stamp else "",
    )


async def read_catalog(
    client: OdooClient, *, include_archived: bool = False, storable_only: bool = False
) -> Catalog:
    """Every variant with a SKU, paged by id."""
    version = client.version
    currency = await company_currency(client)
    domain: list[Any] = [("default_code", "!=", False)]
    if storable_only:
        domain += version.storable_product_domain
    fields = [*PRODUCT_FIELDS, *version.storable_fields]
    context = {"active_test": False} if include_archived else None
    items: list[CatalogItem] = []
    unusable: list[tuple[int, str]] = []
    async for page in client.search_read_pages("product.product", domain, fields, context=context):
        for row in page:
            try:
                items.append(catalog_item(row, currency, version.is_storable(row)))
            except InvalidValue:
                unusable.append((int(row["id"]), str(row.get("default_code"))))
    return Catalog(tuple(items), currency, tuple(unusable))
