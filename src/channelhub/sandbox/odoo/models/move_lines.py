"""Detailed operations (``stock.move.line``): one line per reserved quant, as Odoo shows reservations.

Lines mirror the move's reservation (``reserved_uom_qty`` up to 16.0, ``quantity`` from 17.0) and,
once done, what moved from where. Writing the done quantity on lines (``qty_done`` up to 16.0,
``quantity``/``picked`` from 17.0) sets the move's done quantity, so callers may use either level.
"""

from __future__ import annotations

from typing import Any

from channelhub.sandbox.odoo import fields as f
from channelhub.sandbox.odoo.fields import Field
from channelhub.sandbox.odoo.model import BaseModel
from channelhub.sandbox.odoo.orm import Env


class StockMoveLine(BaseModel):
    _name = "stock.move.line"
    _description = "Product Moves (Stock Move Line)"
    _order = "result_package_id desc, id"
    _rec_name = "reference"

    def _define_fields(self) -> dict[str, Field]:
        fields: dict[str, Field] = {
            "move_id": f.many2one("stock.move", "Stock Operation", index=True, ondelete="cascade"),
            "picking_id": f.many2one("stock.picking", "Transfer", index=True),
            "product_id": f.many2one("product.product", "Product", required=True, ondelete="cascade"),
            "location_id": f.many2one("stock.location", "From", required=True),
            "location_dest_id": f.many2one("stock.location", "To", required=True),
            "reference": f.char("Reference", related="move_id.reference"),
            "state": f.selection("Status", [("draft", "New"), ("waiting", "Waiting Another Move"), ("confirmed", "Waiting Availability"), ("partially_available", "Partially Available"), ("assigned", "Available"), ("done", "Done"), ("cancel", "Cancelled")], related="move_id.state"),
            "lot_id": f.many2one("stock.lot", "Lot/Serial Number"),
            "package_id": f.many2one("stock.quant.package", "Source Package"),
            "result_package_id": f.many2one("stock.quant.package", "Destination Package"),
            "company_id": f.many2one("res.company", "Company", default=lambda env: 1),
            "date": f.datetime_field("Date", default=lambda env: env.now()),
        }  # fmt: skip
        if self.version.has_immediate_transfer:
            fields["reserved_uom_qty"] = f.floating("Reserved", default=0.0)
            fields["qty_done"] = f.floating("Quantity Done", default=0.0)
        else:
            fields["quantity"] = f.floating("Quantity", default=0.0)
            fields["picked"] = f.boolean("Picked", default=False)
        return fields

    @property
    def _reserved_field(self) -> str:
        return "reserved_uom_qty" if self.version.has_immediate_transfer else "quantity"

    def lines_of(self, move_id: int) -> list[int]:
        return sorted(self.indexes["move_id"].get(move_id, ()))

    def sync_reservation(
        self, env: Env, move: dict[str, Any], reservations: dict[int, float], bypass_quantity: float
    ) -> None:
        """Make the move's lines show its reservation: one line per quant (or one line when bypassed)."""
        quants = env["stock.quant"].rows
        wanted: dict[int, tuple[int, float]] = {}  # source location -> (quant or 0, quantity)
        for qid, quantity in reservations.items():
            location = quants[qid]["location_id"] if qid in quants else move["location_id"]
            previous = wanted.get(location, (qid, 0.0))[1]
            wanted[location] = (qid, previous + quantity)
        if bypass_quantity:
            wanted[move["location_id"]] = (0, bypass_quantity)
        reserved = self._reserved_field
        for lid in self.lines_of(move["id"]):
            line = self.rows[lid]
            if line["location_id"] in wanted:
                _, quantity = wanted.pop(line["location_id"])
                if line.get(reserved) != quantity:
                    self.update(env, lid, {reserved: quantity, "write_date": env.now()})
            elif not self._done_value(line):
                self.remove(env, lid)
        for location, (_, quantity) in wanted.items():
            self.create_record(env, {
                "move_id": move["id"], "picking_id": move.get("picking_id") or False, "product_id": move["product_id"],
                "location_id": location, "location_dest_id": move["location_dest_id"], reserved: quantity,
            })  # fmt: skip

    def _done_value(self, line: dict[str, Any]) -> float:
        if self.version.has_immediate_transfer:
            return float(line.get("qty_done") or 0.0)
        return float(line.get("quantity") or 0.0) if line.get("picked") else 0.0

    def record_done(self, env: Env, move: dict[str, Any], quantity: float) -> None:
        """After validation: lines carry what moved (reserved lines first, the rest from the source)."""
        remaining = quantity
        line_ids = self.lines_of(move["id"])
        reserved = self._reserved_field
        for lid in line_ids:
            line = self.rows[lid]
            take = min(float(line.get(reserved) or 0.0), remaining) if lid != line_ids[-1] else remaining
            remaining -= take
            self._set_done(env, lid, take)
        if not line_ids and quantity:
            lid = self.create_record(env, {
                "move_id": move["id"], "picking_id": move.get("picking_id") or False, "product_id": move["product_id"],
                "location_id": move["location_id"], "location_dest_id": move["location_dest_id"],
            })  # fmt: skip
            self._set_done(env, lid, quantity)

    def _set_done(self, env: Env, lid: int, quantity: float) -> None:
        if self.version.has_immediate_transfer:
            self.update(env, lid, {"qty_done": quantity, "reserved_uom_qty": 0.0, "write_date": env.now()})
        else:
            self.update(env, lid, {"quantity": quantity, "picked": True, "write_date": env.now()})

    def drop_open_lines(self, env: Env, move_id: int) -> None:
        for lid in self.lines_of(move_id):
            self.remove(env, lid)

    def _after_write(self, env: Env, ids: list[int], vals: dict[str, Any]) -> None:
        done_fields = {"qty_done"} if self.version.has_immediate_transfer else {"quantity", "picked"}
        if not done_fields & set(vals):
            return
        moves = env["stock.move"]
        for move_id in sorted({self.rows[lid]["move_id"] for lid in ids if self.rows[lid].get("move_id")}):
            lines = [self.rows[lid] for lid in self.lines_of(move_id)]
            if self.version.has_immediate_transfer:
                moves.update(
                    env, move_id, {"quantity_done": sum(float(x.get("qty_done") or 0.0) for x in lines)}
                )
            else:
                total = sum(float(x.get("quantity") or 0.0) for x in lines)
                moves.update(
                    env,
                    move_id,
                    {"quantity": total, "picked": bool(lines) and all(x.get("picked") for x in lines)},
                )
