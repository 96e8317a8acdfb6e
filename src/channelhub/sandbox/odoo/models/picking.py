"""Transfers (``stock.picking``) and stock moves: confirm, reserve, validate, backorders.

Version differences: up to 16.0 a move's done quantity is ``quantity_done`` and validating a picking
with nothing done returns the ``stock.immediate.transfer`` wizard; from 17.0 the move has
``quantity`` (reserved, then done) and ``picked``, and validating with nothing picked picks
everything reserved. A quantity below demand returns the ``stock.backorder.confirmation`` wizard
unless the context says ``skip_backorder`` (``picking_ids_not_to_backorder`` drops the remainder).
"""

from __future__ import annotations

from typing import Any

from channelhub.sandbox.odoo import fields as f
from channelhub.sandbox.odoo.api import api_records, available, model_of
from channelhub.sandbox.odoo.domain import descendants
from channelhub.sandbox.odoo.errors import UserError
from channelhub.sandbox.odoo.fields import Field
from channelhub.sandbox.odoo.model import BaseModel
from channelhub.sandbox.odoo.models.move_lines import StockMoveLine
from channelhub.sandbox.odoo.models.stock import StockQuant
from channelhub.sandbox.odoo.orm import Env

PICKING_STATES = [
    ("draft", "Draft"),
    ("waiting", "Waiting Another Operation"),
    ("confirmed", "Waiting"),
    ("assigned", "Ready"),
    ("done", "Done"),
    ("cancel", "Cancelled"),
]
MOVE_STATES = [
    ("draft", "New"),
    ("waiting", "Waiting Another Move"),
    ("confirmed", "Waiting Availability"),
    ("partially_available", "Partially Available"),
    ("assigned", "Available"),
    ("done", "Done"),
    ("cancel", "Cancelled"),
]


def is_storable(env: Env, product_id: int) -> bool:
    product = env["product.product"].rows[product_id]
    template = env["product.template"].rows[product["product_tmpl_id"]]
    if env.version.storable_is_flag:
        return bool(template.get("is_storable")) and template.get("type") == "consu"
    return template.get("type") == "product"


def wizard_action(name: str, res_model: str, context: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "type": "ir.actions.act_window",
        "view_mode": "form",
        "res_model": res_model,
        "views": [[False, "form"]],
        "view_id": False,
        "target": "new",
        "context": context,
    }


