"""Catalog models: categories, templates, variants, attributes, packagings.

Version differences: up to 17.0 a stock-tracked product has ``type='product'`` ("Storable Product")
and ``detailed_type`` mirrors it; from 18.0 ``type`` is ``consu`` ("Goods") and ``is_storable`` says
whether stock is tracked.
"""

from __future__ import annotations

from typing import Any

from channelhub.sandbox.odoo import fields as f
from channelhub.sandbox.odoo.fields import Field
from channelhub.sandbox.odoo.model import BaseModel
from channelhub.sandbox.odoo.models import quantities
from channelhub.sandbox.odoo.orm import Env

QUANTITY_FIELDS = ("qty_available", "virtual_available", "free_qty", "incoming_qty", "outgoing_qty")


def product_type_selection(storable_is_flag: bool) -> list[tuple[str, str]]:
    if storable_is_flag:
        return [("consu", "Goods"), ("service", "Service"), ("combo", "Combo")]
    return [("consu", "Consumable"), ("service", "Service"), ("product", "Storable Product")]


class ProductCategory(BaseModel):
    _name = "product.category"
    _description = "Product Category"
    _order = "complete_name"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "name": f.char("Name", required=True),
            "complete_name": f.char("Complete Name"),
            "parent_id": f.many2one("product.category", "Parent Category", index=True, ondelete="cascade"),
            "parent_path": f.char("Parent Path", index=True),
        }

    def _prepare_create(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        parent = self.rows.get(vals.get("parent_id") or 0)
        vals["complete_name"] = (
            f"{parent['complete_name']} / {vals.get('name')}" if parent else vals.get("name")
        )
        return vals

    def display_names(self, env: Env, ids: Any) -> dict[int, str]:
        return {rid: str(self.rows[rid].get("complete_name") or "") for rid in ids if rid in self.rows}


class ProductAttribute(BaseModel):
    _name = "product.attribute"
    _description = "Product Attribute"
    _order = "sequence, id"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "name": f.char("Attribute", required=True),
            "sequence": f.integer("Sequence", default=20),
            "create_variant": f.selection(
                "Variants Creation Mode",
                [("always", "Instantly"), ("dynamic", "Dynamically"), ("no_variant", "Never (option)")],
                default="always",
            ),
        }


class ProductTemplateAttributeValue(BaseModel):
    _name = "product.template.attribute.value"
    _description = "Product Template Attribute Value"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "name": f.char("Value", required=True),
            "attribute_id": f.many2one("product.attribute", "Attribute", required=True),
            "product_tmpl_id": f.many2one(
                "product.template", "Product Template", required=True, index=True, ondelete="cascade"
            ),
            "price_extra": f.floating("Value Price Extra", default=0.0),
        }


