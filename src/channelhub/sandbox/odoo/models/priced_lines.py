"""What sales order lines and invoice lines share: the price of a line and its taxes."""

from __future__ import annotations

from typing import Any

from channelhub.sandbox.odoo.model import BaseModel
from channelhub.sandbox.odoo.orm import Env


class PricedLine(BaseModel):
    """A line with `price_unit`, `discount` and taxes; subclasses name their quantity and tax
    fields (they differ between `sale.order.line` and `account.move.line`)."""

    _quantity_field = "quantity"

    def _tax_field(self, env: Env) -> str:
        return "tax_ids"

    def subtotal(self, rid: int) -> float:
        row = self.rows[rid]
        return (
            float(row.get("price_unit") or 0.0)
            * float(row.get(self._quantity_field) or 0.0)
            * (1 - float(row.get("discount") or 0.0) / 100)
        )

    def tax_amount(self, env: Env, rid: int) -> float:
        """Taxes excluded from the price: percent taxes on the subtotal, fixed taxes per unit."""
        taxes = env["account.tax"].rows
        row = self.rows[rid]
        total = 0.0
        for tax_id in row.get(self._tax_field(env)) or []:
            tax = taxes.get(tax_id)
            if tax is None or tax.get("price_include"):
                continue
            if tax.get("amount_type") == "fixed":
                total += float(tax["amount"]) * float(row.get(self._quantity_field) or 0.0)
            else:
                total += self.subtotal(rid) * float(tax["amount"]) / 100
        return total

    def _compute_prices(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        if name == "price_total":
            return {rid: round(self.subtotal(rid) + self.tax_amount(env, rid), 2) for rid in ids}
        return {rid: round(self.subtotal(rid), 2) for rid in ids}
