"""Sales orders: quotation → confirmed order (reserves stock, creates the delivery) → cancel / lock.

Version differences: up to 16.0 a locked order is ``state='done'`` (``action_done``); from 17.0 the
state stays ``sale`` and the boolean ``locked`` is set (``action_lock``/``action_unlock``), and a
locked order cannot be cancelled. ``action_cancel`` on a confirmed order returns the
``sale.order.cancel`` wizard unless the context carries ``disable_cancel_warning``.
"""

from __future__ import annotations

from typing import Any

from channelhub.sandbox.odoo import fields as f
from channelhub.sandbox.odoo.api import api_records, available, model_of
from channelhub.sandbox.odoo.errors import UserError
from channelhub.sandbox.odoo.fields import Field
from channelhub.sandbox.odoo.model import BaseModel
from channelhub.sandbox.odoo.models.picking import StockMove, StockPicking, wizard_action
from channelhub.sandbox.odoo.models.priced_lines import PricedLine
from channelhub.sandbox.odoo.models.pricelist import pricelist_price
from channelhub.sandbox.odoo.orm import Env


def order_states(with_done: bool) -> list[tuple[str, str]]:
    states = [("draft", "Quotation"), ("sent", "Quotation Sent"), ("sale", "Sales Order")]
    if with_done:
        states.append(("done", "Locked"))
    states.append(("cancel", "Cancelled"))
    return states


