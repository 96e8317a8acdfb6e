"""Return pickings via the ``stock.return.picking`` wizard.

Create it with context ``{"active_id": picking, "active_model": "stock.picking"}`` (or ``picking_id``);
its lines default to what was delivered and not yet returned (up to 17.0; from 18.0 lines start at
0 and ``action_create_returns_all`` returns everything). ``create_returns`` (<= 17.0) /
``action_create_returns`` (18.0+) create the return picking, confirmed and ready, and answer an
action whose ``res_id`` is that picking.
"""

from __future__ import annotations

from typing import Any

from channelhub.sandbox.odoo import fields as f
from channelhub.sandbox.odoo.api import api_records, available, model_of
from channelhub.sandbox.odoo.errors import UserError
from channelhub.sandbox.odoo.fields import Field
from channelhub.sandbox.odoo.model import BaseModel
from channelhub.sandbox.odoo.models.picking import StockMove, StockPicking
from channelhub.sandbox.odoo.orm import Env


class StockReturnPickingLine(BaseModel):
    _name = "stock.return.picking.line"
    _description = "Return Picking Line"
    _transient = True
    _rec_name = "product_id"

    def _define_fields(self) -> dict[str, Field]:
        fields: dict[str, Field] = {
            "wizard_id": f.many2one("stock.return.picking", "Wizard", index=True, ondelete="cascade"),
            "product_id": f.many2one("product.product", "Product", required=True),
            "quantity": f.floating("Quantity", default=0.0),
            "move_id": f.many2one("stock.move", "Move"),
            "uom_id": f.many2one("uom.uom", "Unit of Measure", default=lambda env: 1),
        }
        if self.version.major <= 17:
            fields["to_refund"] = f.boolean("Update quantities on SO/PO", default=True)
        return fields


def returnable_quantity(env: Env, move_id: int) -> float:
    moves = model_of(env, StockMove)
    returned: float = sum(
        moves.rows[m]["product_uom_qty"]
        for m in moves.indexes["origin_returned_move_id"].get(move_id, ())
        if moves.rows[m]["state"] != "cancel"
    )
    return max(0.0, float(moves.rows[move_id]["product_uom_qty"]) - returned)


class StockReturnPicking(BaseModel):
    _name = "stock.return.picking"
    _description = "Return Picking"
    _transient = True
    _rec_name = "picking_id"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "picking_id": f.many2one("stock.picking", "Picking"),
            "product_return_moves": f.one2many("stock.return.picking.line", "wizard_id", "Moves"),
            "location_id": f.many2one("stock.location", "Return Location"),
            "original_location_id": f.many2one("stock.location", "Original Location"),
        }

    def _prepare_create(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        if not vals.get("picking_id") and env.context.get("active_model") == "stock.picking":
            vals["picking_id"] = env.context.get("active_id") or False
        picking = model_of(env, StockPicking).rows.get(vals.get("picking_id") or 0)
        if picking is None:
            raise UserError("You may only return one picking at a time.")
        if picking["state"] != "done":
            raise UserError("You may only return Done pickings.")
        vals.setdefault("location_id", picking["location_id"])
        vals.setdefault("original_location_id", picking["location_id"])
        if not vals.get("product_return_moves"):
            moves = model_of(env, StockMove)
            lines = []
            for mid in model_of(env, StockPicking).move_ids_of(env, picking["id"]):
                if moves.rows[mid]["state"] != "done":
                    continue
                quantity = returnable_quantity(env, mid) if env.version.major <= 17 else 0.0
                lines.append(
                    [
                        0,
                        0,
                        {"product_id": moves.rows[mid]["product_id"], "quantity": quantity, "move_id": mid},
                    ]
                )
            vals["product_return_moves"] = lines
        return vals

    def _create_returns(self, env: Env, wizard_id: int) -> int:
        wizard = self.rows[wizard_id]
        pickings = model_of(env, StockPicking)
        moves = model_of(env, StockMove)
        line_model = env["stock.return.picking.line"]
        lines = [line_model.rows[lid] for lid in sorted(line_model.indexes["wizard_id"].get(wizard_id, ()))]
        wanted = [line for line in lines if (line.get("quantity") or 0.0) > 0]
        if not wanted:
            raise UserError("Please specify at least one non-zero quantity.")
        original = pickings.rows[wizard["picking_id"]]
        picking_type = env["stock.picking.type"].rows[original["picking_type_id"]]
        return_type = picking_type.get("return_picking_type_id") or original["picking_type_id"]
        values: dict[str, Any] = {
            "picking_type_id": return_type, "location_id": original["location_dest_id"],
            "location_dest_id": wizard.get("location_id") or original["location_id"],
            "origin": f"Return of {original['name']}", "partner_id": original.get("partner_id") or False,
            "sale_id": original.get("sale_id") or False,
        }  # fmt: skip
        if not env.version.has_immediate_transfer:
            values["return_id"] = original["id"]
        return_id = pickings.create_record(env, values)
        for line in wanted:
            move = moves.rows.get(line.get("move_id") or 0) or {}
            refund = line.get("to_refund", True)
            moves.create_record(env, {
                "name": move.get("name") or "/", "product_id": line["product_id"], "product_uom_qty": line["quantity"],
                "location_id": original["location_dest_id"], "location_dest_id": values["location_dest_id"],
                "picking_id": return_id, "origin_returned_move_id": move.get("id") or False, "to_refund": bool(refund),
                "sale_line_id": (move.get("sale_line_id") or False) if refund else False,
            })  # fmt: skip
        pickings.action_confirm(env, [return_id])
        pickings.action_assign(env, [return_id])
        return return_id

    def _action(self, env: Env, return_id: int) -> dict[str, Any]:
        return {
            "name": "Returned Picking",
            "view_mode": "form,tree,calendar" if env.version.major <= 16 else "form",
            "res_model": "stock.picking",
            "res_id": return_id,
            "type": "ir.actions.act_window",
            "context": dict(env.context),
        }

    @available(lambda version: version.major <= 17)
    @api_records
    def create_returns(self, env: Env, ids: Any) -> dict[str, Any]:
        return self._action(env, self._create_returns(env, self.existing(ids)[0]))

    @available(lambda version: version.major >= 18)
    @api_records
    def action_create_returns(self, env: Env, ids: Any) -> dict[str, Any]:
        return self._action(env, self._create_returns(env, self.existing(ids)[0]))

    @available(lambda version: version.major >= 18)
    @api_records
    def action_create_returns_all(self, env: Env, ids: Any) -> dict[str, Any]:
        wizard_id = self.existing(ids)[0]
        line_model = env["stock.return.picking.line"]
        for lid in line_model.indexes["wizard_id"].get(wizard_id, ()):
            move_id = line_model.rows[lid].get("move_id")
            if move_id:
                line_model.update(env, lid, {"quantity": returnable_quantity(env, move_id)})
        return self._action(env, self._create_returns(env, wizard_id))
