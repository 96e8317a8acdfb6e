"""Customer invoices and credit notes (``account.move``), the reversal and invoicing wizards.

Version differences: the reversal wizard ``account.move.reversal`` has ``refund_method`` +
``reverse_moves()`` up to 16.0; 17.0 replaced it with ``refund_moves()`` / ``modify_moves()``
(``reverse_moves()`` remains). 18.0 renamed ``reversal_move_id`` to ``reversal_move_ids``.
"""

from __future__ import annotations

from typing import Any

from channelhub.sandbox.odoo import fields as f
from channelhub.sandbox.odoo.api import api_records, available, model_of
from channelhub.sandbox.odoo.errors import UserError
from channelhub.sandbox.odoo.fields import Field
from channelhub.sandbox.odoo.model import BaseModel
from channelhub.sandbox.odoo.models.priced_lines import PricedLine
from channelhub.sandbox.odoo.orm import Env

MOVE_TYPES = [
    ("entry", "Journal Entry"),
    ("out_invoice", "Customer Invoice"),
    ("out_refund", "Customer Credit Note"),
    ("in_invoice", "Vendor Bill"),
    ("in_refund", "Vendor Credit Note"),
    ("out_receipt", "Sales Receipt"),
    ("in_receipt", "Purchase Receipt"),
]
SEQUENCE_PREFIX = {
    "out_invoice": "INV",
    "out_refund": "RINV",
    "in_invoice": "BILL",
    "in_refund": "RBILL",
    "entry": "MISC",
}


class AccountJournal(BaseModel):
    _name = "account.journal"
    _description = "Journal"
    _order = "sequence, type, code"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "name": f.char("Journal Name", required=True),
            "code": f.char("Short Code", required=True),
            "type": f.selection(
                "Type",
                [
                    ("sale", "Sales"),
                    ("purchase", "Purchase"),
                    ("cash", "Cash"),
                    ("bank", "Bank"),
                    ("general", "Miscellaneous"),
                ],
                required=True,
            ),
            "sequence": f.integer("Sequence", default=10),
            "active": f.boolean("Active", default=True),
            "company_id": f.many2one("res.company", "Company", default=lambda env: 1),
        }


