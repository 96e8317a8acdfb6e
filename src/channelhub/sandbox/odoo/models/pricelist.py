"""Pricelists and their rules; the price a pricelist gives a product for a quantity at a date.

Rules are tried in Odoo's order (``applied_on, min_quantity desc, categ_id desc, id desc``): variant
rules before template rules before category rules before global ones, higher minimum quantity
first; the first rule whose date window and minimum quantity match decides the price.
"""

from __future__ import annotations

import math
from typing import Any

from channelhub.sandbox.odoo import fields as f
from channelhub.sandbox.odoo.api import model_of
from channelhub.sandbox.odoo.domain import ancestors
from channelhub.sandbox.odoo.errors import ValidationError
from channelhub.sandbox.odoo.fields import Field
from channelhub.sandbox.odoo.model import BaseModel
from channelhub.sandbox.odoo.models.product import ProductProduct
from channelhub.sandbox.odoo.orm import Env

APPLIED_ON = [
    ("3_global", "All Products"),
    ("2_product_category", "Product Category"),
    ("1_product", "Product"),
    ("0_product_variant", "Product Variant"),
]


class ProductPricelist(BaseModel):
    _name = "product.pricelist"
    _description = "Pricelist"
    _order = "sequence asc, id asc"

    def _define_fields(self) -> dict[str, Field]:
        fields: dict[str, Field] = {
            "name": f.char("Pricelist Name", required=True),
            "active": f.boolean("Active", default=True),
            "sequence": f.integer("Sequence", default=16),
            "currency_id": f.many2one("res.currency", "Currency", required=True, default=lambda env: 1),
            "company_id": f.many2one("res.company", "Company"),
            "item_ids": f.one2many("product.pricelist.item", "pricelist_id", "Pricelist Rules"),
        }
        if self.version.major <= 17:
            fields["discount_policy"] = f.selection(
                "Discount Policy",
                [
                    ("with_discount", "Discount included in the price"),
                    ("without_discount", "Show public price & discount to the customer"),
                ],
                default="with_discount",
            )
        return fields