class ProductTemplate(BaseModel):
    _name = "product.template"
    _description = "Product"
    _mail_thread = True
    _order = "priority desc, name"

    def _define_fields(self) -> dict[str, Field]:
        storable_flag = self.version.storable_is_flag
        fields: dict[str, Field] = {
            "name": f.char("Name", required=True, index=True),
            "sequence": f.integer("Sequence", default=1),
            "priority": f.selection("Favorite", [("0", "Normal"), ("1", "Favorite")], default="0"),
            "description_sale": f.text("Sales Description"),
            "type": f.selection(
                "Product Type", product_type_selection(storable_flag), required=True, default="consu"
            ),
            "categ_id": f.many2one(
                "product.category", "Product Category", required=True, default=lambda env: 1
            ),
            "list_price": f.floating("Sales Price", default=1.0),
            "standard_price": f.floating("Cost", compute="_compute_from_variant"),
            "default_code": f.char("Internal Reference", compute="_compute_from_variant"),
            "barcode": f.char("Barcode", compute="_compute_from_variant"),
            "uom_id": f.many2one("uom.uom", "Unit of Measure", required=True, default=lambda env: 1),
            "uom_po_id": f.many2one("uom.uom", "Purchase Unit of Measure", default=lambda env: 1),
            "sale_ok": f.boolean("Can be Sold", default=True),
            "purchase_ok": f.boolean("Can be Purchased", default=True),
            "invoice_policy": f.selection(
                "Invoicing Policy",
                [("order", "Ordered quantities"), ("delivery", "Delivered quantities")],
                default="order",
            ),
            "weight": f.floating("Weight"),
            "company_id": f.many2one("res.company", "Company"),
            "currency_id": f.many2one("res.currency", "Currency", default=lambda env: 1),
            "active": f.boolean("Active", default=True),
            "product_variant_ids": f.one2many("product.product", "product_tmpl_id", "Products"),
            "product_variant_count": f.integer("# Product Variants", compute="_compute_variant_count"),
            "attribute_value_ids": f.one2many(
                "product.template.attribute.value", "product_tmpl_id", "Attribute Values"
            ),
        }
        if storable_flag:
            fields["is_storable"] = f.boolean("Track Inventory", default=False)
        else:
            fields["detailed_type"] = f.selection("Product Type", product_type_selection(False))
        if self.version.has_packaging:
            fields["packaging_ids"] = f.one2many("product.packaging", "product_tmpl_id", "Product Packages")
        for name in QUANTITY_FIELDS:
            fields[name] = f.floating(name.replace("_", " ").title(), compute="_compute_from_variant")
        return fields

    def _prepare_create(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        # values of the variant given to the template land on its single variant (see _after_create)
        env.cache["template_variant_values"] = {
            name: vals.pop(name) for name in ("default_code", "barcode", "standard_price") if name in vals
        }
        if not env.version.storable_is_flag:
            if vals.get("detailed_type"):
                vals["type"] = vals["detailed_type"]
            else:
                vals["detailed_type"] = vals.get("type") or "consu"
        return vals

    def _after_create(self, env: Env, rid: int) -> None:
        # Odoo creates the single variant of a template without attributes right away
        if not env.context.get("create_product_product", True):
            return
        variants = env["product.product"]
        if not variants.indexes["product_tmpl_id"].get(rid):
            given = env.cache.pop("template_variant_values", {})
            variant_values = {"product_tmpl_id": rid, **given}
            variants.create(env.with_context(create_product_product=False), variant_values)

    def _after_write(self, env: Env, ids: list[int], vals: dict[str, Any]) -> None:
        if not env.version.storable_is_flag and ("type" in vals or "detailed_type" in vals):
            kind = vals.get("detailed_type") or vals.get("type")
            for rid in ids:
                self.update(env, rid, {"type": kind, "detailed_type": kind})
        variants = env["product.product"]
        for rid in ids:  # variants' write_date moves with the template's, so variant polling sees it
            for variant in variants.indexes["product_tmpl_id"].get(rid, ()):
                variants.update(env, variant, {"write_date": env.now()})

    def _compute_from_variant(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        """Cost, reference and barcode of a template are those of its only variant (else empty)."""
        if name in QUANTITY_FIELDS:
            return self._quantities_for(env, ids, name)
        variants = env["product.product"]
        index = variants.indexes["product_tmpl_id"]
        result: dict[int, Any] = {}
        for rid in ids:
            children = sorted(index.get(rid, ()))
            if len(children) == 1:
                result[rid] = variants.rows[children[0]].get(name, False)
            else:
                result[rid] = 0.0 if name == "standard_price" else False
        return result

    def _compute_variant_count(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        index = env["product.product"].indexes["product_tmpl_id"]
        return {rid: len(index.get(rid, ())) for rid in ids}

    def _quantities_for(self, env: Env, ids: list[int], name: str) -> dict[int, float]:
        variants = env["product.product"]
        index = variants.indexes["product_tmpl_id"]
        variant_ids = sorted({v for rid in ids for v in index.get(rid, ())})
        per_variant = quantities.product_quantities(env, variant_ids)
        return {rid: sum(per_variant[v][name] for v in index.get(rid, ())) for rid in ids}

    def _name_search_domain(self, name: str, operator: str) -> list[Any]:
        return ["|", ("name", operator, name), ("product_variant_ids.default_code", operator, name)]


class ProductProduct(BaseModel):
    _name = "product.product"
    _description = "Product Variant"
    _mail_thread = True
    _order = "default_code, id"
    _inherits = {"product.template": "product_tmpl_id"}

    def _define_fields(self) -> dict[str, Field]:
        fields: dict[str, Field] = {
            "product_tmpl_id": f.many2one(
                "product.template", "Product Template", required=True, index=True, ondelete="cascade"
            ),
            "default_code": f.char("Internal Reference", index=True),
            "barcode": f.char("Barcode", index=True),
            "standard_price": f.floating("Cost", default=0.0),
            "active": f.boolean("Active", default=True),
            "product_template_attribute_value_ids": f.many2many(
                "product.template.attribute.value", "Attribute Values"
            ),
            "price_extra": f.floating("Variant Price Extra", compute="_compute_price_extra"),
            "lst_price": f.floating("Sales Price", compute="_compute_lst_price"),
            "stock_quant_ids": f.one2many("stock.quant", "product_id", "Quants"),
        }
        if self.version.has_packaging:
            fields["packaging_ids"] = f.one2many("product.packaging", "product_id", "Product Packages")
        for name in QUANTITY_FIELDS:
            fields[name] = f.floating(name.replace("_", " ").title(), compute="_compute_quantity")
        return fields

    def _compute_quantity(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        per_product = quantities.product_quantities(env, ids)
        return {rid: per_product[rid][name] for rid in ids}

    def _compute_price_extra(self, env: Env, ids: list[int], name: str = "") -> dict[int, Any]:
        values = env["product.template.attribute.value"].rows
        return {
            rid: sum(
                values[v].get("price_extra", 0.0)
                for v in self.rows[rid].get("product_template_attribute_value_ids") or []
                if v in values
            )
            for rid in ids
        }

    def _compute_lst_price(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        templates = env["product.template"].rows
        extras = self._compute_price_extra(env, ids)
        return {
            rid: templates[self.rows[rid]["product_tmpl_id"]].get("list_price", 0.0) + extras[rid]
            for rid in ids
        }

    def display_names(self, env: Env, ids: Any) -> dict[int, str]:
        templates = env["product.template"].rows
        values = env["product.template.attribute.value"].rows
        names: dict[int, str] = {}
        for rid in ids:
            row = self.rows.get(rid)
            if row is None:
                continue
            label = str(templates[row["product_tmpl_id"]].get("name") or "")
            variant_values = [
                values[v]["name"]
                for v in row.get("product_template_attribute_value_ids") or []
                if v in values
            ]
            if variant_values:
                label = f"{label} ({', '.join(variant_values)})"
            code = row.get("default_code")
            names[rid] = f"[{code}] {label}" if code else label
        return names

    def _name_search_domain(self, name: str, operator: str) -> list[Any]:
        return [
            "|",
            "|",
            ("default_code", operator, name),
            ("barcode", operator, name),
            ("name", operator, name),
        ]

    def _check_unlink(self, env: Env, ids: list[int]) -> None:
        return None


class ProductPackaging(BaseModel):
    _name = "product.packaging"
    _description = "Product Packaging"
    _order = "product_id, sequence, id"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "name": f.char("Product Packaging", required=True),
            "sequence": f.integer("Sequence", default=1),
            "product_id": f.many2one("product.product", "Product", index=True, ondelete="cascade"),
            "product_tmpl_id": f.many2one("product.template", "Product Template", index=True),
            "qty": f.floating("Contained Quantity", default=1.0),
            "barcode": f.char("Barcode", index=True),
            "sales": f.boolean("Sales", default=True),
        }

    def _prepare_create(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        product = env["product.product"].rows.get(vals.get("product_id") or 0)
        if product and not vals.get("product_tmpl_id"):
            vals["product_tmpl_id"] = product["product_tmpl_id"]
        return vals