class StockMove(BaseModel):
    _name = "stock.move"
    _description = "Stock Move"
    _order = "sequence, id"
    _rec_name = "name"

    def _define_fields(self) -> dict[str, Field]:
        fields: dict[str, Field] = {
            "name": f.char("Description", required=True, default=lambda env: "New"),
            "sequence": f.integer("Sequence", default=10),
            "reference": f.char("Reference", related="picking_id.name"),
            "product_id": f.many2one(
                "product.product", "Product", required=True, index=True, ondelete="restrict"
            ),
            "product_uom_qty": f.floating("Demand", required=True, default=1.0),
            "product_qty": f.floating("Real Quantity", compute="_compute_product_qty"),
            "product_uom": f.many2one("uom.uom", "UoM", default=lambda env: 1),
            "location_id": f.many2one("stock.location", "Source Location", required=True),
            "location_dest_id": f.many2one("stock.location", "Destination Location", required=True),
            "picking_id": f.many2one("stock.picking", "Transfer", index=True, ondelete="cascade"),
            "picking_type_id": f.many2one("stock.picking.type", "Operation Type"),
            "partner_id": f.many2one("res.partner", "Destination Address"),
            "state": f.selection("Status", MOVE_STATES, default="draft", readonly=True),
            "origin": f.char("Source Document"),
            "date": f.datetime_field("Date Scheduled", default=lambda env: env.now()),
            "sale_line_id": f.many2one("sale.order.line", "Sale Line", index=True),
            "move_line_ids": f.one2many("stock.move.line", "move_id", "Detailed Operations"),
            "origin_returned_move_id": f.many2one("stock.move", "Origin return move", index=True),
            "to_refund": f.boolean("Update quantities on SO/PO", default=False),
            "is_inventory": f.boolean("Inventory", default=False),
            "company_id": f.many2one("res.company", "Company", default=lambda env: 1),
        }
        if self.version.has_immediate_transfer:
            fields["quantity_done"] = f.floating("Quantity Done", default=0.0)
            fields["reserved_availability"] = f.floating("Quantity Reserved", compute="_compute_reserved")
            fields["forecast_availability"] = f.floating("Forecast Availability", compute="_compute_reserved")
        else:
            fields["quantity"] = f.floating("Quantity", default=0.0)
            fields["picked"] = f.boolean("Picked", default=False)
        return fields

    def _compute_product_qty(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        return {rid: self.rows[rid]["product_uom_qty"] for rid in ids}

    def _compute_reserved(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        return {rid: self.rows[rid].get("_reserved_qty", 0.0) for rid in ids}

    def done_quantity(self, env: Env, rid: int) -> float:
        row = self.rows[rid]
        if env.version.has_immediate_transfer:
            return float(row.get("quantity_done") or 0.0)
        lines = model_of(env, StockMoveLine)
        picked_lines = [lines.rows[lid] for lid in lines.lines_of(rid) if lines.rows[lid].get("picked")]
        if picked_lines and not row.get("picked"):  # 17+: only picked detailed operations are done
            return sum(float(line.get("quantity") or 0.0) for line in picked_lines)
        return float(row.get("quantity") or 0.0) if row.get("picked") else 0.0

    def is_picked(self, env: Env, rid: int) -> bool:
        lines = model_of(env, StockMoveLine)
        return bool(self.rows[rid].get("picked")) or any(
            lines.rows[lid].get("picked") for lid in lines.lines_of(rid)
        )

    # -- reservation ----------------------------------------------------------------------------
    def reserve(self, env: Env, rid: int) -> None:
        row = self.rows[rid]
        if row["state"] in ("done", "cancel", "draft"):
            return
        demand = row["product_uom_qty"]
        reserved = float(row.get("_reserved_qty") or 0.0)
        locations = env["stock.location"]
        source_usage = locations.rows[row["location_id"]]["usage"]
        reservations = dict(row.get("_reservations") or {})
        bypass = not is_storable(env, row["product_id"]) or source_usage not in ("internal", "transit")
        if bypass:
            reserved = demand  # consumables and moves from outside the warehouse bypass reservation
        else:
            quants = model_of(env, StockQuant)
            inside = descendants(locations, {row["location_id"]})
            candidates = sorted(
                (
                    qid
                    for qid in quants.indexes["product_id"].get(row["product_id"], ())
                    if quants.rows[qid]["location_id"] in inside
                ),
                key=lambda qid: (quants.rows[qid].get("in_date") or "", qid),
            )
            for qid in candidates:
                if reserved >= demand:
                    break
                quant = quants.rows[qid]
                available = (quant["quantity"] or 0.0) - (quant["reserved_quantity"] or 0.0)
                take = min(available, demand - reserved)
                if take <= 0:
                    continue
                quants.change(env, qid, {"reserved_quantity": quant["reserved_quantity"] + take})
                reservations[qid] = reservations.get(qid, 0.0) + take
                reserved += take
        state = "assigned" if reserved >= demand else "partially_available" if reserved > 0 else "confirmed"
        changes: dict[str, Any] = {"_reserved_qty": reserved, "_reservations": reservations, "state": state}
        if not env.version.has_immediate_transfer and not row.get("picked"):
            changes["quantity"] = reserved
        self.update(env, rid, changes)
        model_of(env, StockMoveLine).sync_reservation(
            env, self.rows[rid], reservations, demand if bypass else 0.0
        )

    def unreserve(self, env: Env, rid: int) -> None:
        row = self.rows[rid]
        quants = model_of(env, StockQuant)
        for qid, qty in (row.get("_reservations") or {}).items():
            if qid in quants.rows:
                quant = quants.rows[qid]
                quants.change(env, qid, {"reserved_quantity": max(0.0, quant["reserved_quantity"] - qty)})
        changes: dict[str, Any] = {"_reserved_qty": 0.0, "_reservations": {}}
        if row["state"] in ("assigned", "partially_available"):
            changes["state"] = "confirmed"
        if not env.version.has_immediate_transfer and not row.get("picked"):
            changes["quantity"] = 0.0
        self.update(env, rid, changes)
        model_of(env, StockMoveLine).drop_open_lines(env, rid)

    # -- moving stock ---------------------------------------------------------------------------
    def apply_done(self, env: Env, rid: int, quantity: float) -> None:
        """Move ``quantity`` from source to destination quants and mark the move done."""
        row = self.rows[rid]
        quants = model_of(env, StockQuant)
        product = row["product_id"]
        if is_storable(env, product):
            remaining = quantity
            for qid, qty in (row.get("_reservations") or {}).items():
                quant = quants.rows.get(qid)
                if quant is None:
                    continue
                take = min(qty, remaining)
                quants.change(env, qid, {
                    "quantity": quant["quantity"] - take,
                    "reserved_quantity": max(0.0, quant["reserved_quantity"] - qty),
                })  # fmt: skip
                remaining -= take
            if remaining > 0:
                quants.add_quantity(env, product, row["location_id"], -remaining)
            quants.add_quantity(env, product, row["location_dest_id"], quantity)
        changes: dict[str, Any] = {
            "state": "done",
            "_reservations": {},
            "_reserved_qty": 0.0,
            "date": env.now(),
            "write_date": env.now(),
        }
        if env.version.has_immediate_transfer:
            changes["quantity_done"] = quantity
        else:
            changes.update(quantity=quantity, picked=True)
        self.update(env, rid, changes)
        model_of(env, StockMoveLine).record_done(env, self.rows[rid], quantity)
        self.emit(env, "write", rid, ("state",))

    def record_done_move(
        self,
        env: Env,
        product_id: int,
        quantity: float,
        source: int,
        destination: int,
        name: str,
        *,
        is_inventory: bool = False,
    ) -> int:
        rid = self.create_record(env, {
            "name": name, "product_id": product_id, "product_uom_qty": quantity,
            "location_id": source, "location_dest_id": destination, "is_inventory": is_inventory, "state": "confirmed",
        })  # fmt: skip
        self.apply_done(env, rid, quantity)
        return rid

    def _check_write(self, env: Env, ids: list[int], vals: dict[str, Any]) -> None:
        for rid in ids:
            if self.rows[rid]["state"] == "done" and (
                {"product_uom_qty", "product_id", "quantity", "quantity_done"} & set(vals)
            ):
                raise UserError("You cannot change a done stock move. Unlock the transfer first.")


class StockPicking(BaseModel):
    _name = "stock.picking"
    _description = "Transfer"
    _mail_thread = True
    _order = "priority desc, scheduled_date asc, id desc"

    def _define_fields(self) -> dict[str, Field]:
        fields: dict[str, Field] = {
            "name": f.char("Reference", default=lambda env: "/", index=True),
            "origin": f.char("Source Document", index=True),
            "note": f.text("Notes"),
            "priority": f.selection("Priority", [("0", "Normal"), ("1", "Urgent")], default="0"),
            "partner_id": f.many2one("res.partner", "Contact"),
            "picking_type_id": f.many2one("stock.picking.type", "Operation Type", required=True),
            "picking_type_code": f.selection(
                "Type of Operation",
                [("incoming", "Receipt"), ("outgoing", "Delivery"), ("internal", "Internal Transfer")],
                related="picking_type_id.code",
            ),
            "location_id": f.many2one("stock.location", "Source Location", required=True),
            "location_dest_id": f.many2one("stock.location", "Destination Location", required=True),
            "state": f.selection("Status", PICKING_STATES, default="draft", readonly=True),
            "move_type": f.selection(
                "Shipping Policy",
                [("direct", "As soon as possible"), ("one", "When all products are ready")],
                default="direct",
            ),
            "scheduled_date": f.datetime_field("Scheduled Date", default=lambda env: env.now()),
            "date_done": f.datetime_field("Date of Transfer", readonly=True),
            "move_ids": f.one2many("stock.move", "picking_id", "Stock Moves"),
            "move_line_ids": f.one2many("stock.move.line", "picking_id", "Operations"),
            "move_ids_without_package": f.one2many("stock.move", "picking_id", "Stock Moves"),
            "backorder_id": f.many2one("stock.picking", "Back Order of", index=True),
            "backorder_ids": f.one2many("stock.picking", "backorder_id", "Back Orders"),
            "sale_id": f.many2one("sale.order", "Sales Order", index=True),
            "carrier_tracking_ref": f.char("Tracking Reference"),
            "company_id": f.many2one("res.company", "Company", default=lambda env: 1),
            "user_id": f.many2one("res.users", "Responsible", default=lambda env: env.uid),
        }
        if self.version.has_immediate_transfer:
            fields["immediate_transfer"] = f.boolean("Immediate Transfer", default=False)
        else:
            fields["return_id"] = f.many2one("stock.picking", "Return of", index=True)
            fields["return_ids"] = f.one2many("stock.picking", "return_id", "Returns")
        return fields

    def _prepare_create(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        types = env["stock.picking.type"]
        picking_type = types.rows.get(vals.get("picking_type_id") or 0)
        if picking_type:
            vals.setdefault("location_id", picking_type.get("default_location_src_id"))
            vals.setdefault("location_dest_id", picking_type.get("default_location_dest_id"))
            if vals.get("name") in (None, False, "/"):
                warehouse = env["stock.warehouse"].rows.get(picking_type.get("warehouse_id") or 0)
                prefix = f"{warehouse['code']}/" if warehouse else ""
                vals["name"] = env.registry.next_sequence(f"{prefix}{picking_type['sequence_code']}/")
        return vals

    def _after_create(self, env: Env, rid: int) -> None:
        row = self.rows[rid]
        moves = model_of(env, StockMove)
        for mid in moves.indexes["picking_id"].get(rid, set()):
            move = moves.rows[mid]
            moves.update(env, mid, {
                "picking_type_id": move.get("picking_type_id") or row["picking_type_id"],
                "origin": move.get("origin") or row.get("origin") or False,
                "partner_id": move.get("partner_id") or row.get("partner_id") or False,
            })  # fmt: skip

    def move_ids_of(self, env: Env, rid: int) -> list[int]:
        return sorted(model_of(env, StockMove).indexes["picking_id"].get(rid, ()))

    def recompute_state(self, env: Env, rid: int) -> None:
        moves = model_of(env, StockMove)
        states = [moves.rows[m]["state"] for m in self.move_ids_of(env, rid)]
        if not states:
            state = "draft"
        elif all(s == "cancel" for s in states):
            state = "cancel"
        elif all(s in ("done", "cancel") for s in states):
            state = "done"
        elif any(s == "draft" for s in states):
            state = "draft"
        else:
            live = [s for s in states if s not in ("done", "cancel")]
            if all(s == "assigned" for s in live) or (
                self.rows[rid].get("move_type") == "direct"
                and any(s in ("assigned", "partially_available") for s in live)
            ):
                state = "assigned"
            else:
                state = "confirmed"
        if self.rows[rid]["state"] != state:
            self.update(env, rid, {"state": state, "write_date": env.now()})
            self.emit(env, "write", rid, ("state",))

    @api_records
    def action_confirm(self, env: Env, ids: Any) -> bool:
        moves = model_of(env, StockMove)
        locations = env["stock.location"]
        for rid in self.existing(ids):
            for mid in self.move_ids_of(env, rid):
                if moves.rows[mid]["state"] == "draft":
                    moves.update(env, mid, {"state": "confirmed"})
            source_usage = locations.rows[self.rows[rid]["location_id"]]["usage"]
            picking_type = env["stock.picking.type"].rows[self.rows[rid]["picking_type_id"]]
            if (
                source_usage in ("supplier", "inventory", "production", "customer")
                or picking_type.get("reservation_method") == "at_confirm"
            ):
                for mid in self.move_ids_of(env, rid):
                    moves.reserve(env, mid)
            self.recompute_state(env, rid)
        return True

    @api_records
    def action_assign(self, env: Env, ids: Any) -> bool:
        moves = model_of(env, StockMove)
        for rid in self.existing(ids):
            if self.rows[rid]["state"] == "draft":
                self.action_confirm(env, [rid])
            for mid in self.move_ids_of(env, rid):
                moves.reserve(env, mid)
            self.recompute_state(env, rid)
        return True

    @api_records
    def do_unreserve(self, env: Env, ids: Any) -> bool:
        moves = model_of(env, StockMove)
        for rid in self.existing(ids):
            for mid in self.move_ids_of(env, rid):
                if moves.rows[mid]["state"] not in ("done", "cancel"):
                    moves.unreserve(env, mid)
            self.recompute_state(env, rid)
        return True

    @api_records
    def action_cancel(self, env: Env, ids: Any) -> bool:
        moves = model_of(env, StockMove)
        for rid in self.existing(ids):
            for mid in self.move_ids_of(env, rid):
                if moves.rows[mid]["state"] != "done":
                    moves.unreserve(env, mid)
                    moves.update(env, mid, {"state": "cancel"})
            self.recompute_state(env, rid)
        return True

    @available(lambda version: version.has_immediate_transfer)
    @api_records
    def action_set_quantities_to_reservation(self, env: Env, ids: Any) -> None:
        """<= 16.0 "Set quantities": done = reserved on every open move (answers None, like Odoo)."""
        moves = model_of(env, StockMove)
        for rid in self.existing(ids):
            for mid in self.move_ids_of(env, rid):
                move = moves.rows[mid]
                if move["state"] not in ("done", "cancel"):
                    moves.update(env, mid, {"quantity_done": move.get("_reserved_qty") or 0.0})
        return None

    @api_records
    def button_validate(self, env: Env, ids: Any) -> Any:
        from channelhub.sandbox.odoo.models import validation

        return validation.button_validate(self, env, self.existing(ids))

    def _check_unlink(self, env: Env, ids: list[int]) -> None:
        for rid in ids:
            if self.rows[rid]["state"] == "done":
                raise UserError("You cannot delete a done transfer.")