class ProductPricelistItem(BaseModel):
    _name = "product.pricelist.item"
    _description = "Pricelist Rule"
    _order = "applied_on, min_quantity desc, categ_id desc, id desc"
    _rec_name = "pricelist_id"

    def _define_fields(self) -> dict[str, Field]:
        fields: dict[str, Field] = {
            "pricelist_id": f.many2one(
                "product.pricelist", "Pricelist", required=True, index=True, ondelete="cascade"
            ),
            "applied_on": f.selection("Apply On", APPLIED_ON, required=True, default="3_global"),
            "product_tmpl_id": f.many2one("product.template", "Product", index=True, ondelete="cascade"),
            "product_id": f.many2one("product.product", "Product Variant", index=True, ondelete="cascade"),
            "categ_id": f.many2one("product.category", "Product Category", ondelete="cascade"),
            "min_quantity": f.floating("Min. Quantity", default=0.0),
            "date_start": f.datetime_field("Start Date"),
            "date_end": f.datetime_field("End Date"),
            "base": f.selection(
                "Based on",
                [("list_price", "Sales Price"), ("standard_price", "Cost"), ("pricelist", "Other Pricelist")],
                default="list_price",
                required=True,
            ),
            "base_pricelist_id": f.many2one("product.pricelist", "Other Pricelist"),
            "compute_price": f.selection(
                "Computation",
                [("fixed", "Fixed Price"), ("percentage", "Discount"), ("formula", "Formula")],
                default="fixed",
                required=True,
            ),
            "fixed_price": f.floating("Fixed Price", default=0.0),
            "percent_price": f.floating("Percentage Price", default=0.0),
            "price_discount": f.floating("Price Discount", default=0.0),
            "price_surcharge": f.floating("Price Surcharge", default=0.0),
            "price_round": f.floating("Price Rounding", default=0.0),
            "price_min_margin": f.floating("Min. Price Margin", default=0.0),
            "price_max_margin": f.floating("Max. Price Margin", default=0.0),
            "currency_id": f.many2one("res.currency", "Currency", related="pricelist_id.currency_id"),
            "company_id": f.many2one("res.company", "Company", related="pricelist_id.company_id"),
            "active": f.boolean("Active", related="pricelist_id.active"),
        }
        if self.version.major >= 18:
            fields["price_markup"] = f.floating("Markup", compute="_compute_markup")
        return fields

    def _compute_markup(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        return {rid: -(self.rows[rid].get("price_discount") or 0.0) for rid in ids}

    def _prepare_create(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        self._check_dates(vals.get("date_start"), vals.get("date_end"))
        return vals

    def _check_write(self, env: Env, ids: list[int], vals: dict[str, Any]) -> None:
        for rid in ids:
            row = self.rows[rid]
            self._check_dates(
                vals.get("date_start", row.get("date_start")), vals.get("date_end", row.get("date_end"))
            )

    @staticmethod
    def _check_dates(start: Any, end: Any) -> None:
        if start and end and str(start) >= str(end):
            raise ValidationError("The start date of the pricelist item should be before the end date.")


def pricelist_price(
    env: Env, pricelist_id: int, product_id: int, quantity: float, when: str, depth: int = 0
) -> float:
    """``product.pricelist._get_product_price``: the unit price for this product, quantity and moment."""
    products = model_of(env, ProductProduct)
    product = products.rows[product_id]
    template = env["product.template"].rows[product["product_tmpl_id"]]
    list_price = float(template.get("list_price") or 0.0) + float(
        products._compute_price_extra(env, [product_id]).get(product_id, 0.0)
    )
    items = env["product.pricelist.item"]
    if not pricelist_id or pricelist_id not in env["product.pricelist"].rows or depth > 5:
        return list_price
    categories = ancestors(env["product.category"], {template.get("categ_id") or 0})
    candidates = [items.rows[i] for i in items.indexes["pricelist_id"].get(pricelist_id, ())]
    candidates.sort(
        key=lambda r: (r["applied_on"], -(r.get("min_quantity") or 0.0), -(r.get("categ_id") or 0), -r["id"])
    )
    for item in candidates:
        if item.get("min_quantity") and quantity < item["min_quantity"]:
            continue
        if item.get("date_start") and when < item["date_start"]:
            continue
        if item.get("date_end") and when > item["date_end"]:
            continue
        applied_on = item["applied_on"]
        if applied_on == "0_product_variant" and item.get("product_id") != product_id:
            continue
        if applied_on == "1_product" and item.get("product_tmpl_id") != product["product_tmpl_id"]:
            continue
        if applied_on == "2_product_category" and item.get("categ_id") not in categories:
            continue
        return _apply_rule(env, item, product_id, quantity, when, list_price, depth)
    return list_price


def _apply_rule(
    env: Env, item: dict[str, Any], product_id: int, quantity: float, when: str, list_price: float, depth: int
) -> float:
    if item["compute_price"] == "fixed":
        return float(item.get("fixed_price") or 0.0)
    base = item.get("base") or "list_price"
    if base == "standard_price":
        base_price = float(env["product.product"].rows[product_id].get("standard_price") or 0.0)
    elif base == "pricelist":
        base_price = pricelist_price(
            env, item.get("base_pricelist_id") or 0, product_id, quantity, when, depth + 1
        )
    else:
        base_price = list_price
    if item["compute_price"] == "percentage":
        return base_price - base_price * (item.get("percent_price") or 0.0) / 100
    price = base_price - base_price * (item.get("price_discount") or 0.0) / 100
    if item.get("price_round"):
        price = math.floor(price / item["price_round"] + 0.5) * item["price_round"]  # float_round: half-up
    price += item.get("price_surcharge") or 0.0
    if item.get("price_min_margin"):
        price = max(price, base_price + item["price_min_margin"])
    if item.get("price_max_margin"):
        price = min(price, base_price + item["price_max_margin"])
    return price
