"""Base models: companies, currencies, partners, users, units of measure, the model catalogue."""

from __future__ import annotations

from typing import Any

from channelhub.sandbox.odoo import fields as f
from channelhub.sandbox.odoo.api import api_model
from channelhub.sandbox.odoo.errors import value_error
from channelhub.sandbox.odoo.fields import Field
from channelhub.sandbox.odoo.model import BaseModel
from channelhub.sandbox.odoo.orm import Env

ADMIN_UID = 2


def _company(env: Env) -> int:
    return 1


class ResCurrency(BaseModel):
    _name = "res.currency"
    _description = "Currency"
    _order = "active desc, name"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "name": f.char("Currency", required=True),
            "symbol": f.char("Symbol", required=True),
            "rounding": f.floating("Rounding Factor", default=0.01),
            "decimal_places": f.integer("Decimal Places", default=2),
            "position": f.selection(
                "Symbol Position", [("after", "After Amount"), ("before", "Before Amount")], default="after"
            ),
            "active": f.boolean("Active", default=True),
        }


class ResCountry(BaseModel):
    _name = "res.country"
    _description = "Country"
    _order = "name"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "name": f.char("Country Name", required=True),
            "code": f.char("Country Code", index=True),
            "phone_code": f.integer("Country Calling Code"),
        }


class ResCountryState(BaseModel):
    _name = "res.country.state"
    _description = "Country state"
    _order = "code"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "name": f.char("State Name", required=True),
            "code": f.char("State Code", required=True),
            "country_id": f.many2one("res.country", "Country", required=True, index=True),
        }


class ResCompany(BaseModel):
    _name = "res.company"
    _description = "Companies"
    _order = "sequence, name"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "name": f.char("Company Name", required=True),
            "sequence": f.integer("Sequence", default=10),
            "currency_id": f.many2one("res.currency", "Currency", required=True, default=lambda env: 1),
            "partner_id": f.many2one("res.partner", "Partner"),
            "active": f.boolean("Active", default=True),
        }