class AccountMove(BaseModel):
    _name = "account.move"
    _description = "Journal Entry"
    _mail_thread = True
    _order = "date desc, name desc, id desc"

    def _define_fields(self) -> dict[str, Field]:
        fields: dict[str, Field] = {
            "name": f.char("Number", default=lambda env: "/", index=True),
            "move_type": f.selection("Type", MOVE_TYPES, required=True, default="entry"),
            "state": f.selection(
                "Status",
                [("draft", "Draft"), ("posted", "Posted"), ("cancel", "Cancelled")],
                default="draft",
                required=True,
                readonly=True,
            ),
            "partner_id": f.many2one("res.partner", "Partner", index=True),
            "journal_id": f.many2one("account.journal", "Journal", required=True, default=lambda env: 1),
            "date": f.date_field("Date", required=True, default=lambda env: env.today()),
            "invoice_date": f.date_field("Invoice/Bill Date"),
            "invoice_date_due": f.date_field("Due Date"),
            "ref": f.char("Reference"),
            "invoice_origin": f.char("Origin"),
            "currency_id": f.many2one("res.currency", "Currency", default=lambda env: 1),
            "company_id": f.many2one("res.company", "Company", default=lambda env: 1),
            "invoice_line_ids": f.one2many("account.move.line", "move_id", "Invoice lines"),
            "line_ids": f.one2many("account.move.line", "move_id", "Journal Items"),
            "reversed_entry_id": f.many2one("account.move", "Reversal of", index=True),
            "payment_state": f.selection(
                "Payment Status",
                [
                    ("not_paid", "Not Paid"),
                    ("in_payment", "In Payment"),
                    ("paid", "Paid"),
                    ("partial", "Partially Paid"),
                    ("reversed", "Reversed"),
                ],
                default="not_paid",
            ),
            "amount_untaxed": f.monetary("Untaxed Amount", compute="_compute_amounts"),
            "amount_tax": f.monetary("Tax", compute="_compute_amounts"),
            "amount_total": f.monetary("Total", compute="_compute_amounts"),
            "amount_residual": f.monetary("Amount Due", compute="_compute_amounts"),
        }
        if self.version.major >= 18:
            fields["reversal_move_ids"] = f.one2many("account.move", "reversed_entry_id", "Reversal Moves")
        else:
            fields["reversal_move_id"] = f.one2many("account.move", "reversed_entry_id", "Reversal Move")
        return fields

    def display_names(self, env: Env, ids: Any) -> dict[int, str]:
        labels = {"out_invoice": "Draft Invoice", "out_refund": "Draft Credit Note"}
        names: dict[int, str] = {}
        for rid in ids:
            row = self.rows.get(rid)
            if row is None:
                continue
            name = row.get("name")
            names[rid] = (
                name if name and name != "/" else f"{labels.get(row['move_type'], 'Draft Entry')} ({rid})"
            )
        return names

    def _compute_amounts(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        lines = model_of(env, AccountMoveLine)
        result: dict[int, Any] = {}
        for rid in ids:
            line_ids = lines.indexes["move_id"].get(rid, ())
            untaxed = sum(lines.subtotal(lid) for lid in line_ids)
            tax = sum(lines.tax_amount(env, lid) for lid in line_ids)
            total = round(untaxed + tax, 2)
            if name == "amount_tax":
                result[rid] = round(tax, 2)
            elif name == "amount_untaxed":
                result[rid] = round(untaxed, 2)
            elif name == "amount_residual":
                result[rid] = (
                    total
                    if self.rows[rid]["state"] == "posted" and self.rows[rid].get("payment_state") != "paid"
                    else 0.0
                )
            else:
                result[rid] = total
        return result

    @api_records
    def action_post(self, env: Env, ids: Any) -> bool:
        for rid in self.existing(ids):
            row = self.rows[rid]
            if row["state"] != "draft":
                raise UserError("Only draft journal entries can be posted.")
            if not model_of(env, AccountMoveLine).indexes["move_id"].get(rid):
                raise UserError("You need to add a line before posting.")
            changes: dict[str, Any] = {"state": "posted", "write_date": env.now()}
            if not row.get("invoice_date") and row["move_type"] != "entry":
                changes["invoice_date"] = env.today()
            if row.get("name") in (None, False, "/"):
                prefix = SEQUENCE_PREFIX.get(row["move_type"], "MISC")
                changes["name"] = env.registry.next_sequence(f"{prefix}/{env.today()[:4]}/")
            self.update(env, rid, changes)
            self.emit(env, "write", rid, ("state", "name"))
        return True

    @api_records
    def button_draft(self, env: Env, ids: Any) -> bool:
        for rid in self.existing(ids):
            self.update(env, rid, {"state": "draft", "write_date": env.now()})
        return True

    @api_records
    def button_cancel(self, env: Env, ids: Any) -> bool:
        for rid in self.existing(ids):
            if self.rows[rid]["state"] == "posted":
                raise UserError("You cannot cancel a posted entry; reset it to draft first.")
            self.update(env, rid, {"state": "cancel", "write_date": env.now()})
        return True

    @api_records
    def action_reverse(self, env: Env, ids: Any) -> dict[str, Any]:
        move_ids = self.existing(ids)
        return {
            "name": "Reverse",
            "type": "ir.actions.act_window",
            "view_mode": "form",
            "res_model": "account.move.reversal",
            "target": "new",
            "context": {
                "active_ids": move_ids,
                "active_model": "account.move",
                "default_move_ids": [[6, 0, move_ids]],
            },
        }

    def reverse(self, env: Env, move_id: int, reason: str | None, date: str | None) -> int:
        row = self.rows[move_id]
        refund_type = {
            "out_invoice": "out_refund",
            "in_invoice": "in_refund",
            "out_refund": "out_invoice",
            "in_refund": "in_invoice",
        }.get(row["move_type"], "entry")
        lines = model_of(env, AccountMoveLine)
        commands: list[list[Any]] = []
        for lid in sorted(lines.indexes["move_id"].get(move_id, ())):
            line = lines.rows[lid]
            values = {
                name: line.get(name) for name in ("product_id", "name", "quantity", "price_unit", "discount")
            }
            values["sale_line_ids"] = [[6, 0, list(line.get("sale_line_ids") or [])]]
            values["tax_ids"] = [[6, 0, list(line.get("tax_ids") or [])]]
            commands.append([0, 0, values])
        label = row.get("name") or "/"
        return self.create_record(env, {
            "move_type": refund_type, "partner_id": row.get("partner_id") or False, "journal_id": row["journal_id"],
            "reversed_entry_id": move_id, "invoice_origin": row.get("invoice_origin") or False,
            "ref": f"Reversal of: {label}, {reason}" if reason else f"Reversal of: {label}",
            "date": date or env.today(), "invoice_line_ids": commands,
        })  # fmt: skip


class AccountMoveLine(PricedLine):
    _name = "account.move.line"
    _description = "Journal Item"
    _order = "move_id, sequence, id"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "move_id": f.many2one(
                "account.move", "Journal Entry", required=True, index=True, ondelete="cascade"
            ),
            "sequence": f.integer("Sequence", default=10),
            "name": f.char("Label"),
            "product_id": f.many2one("product.product", "Product", ondelete="restrict"),
            "quantity": f.floating("Quantity", default=1.0),
            "price_unit": f.floating("Unit Price", default=0.0),
            "discount": f.floating("Discount (%)", default=0.0),
            "price_subtotal": f.monetary("Subtotal", compute="_compute_prices"),
            "price_total": f.monetary("Total", compute="_compute_prices"),
            "sale_line_ids": f.many2many("sale.order.line", "Sales Order Lines"),
            "tax_ids": f.many2many("account.tax", "Taxes"),
            "display_type": f.selection(
                "Display Type",
                [("product", "Product"), ("line_section", "Section"), ("line_note", "Note")],
                default="product",
            ),
            "move_type": f.selection("Type", MOVE_TYPES, related="move_id.move_type"),
            "parent_state": f.selection(
                "Status",
                [("draft", "Draft"), ("posted", "Posted"), ("cancel", "Cancelled")],
                related="move_id.state",
            ),
        }


