"""Reference data sale orders point at: taxes, payment terms, fiscal positions, sales teams, tags.

Connectors commonly set these on orders (``tax_id`` to force taxes, ``team_id`` per channel,
``payment_term_id``); they exist so such writes behave as in Odoo instead of failing.
"""

from __future__ import annotations

from channelhub.sandbox.odoo import fields as f
from channelhub.sandbox.odoo.fields import Field
from channelhub.sandbox.odoo.model import BaseModel


class AccountTax(BaseModel):
    _name = "account.tax"
    _description = "Tax"
    _order = "sequence,id"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "name": f.char("Tax Name", required=True),
            "sequence": f.integer("Sequence", default=1),
            "amount": f.floating("Amount", default=0.0),
            "amount_type": f.selection("Tax Computation", [("group", "Group of Taxes"), ("fixed", "Fixed"), ("percent", "Percentage of Price"), ("division", "Percentage of Price Tax Included")], default="percent"),
            "type_tax_use": f.selection("Tax Type", [("sale", "Sales"), ("purchase", "Purchases"), ("none", "None")], default="sale"),
            "price_include": f.boolean("Included in Price", default=False),
            "active": f.boolean("Active", default=True),
            "company_id": f.many2one("res.company", "Company", default=lambda env: 1),
        }  # fmt: skip


class AccountPaymentTerm(BaseModel):
    _name = "account.payment.term"
    _description = "Payment Terms"
    _order = "sequence, id"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "name": f.char("Payment Terms", required=True),
            "sequence": f.integer("Sequence", default=10),
            "active": f.boolean("Active", default=True),
        }


class AccountFiscalPosition(BaseModel):
    _name = "account.fiscal.position"
    _description = "Fiscal Position"
    _order = "sequence"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "name": f.char("Fiscal Position", required=True),
            "sequence": f.integer("Sequence", default=10),
            "active": f.boolean("Active", default=True),
        }


class CrmTeam(BaseModel):
    _name = "crm.team"
    _description = "Sales Team"
    _order = "sequence ASC, create_date DESC, id DESC"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "name": f.char("Sales Team", required=True),
            "sequence": f.integer("Sequence", default=10),
            "active": f.boolean("Active", default=True),
            "company_id": f.many2one("res.company", "Company"),
        }


class CrmTag(BaseModel):
    _name = "crm.tag"
    _description = "CRM Tag"

    def _define_fields(self) -> dict[str, Field]:
        return {"name": f.char("Tag Name", required=True), "color": f.integer("Color", default=0)}