class ResPartner(BaseModel):
    _name = "res.partner"
    _description = "Contact"
    _mail_thread = True
    _order = "complete_name ASC, id DESC"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "name": f.char("Name", index=True),
            "complete_name": f.char("Complete Name", index=True),
            "is_company": f.boolean("Is a Company", default=False),
            "parent_id": f.many2one("res.partner", "Related Company", index=True),
            "child_ids": f.one2many("res.partner", "parent_id", "Contact"),
            "ref": f.char("Reference", index=True),
            "email": f.char("Email"),
            "phone": f.char("Phone"),
            "street": f.char("Street"),
            "street2": f.char("Street2"),
            "state_id": f.many2one("res.country.state", "State", ondelete="restrict"),
            "vat": f.char("Tax ID", index=True),
            "lang": f.char("Language", default="en_US"),
            "company_type": f.selection(
                "Company Type", [("person", "Individual"), ("company", "Company")], default="person"
            ),
            "city": f.char("City"),
            "zip": f.char("Zip"),
            "country_id": f.many2one("res.country", "Country", ondelete="restrict"),
            "country_code": f.char("Country Code", related="country_id.code"),
            "comment": f.Field("html", "Notes"),
            "company_id": f.many2one("res.company", "Company"),
            "customer_rank": f.integer("Customer Rank", default=0),
            "supplier_rank": f.integer("Supplier Rank", default=0),
            "property_product_pricelist": f.many2one("product.pricelist", "Pricelist"),
            "type": f.selection(
                "Address Type",
                [
                    ("contact", "Contact"),
                    ("invoice", "Invoice Address"),
                    ("delivery", "Delivery Address"),
                    ("other", "Other Address"),
                ],
                default="contact",
            ),
            "active": f.boolean("Active", default=True),
        }

    def _prepare_create(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        vals["complete_name"] = self._complete_name(vals.get("name"), vals.get("parent_id"))
        # company_type is Odoo's computed/inverse view of is_company: keep both in step
        if "company_type" in vals:
            vals["is_company"] = vals["company_type"] == "company"
        else:
            vals["company_type"] = "company" if vals.get("is_company") else "person"
        return vals

    def _check_write(self, env: Env, ids: list[int], vals: dict[str, Any]) -> None:
        if "company_type" in vals:
            vals["is_company"] = vals["company_type"] == "company"
        elif "is_company" in vals:
            vals["company_type"] = "company" if vals["is_company"] else "person"

    def _after_write(self, env: Env, ids: list[int], vals: dict[str, Any]) -> None:
        if "name" in vals or "parent_id" in vals:
            for rid in ids:
                row = self.rows[rid]
                self.update(
                    env, rid, {"complete_name": self._complete_name(row.get("name"), row.get("parent_id"))}
                )

    def _complete_name(self, name: Any, parent_id: Any) -> str:
        label = name or ""
        if parent_id and parent_id in self.rows:
            return f"{self.rows[parent_id].get('name') or ''}, {label}"
        return str(label)

    def display_names(self, env: Env, ids: Any) -> dict[int, str]:
        return {rid: str(self.rows[rid].get("complete_name") or "") for rid in ids if rid in self.rows}


class ResUsers(BaseModel):
    _name = "res.users"
    _description = "User"
    _order = "name, login"
    _inherits = {"res.partner": "partner_id"}

    def _define_fields(self) -> dict[str, Field]:
        return {
            "login": f.char("Login", required=True, index=True),
            "partner_id": f.many2one("res.partner", "Related Partner", required=True, ondelete="restrict"),
            "company_id": f.many2one("res.company", "Company", default=_company),
            "tz": f.char("Timezone", default="Europe/Brussels"),
            "lang": f.char("Language", default="en_US"),
            "share": f.boolean("Share User", default=False),
            "active": f.boolean("Active", default=True),
        }

    def display_names(self, env: Env, ids: Any) -> dict[int, str]:
        partners = env["res.partner"]
        return {
            rid: str(partners.rows.get(self.rows[rid]["partner_id"], {}).get("name") or "")
            for rid in ids
            if rid in self.rows
        }

    @api_model
    def context_get(self, env: Env) -> dict[str, Any]:
        user = self.rows.get(env.uid, {})
        return {"lang": user.get("lang") or "en_US", "tz": user.get("tz") or False, "uid": env.uid}


class UomCategory(BaseModel):
    _name = "uom.category"
    _description = "Product UoM Categories"

    def _define_fields(self) -> dict[str, Field]:
        return {"name": f.char("Unit of Measure Category", required=True)}


class UomUom(BaseModel):
    _name = "uom.uom"
    _description = "Product Unit of Measure"
    _order = "factor DESC, id"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "name": f.char("Unit of Measure", required=True),
            "category_id": f.many2one("uom.category", "Category", required=True),
            "factor": f.floating("Ratio", default=1.0),
            "rounding": f.floating("Rounding Precision", default=0.01),
            "uom_type": f.selection(
                "Type",
                [
                    ("bigger", "Bigger than the reference Unit of Measure"),
                    ("reference", "Reference Unit of Measure for this category"),
                    ("smaller", "Smaller than the reference Unit of Measure"),
                ],
                default="reference",
            ),
            "active": f.boolean("Active", default=True),
        }


class IrModelData(BaseModel):
    """External identifiers (``module.name``): ``odoorpc``'s ``env.ref`` resolves them here."""

    _name = "ir.model.data"
    _description = "Model Data"
    _order = "module, model, name"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "name": f.char("External Identifier", required=True, index=True),
            "module": f.char("Module", required=True),
            "model": f.char("Model Name", required=True),
            "res_id": f.integer("Record ID"),
            "noupdate": f.boolean("Non Updatable", default=False),
        }

    @api_model
    def check_object_reference(
        self, env: Env, module: str, xml_id: str, raise_on_access_error: bool = False
    ) -> list[Any]:
        for rid in self.indexes["name"].get(xml_id, ()):
            row = self.rows[rid]
            if row["module"] == module:
                return [row["model"], row["res_id"]]
        raise value_error(f"External ID not found in the system: {module}.{xml_id}")