class SaleOrder(BaseModel):
    _name = "sale.order"
    _description = "Sales Order"
    _mail_thread = True
    _order = "date_order desc, id desc"

    def _define_fields(self) -> dict[str, Field]:
        fields: dict[str, Field] = {
            "name": f.char("Order Reference", required=True, default=lambda env: "New", index=True),
            "state": f.selection(
                "Status", order_states(self.version.sale_has_done_state), default="draft", readonly=True
            ),
            "partner_id": f.many2one("res.partner", "Customer", required=True, index=True),
            "partner_invoice_id": f.many2one("res.partner", "Invoice Address"),
            "partner_shipping_id": f.many2one("res.partner", "Delivery Address"),
            "client_order_ref": f.char("Customer Reference", index=True),
            "origin": f.char("Source Document"),
            "date_order": f.datetime_field("Order Date", required=True, default=lambda env: env.now()),
            "commitment_date": f.datetime_field("Delivery Date"),
            "pricelist_id": f.many2one("product.pricelist", "Pricelist"),
            "currency_id": f.many2one("res.currency", "Currency", default=lambda env: 1),
            "warehouse_id": f.many2one("stock.warehouse", "Warehouse", default=_default_warehouse),
            "company_id": f.many2one("res.company", "Company", default=lambda env: 1),
            "user_id": f.many2one("res.users", "Salesperson", default=lambda env: env.uid),
            "note": f.text("Terms and conditions"),
            "team_id": f.many2one("crm.team", "Sales Team"),
            "tag_ids": f.many2many("crm.tag", "Tags"),
            "payment_term_id": f.many2one("account.payment.term", "Payment Terms"),
            "fiscal_position_id": f.many2one("account.fiscal.position", "Fiscal Position"),
            "validity_date": f.date_field("Expiration"),
            "require_signature": f.boolean("Online signature", default=False),
            "require_payment": f.boolean("Online payment", default=False),
            "order_line": f.one2many("sale.order.line", "order_id", "Order Lines"),
            "picking_ids": f.one2many("stock.picking", "sale_id", "Transfers"),
            "delivery_count": f.integer("Delivery Orders", compute="_compute_counts"),
            "invoice_ids": f.many2many("account.move", "Invoices", compute="_compute_invoices"),
            "invoice_count": f.integer("Invoice Count", compute="_compute_counts"),
            "invoice_status": f.selection(
                "Invoice Status",
                [
                    ("upselling", "Upselling Opportunity"),
                    ("invoiced", "Fully Invoiced"),
                    ("to invoice", "To Invoice"),
                    ("no", "Nothing to Invoice"),
                ],
                compute="_compute_invoice_status",
            ),
            "amount_untaxed": f.monetary("Untaxed Amount", compute="_compute_amounts"),
            "amount_tax": f.monetary("Taxes", compute="_compute_amounts"),
            "amount_total": f.monetary("Total", compute="_compute_amounts"),
        }
        if not self.version.sale_has_done_state:
            fields["locked"] = f.boolean("Locked", default=False)
        return fields

    def _prepare_create(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        if vals.get("name") in (None, False, "New", "/"):
            vals["name"] = env.registry.next_sequence("S")
        partner = vals.get("partner_id")
        if partner:
            vals.setdefault("partner_invoice_id", partner)
            vals.setdefault("partner_shipping_id", partner)
            if not vals.get("pricelist_id"):
                partner_row = env["res.partner"].rows.get(partner) or {}
                vals["pricelist_id"] = partner_row.get("property_product_pricelist") or _first_id(
                    env, "product.pricelist"
                )
        return vals

    def _lines(self, env: Env, rid: int) -> list[int]:
        return sorted(model_of(env, SaleOrderLine).indexes["order_id"].get(rid, ()))

    def _compute_amounts(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        lines = model_of(env, SaleOrderLine)
        result: dict[int, Any] = {}
        for rid in ids:
            untaxed = sum(lines.subtotal(lid) for lid in self._lines(env, rid))
            tax = sum(lines.tax_amount(env, lid) for lid in self._lines(env, rid))
            result[rid] = round({"amount_untaxed": untaxed, "amount_tax": tax}.get(name, untaxed + tax), 2)
        return result

    def _compute_counts(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        if name == "delivery_count":
            index = model_of(env, StockPicking).indexes["sale_id"]
            return {rid: len(index.get(rid, ())) for rid in ids}
        invoices = self._compute_invoices(env, ids, name)
        return {rid: len(invoices[rid]) for rid in ids}

    def _compute_invoices(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        invoice_lines = env["account.move.line"]
        result: dict[int, Any] = {}
        for rid in ids:
            line_ids = set(self._lines(env, rid))
            moves = {
                row["move_id"]
                for row in invoice_lines.rows.values()
                if line_ids.intersection(row.get("sale_line_ids") or ())
            }
            result[rid] = sorted(moves)
        return result

    def _compute_invoice_status(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        lines = model_of(env, SaleOrderLine)
        result: dict[int, Any] = {}
        for rid in ids:
            if self.rows[rid]["state"] not in ("sale", "done"):
                result[rid] = "no"
                continue
            to_invoice = lines.values_of(env, self._lines(env, rid), "qty_to_invoice")
            invoiced = lines.values_of(env, self._lines(env, rid), "qty_invoiced")
            if any(abs(q) > 1e-9 for q in to_invoice.values()):
                result[rid] = "to invoice"
            elif invoiced and all(q > 0 for q in invoiced.values()):
                result[rid] = "invoiced"
            else:
                result[rid] = "no"
        return result

    @api_records
    def action_confirm(self, env: Env, ids: Any) -> bool:
        order_ids = self.existing(ids)
        for rid in order_ids:
            if self.rows[rid]["state"] not in ("draft", "sent"):
                raise UserError("Some orders are not in a state requiring confirmation.")
        for rid in order_ids:
            self.update(env, rid, {"state": "sale", "date_order": env.now(), "write_date": env.now()})
            self.emit(env, "write", rid, ("state",))
            self._create_delivery(env, rid)
        return True

    def _create_delivery(self, env: Env, rid: int) -> None:
        """sale_stock: procurement → outgoing picking from the warehouse stock, reserved at once."""
        lines = model_of(env, SaleOrderLine)
        self.procure(env, rid, [(lid, lines.rows[lid]["product_uom_qty"]) for lid in self._lines(env, rid)])

    def procure(self, env: Env, rid: int, demands: list[tuple[int, float]]) -> None:
        """Deliver these (line, quantity) pairs: moves in the order's open delivery, or a new one."""
        order = self.rows[rid]
        lines = model_of(env, SaleOrderLine)
        products = env["product.product"]
        templates = env["product.template"]
        goods = [
            (lid, quantity) for lid, quantity in demands
            if quantity > 0 and lines.rows[lid].get("product_id")
            and templates.rows[products.rows[lines.rows[lid]["product_id"]]["product_tmpl_id"]].get("type") != "service"
        ]  # fmt: skip
        if not goods:
            return
        warehouse = env["stock.warehouse"].rows[
            order.get("warehouse_id") or _first_id(env, "stock.warehouse")
        ]
        picking_type = env["stock.picking.type"].rows[warehouse["out_type_id"]]
        customers = env.registry.xmlids["stock.stock_location_customers"]
        pickings = model_of(env, StockPicking)
        open_deliveries = [
            pid for pid in sorted(pickings.indexes["sale_id"].get(rid, ()))
            if pickings.rows[pid]["state"] not in ("done", "cancel") and pickings.rows[pid]["picking_type_id"] == picking_type["id"]
        ]  # fmt: skip
        if open_deliveries:
            picking_id = open_deliveries[0]
        else:
            picking_id = pickings.create_record(env, {
                "picking_type_id": picking_type["id"], "location_id": warehouse["lot_stock_id"],
                "location_dest_id": customers, "partner_id": order.get("partner_shipping_id") or order["partner_id"],
                "origin": order["name"], "sale_id": rid, "scheduled_date": order.get("commitment_date") or env.now(),
            })  # fmt: skip
        moves = model_of(env, StockMove)
        for lid, quantity in goods:
            line = lines.rows[lid]
            moves.create_record(env, {
                "name": line.get("name") or "/", "product_id": line["product_id"], "product_uom_qty": quantity,
                "location_id": warehouse["lot_stock_id"], "location_dest_id": customers, "picking_id": picking_id,
                "picking_type_id": picking_type["id"], "sale_line_id": lid, "origin": order["name"],
                "partner_id": order.get("partner_shipping_id") or order["partner_id"], "state": "confirmed",
            })  # fmt: skip
        pickings.action_confirm(env, [picking_id])

    @api_records
    def action_cancel(self, env: Env, ids: Any) -> Any:
        order_ids = self.existing(ids)
        if not env.context.get("disable_cancel_warning") and any(
            self.rows[r]["state"] != "draft" for r in order_ids
        ):
            return wizard_action(
                "Cancel Sales Order", "sale.order.cancel", {"default_order_id": order_ids[0]}
            )
        return self.cancel_orders(env, order_ids)

    def cancel_orders(self, env: Env, order_ids: list[int]) -> bool:
        for rid in order_ids:
            row = self.rows[rid]
            if row["state"] == "done" or row.get("locked"):
                raise UserError(
                    "You cannot cancel a locked order. Please unlock it first if you want to cancel it."
                )
        pickings = model_of(env, StockPicking)
        invoices = env["account.move"]
        for rid in order_ids:
            for pid in sorted(pickings.indexes["sale_id"].get(rid, ())):
                if pickings.rows[pid]["state"] not in ("done", "cancel"):
                    pickings.action_cancel(env, [pid])
            for mid in self._compute_invoices(env, [rid], "invoice_ids")[rid]:
                if invoices.rows[mid]["state"] == "draft":
                    invoices.update(env, mid, {"state": "cancel"})
            self.update(env, rid, {"state": "cancel", "write_date": env.now()})
            self.emit(env, "write", rid, ("state",))
        return True

    @api_records
    def action_draft(self, env: Env, ids: Any) -> bool:
        for rid in self.existing(ids):
            if self.rows[rid]["state"] == "cancel":
                self.update(env, rid, {"state": "draft", "write_date": env.now()})
                self.emit(env, "write", rid, ("state",))
        return True

    @available(lambda version: version.sale_has_done_state)
    @api_records
    def action_done(self, env: Env, ids: Any) -> bool:
        for rid in self.existing(ids):
            self.update(env, rid, {"state": "done", "write_date": env.now()})
        return True

    @api_records
    def action_lock(self, env: Env, ids: Any) -> bool:
        return self._set_locked(env, ids, True)

    @api_records
    def action_unlock(self, env: Env, ids: Any) -> bool:
        return self._set_locked(env, ids, False)

    def _set_locked(self, env: Env, ids: Any, locked: bool) -> bool:
        """<=16 locks through the 'done' state, 17+ through the ``locked`` flag."""
        if env.version.sale_has_done_state:
            changes: dict[str, Any] = {"state": "done" if locked else "sale"}
        else:
            changes = {"locked": locked}
        for rid in self.existing(ids):
            self.update(env, rid, {**changes, "write_date": env.now()})
        return True

    def _check_unlink(self, env: Env, ids: list[int]) -> None:
        for rid in ids:
            if self.rows[rid]["state"] not in ("draft", "cancel"):
                raise UserError(
                    "You can not delete a sent quotation or a confirmed sales order. You must first cancel it."
                )


def _default_warehouse(env: Env) -> Any:
    return _first_id(env, "stock.warehouse") or False


def _first_id(env: Env, model: str) -> int:
    rows = env[model].rows
    active = [rid for rid, row in rows.items() if row.get("active", True)]
    return min(active) if active else 0


class SaleOrderLine(PricedLine):
    _name = "sale.order.line"
    _description = "Sales Order Line"
    _order = "order_id, sequence, id"
    _quantity_field = "product_uom_qty"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "order_id": f.many2one(
                "sale.order", "Order Reference", required=True, index=True, ondelete="cascade"
            ),
            "sequence": f.integer("Sequence", default=10),
            "name": f.text("Description"),
            "product_id": f.many2one("product.product", "Product", index=True, ondelete="restrict"),
            "product_template_id": f.many2one(
                "product.template", "Product Template", related="product_id.product_tmpl_id"
            ),
            "product_uom_qty": f.floating("Quantity", default=1.0),
            "product_uom": f.many2one("uom.uom", "Unit of Measure", default=lambda env: 1),
            "price_unit": f.floating("Unit Price", default=0.0),
            "discount": f.floating("Discount (%)", default=0.0),
            "price_subtotal": f.monetary("Subtotal", compute="_compute_prices"),
            "price_total": f.monetary("Total", compute="_compute_prices"),
            "display_type": f.selection("Display Type", [("line_section", "Section"), ("line_note", "Note")]),
            # 19.0 renamed the line taxes field tax_id -> tax_ids
            self.version.tax_field: f.many2many("account.tax", "Taxes"),
            "customer_lead": f.floating("Lead Time", default=0.0),
            **(
                {
                    "product_packaging_id": f.many2one("product.packaging", "Packaging"),
                    "product_packaging_qty": f.floating("Packaging Quantity"),
                }
                if self.version.has_packaging
                else {}
            ),
            "state": f.selection(
                "Order Status", order_states(self.version.sale_has_done_state), related="order_id.state"
            ),
            "qty_delivered": f.floating("Delivery Quantity", compute="_compute_qty_delivered"),
            "qty_invoiced": f.floating("Invoiced Quantity", compute="_compute_qty_invoiced"),
            "qty_to_invoice": f.floating("Quantity To Invoice", compute="_compute_qty_to_invoice"),
            "move_ids": f.one2many("stock.move", "sale_line_id", "Stock Moves"),
            "invoice_lines": f.many2many(
                "account.move.line", "Invoice Lines", compute="_compute_invoice_lines"
            ),
            "company_id": f.many2one("res.company", "Company", related="order_id.company_id"),
        }

    def _prepare_create(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        order = model_of(env, SaleOrder).rows.get(vals.get("order_id") or 0)
        if (order and order["state"] in ("done", "cancel")) or (order and order.get("locked")):
            raise UserError("You cannot add lines to a locked or cancelled order.")
        product_id = vals.get("product_id")
        products = env["product.product"]
        if product_id and product_id in products.rows:
            if not vals.get("name"):
                vals["name"] = products.display_names(env, [product_id])[product_id]
            if "price_unit" not in vals or vals["price_unit"] is None:
                when = (order or {}).get("date_order") or env.now()
                pricelist = (order or {}).get("pricelist_id") or 0
                vals["price_unit"] = pricelist_price(
                    env, pricelist, product_id, float(vals.get("product_uom_qty") or 1.0), when
                )
        return vals

    def _after_create(self, env: Env, rid: int) -> None:
        order = env["sale.order"].rows[self.rows[rid]["order_id"]]
        if order["state"] == "sale":  # a line added to a confirmed order is delivered too
            model_of(env, SaleOrder).procure(env, order["id"], [(rid, self.rows[rid]["product_uom_qty"])])

    def _check_write(self, env: Env, ids: list[int], vals: dict[str, Any]) -> None:
        if "product_uom_qty" in vals:
            env.cache["ordered_before"] = {rid: self.rows[rid]["product_uom_qty"] for rid in ids}

    def _after_write(self, env: Env, ids: list[int], vals: dict[str, Any]) -> None:
        before = env.cache.pop("ordered_before", {})
        orders = model_of(env, SaleOrder)
        for rid in ids:
            increase = self.rows[rid]["product_uom_qty"] - before.get(rid, self.rows[rid]["product_uom_qty"])
            order_id = self.rows[rid]["order_id"]
            # Odoo procures an increase on a confirmed order; a decrease only warns in the UI
            if increase > 0 and orders.rows[order_id]["state"] == "sale":
                orders.procure(env, order_id, [(rid, increase)])

    def _tax_field(self, env: Env) -> str:
        return env.version.tax_field

    def _compute_qty_delivered(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        moves = model_of(env, StockMove)
        locations = env["stock.location"].rows
        result: dict[int, Any] = {}
        for rid in ids:
            total = 0.0
            for mid in moves.indexes["sale_line_id"].get(rid, ()):
                move = moves.rows[mid]
                if move["state"] != "done":
                    continue
                if locations[move["location_dest_id"]]["usage"] == "customer":
                    if not move.get("origin_returned_move_id") or move.get("to_refund"):
                        total += move["product_uom_qty"]
                elif locations[move["location_id"]]["usage"] == "customer" and move.get("to_refund"):
                    total -= move["product_uom_qty"]
            result[rid] = total
        return result

    def _compute_invoice_lines(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        invoice_lines = env["account.move.line"]
        wanted = set(ids)
        result: dict[int, list[int]] = {rid: [] for rid in ids}
        for lid, row in invoice_lines.rows.items():
            for sale_line in row.get("sale_line_ids") or ():
                if sale_line in wanted:
                    result[sale_line].append(lid)
        return result

    def _compute_qty_invoiced(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        invoice_lines = env["account.move.line"]
        invoices = env["account.move"].rows
        lines_of = self._compute_invoice_lines(env, ids, name)
        result: dict[int, Any] = {}
        for rid in ids:
            total = 0.0
            for lid in lines_of[rid]:
                line = invoice_lines.rows[lid]
                move = invoices[line["move_id"]]
                if move["state"] == "cancel":
                    continue
                sign = -1.0 if move["move_type"] == "out_refund" else 1.0
                total += sign * float(line.get("quantity") or 0.0)
            result[rid] = total
        return result

    def _compute_qty_to_invoice(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        orders = model_of(env, SaleOrder).rows
        products = env["product.product"].rows
        templates = env["product.template"].rows
        delivered = self._compute_qty_delivered(env, ids, name)
        invoiced = self._compute_qty_invoiced(env, ids, name)
        result: dict[int, Any] = {}
        for rid in ids:
            row = self.rows[rid]
            if orders[row["order_id"]]["state"] not in ("sale", "done") or not row.get("product_id"):
                result[rid] = 0.0
                continue
            policy = (
                templates[products[row["product_id"]]["product_tmpl_id"]].get("invoice_policy") or "order"
            )
            target = row["product_uom_qty"] if policy == "order" else delivered[rid]
            result[rid] = target - invoiced[rid]
        return result


class SaleOrderCancel(BaseModel):
    """The confirmation wizard ``action_cancel`` opens for confirmed orders."""

    _name = "sale.order.cancel"
    _description = "Sales Order Cancel"
    _transient = True

    def _define_fields(self) -> dict[str, Field]:
        return {
            "order_id": f.many2one("sale.order", "Sale Order", required=True, ondelete="cascade"),
            "display_invoice_alert": f.boolean("Invoice Alert", compute="_compute_display_invoice_alert"),
            "subject": f.char("Subject"),
            "body": f.text("Contents"),
        }

    @api_records
    def action_cancel(self, env: Env, ids: Any) -> bool:
        orders = model_of(env, SaleOrder)
        return orders.cancel_orders(env, [self.rows[w]["order_id"] for w in self.existing(ids)])

    def _compute_display_invoice_alert(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        orders = model_of(env, SaleOrder)
        invoices = env["account.move"].rows
        return {
            rid: any(
                invoices[m]["state"] == "draft"
                for m in orders._compute_invoices(env, [self.rows[rid]["order_id"]], name)[
                    self.rows[rid]["order_id"]
                ]
            )
            for rid in ids
        }

    @api_records
    def action_send_mail_and_cancel(self, env: Env, ids: Any) -> bool:
        return self.action_cancel(env, ids)