class AccountMoveReversal(BaseModel):
    _name = "account.move.reversal"
    _description = "Account Move Reversal"
    _transient = True

    def _define_fields(self) -> dict[str, Field]:
        fields: dict[str, Field] = {
            "move_ids": f.many2many("account.move", "Moves"),
            "reason": f.char("Reason"),
            "date": f.date_field("Reversal date", default=lambda env: env.today()),
            "journal_id": f.many2one("account.journal", "Use Specific Journal"),
            "new_move_ids": f.many2many("account.move", "New Moves"),
        }
        if self.version.has_refund_method:
            fields["refund_method"] = f.selection(
                "Credit Method",
                [
                    ("refund", "Partial Refund"),
                    ("cancel", "Full Refund"),
                    ("modify", "Full refund and new draft invoice"),
                ],
                default="refund",
            )
        return fields

    def _prepare_create(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        if not vals.get("move_ids") and env.context.get("active_model") == "account.move":
            vals["move_ids"] = [[6, 0, list(env.context.get("active_ids") or [])]]
        return vals

    def _reverse(self, env: Env, ids: Any) -> dict[str, Any]:
        moves = model_of(env, AccountMove)
        created: list[int] = []
        for wid in self.existing(ids):
            wizard = self.rows[wid]
            for move_id in wizard.get("move_ids") or []:
                created.append(
                    moves.reverse(env, move_id, wizard.get("reason") or None, wizard.get("date") or None)
                )
            self.update(env, wid, {"new_move_ids": list(created)})
        action: dict[str, Any] = {
            "name": "Reverse Moves",
            "type": "ir.actions.act_window",
            "res_model": "account.move",
        }
        if len(created) == 1:
            action.update(view_mode="form", res_id=created[0])
        else:
            action.update(
                view_mode="tree" if env.version.major <= 17 else "list,form", domain=[["id", "in", created]]
            )
        return action

    @api_records
    def reverse_moves(self, env: Env, ids: Any, is_modify: bool = False) -> dict[str, Any]:
        return self._reverse(env, ids)

    @available(lambda version: not version.has_refund_method)
    @api_records
    def refund_moves(self, env: Env, ids: Any) -> dict[str, Any]:
        return self._reverse(env, ids)


class SaleAdvancePaymentInv(BaseModel):
    """Invoice sales orders (``create_invoices``): what is to invoice, negative → a credit note."""

    _name = "sale.advance.payment.inv"
    _description = "Sales Advance Payment Invoice"
    _transient = True

    def _define_fields(self) -> dict[str, Field]:
        return {
            "advance_payment_method": f.selection(
                "Create Invoice",
                [
                    ("delivered", "Regular invoice"),
                    ("percentage", "Down payment (percentage)"),
                    ("fixed", "Down payment (fixed amount)"),
                ],
                default="delivered",
            ),
            "sale_order_ids": f.many2many("sale.order", "Sales Orders"),
        }

    def _prepare_create(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        if not vals.get("sale_order_ids") and env.context.get("active_model") == "sale.order":
            vals["sale_order_ids"] = [[6, 0, list(env.context.get("active_ids") or [])]]
        return vals

    @api_records
    def create_invoices(self, env: Env, ids: Any) -> dict[str, Any]:
        orders = env["sale.order"]
        lines = env["sale.order.line"]
        moves = model_of(env, AccountMove)
        created: list[int] = []
        for wid in self.existing(ids):
            for order_id in self.rows[wid].get("sale_order_ids") or []:
                order = orders.rows[order_id]
                line_ids = sorted(lines.indexes["order_id"].get(order_id, ()))
                to_invoice = lines.values_of(env, line_ids, "qty_to_invoice")
                pending = [(lid, qty) for lid, qty in to_invoice.items() if abs(qty) > 1e-9]
                if not pending:
                    raise UserError(
                        "There is no invoiceable line. If a product has a Delivered quantities invoicing policy, please make sure that a quantity has been delivered."
                    )
                total = sum(qty * lines.rows[lid]["price_unit"] for lid, qty in pending)
                sign = -1.0 if total < 0 else 1.0
                commands = [
                    [0, 0, {"product_id": lines.rows[lid]["product_id"], "name": lines.rows[lid].get("name") or "/", "quantity": sign * qty,
                            "price_unit": lines.rows[lid]["price_unit"], "discount": lines.rows[lid].get("discount") or 0.0, "sale_line_ids": [[6, 0, [lid]]],
                            "tax_ids": [[6, 0, list(lines.rows[lid].get(env.version.tax_field) or [])]]}]
                    for lid, qty in pending
                ]  # fmt: skip
                created.append(moves.create_record(env, {
                    "move_type": "out_refund" if sign < 0 else "out_invoice", "partner_id": order.get("partner_invoice_id") or order["partner_id"],
                    "invoice_origin": order["name"], "ref": order.get("client_order_ref") or False, "invoice_line_ids": commands,
                }))  # fmt: skip
        return {"name": "Invoices", "type": "ir.actions.act_window", "res_model": "account.move", "view_mode": "form" if len(created) == 1 else "list,form",
                **({"res_id": created[0]} if len(created) == 1 else {"domain": [["id", "in", created]]})}  # fmt: skip
