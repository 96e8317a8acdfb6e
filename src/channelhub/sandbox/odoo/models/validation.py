"""Validating transfers: ``button_validate``, the immediate-transfer and backorder wizards, backorders."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from channelhub.sandbox.odoo import fields as f
from channelhub.sandbox.odoo.api import api_records, model_of
from channelhub.sandbox.odoo.errors import UserError
from channelhub.sandbox.odoo.fields import Field
from channelhub.sandbox.odoo.model import BaseModel
from channelhub.sandbox.odoo.models.picking import StockMove, StockPicking, wizard_action
from channelhub.sandbox.odoo.orm import Env

if TYPE_CHECKING:
    from channelhub.sandbox.odoo.models.picking import StockPicking

NOTHING_TO_VALIDATE = (
    "You cannot validate a transfer if no quantities are reserved nor done. "
    "To force the transfer, encode quantities."
)


def button_validate(pickings: StockPicking, env: Env, ids: list[int]) -> Any:
    moves = model_of(env, StockMove)
    todo = [rid for rid in ids if pickings.rows[rid]["state"] not in ("done", "cancel")]
    for rid in todo:
        if pickings.rows[rid]["state"] == "draft":
            pickings.action_confirm(env, [rid])
    context = {**env.context, "button_validate_picking_ids": ids}
    if env.version.has_immediate_transfer:
        if not env.context.get("skip_immediate"):
            immediate = [
                rid
                for rid in todo
                if not any(moves.done_quantity(env, m) for m in pickings.move_ids_of(env, rid))
            ]
            if immediate:
                return wizard_action(
                    "Immediate Transfer?",
                    "stock.immediate.transfer",
                    {
                        **context,
                        "default_show_transfers": False,
                        "default_pick_ids": [[4, rid] for rid in immediate],
                    },
                )
    else:
        for rid in todo:  # 17+: nothing picked means "pick everything reserved"
            move_ids = [
                m for m in pickings.move_ids_of(env, rid) if moves.rows[m]["state"] not in ("done", "cancel")
            ]
            if not any(moves.is_picked(env, m) for m in move_ids):
                for mid in move_ids:
                    moves.update(env, mid, {"picked": True})
    for rid in todo:
        if not any(moves.done_quantity(env, m) for m in pickings.move_ids_of(env, rid)):
            raise UserError(NOTHING_TO_VALIDATE)
    if not env.context.get("skip_backorder"):
        short = [rid for rid in todo if _has_shortfall(pickings, env, rid)]
        if short:
            return wizard_action(
                "Create Backorder?",
                "stock.backorder.confirmation",
                {**context, "default_show_transfers": False, "default_pick_ids": [[4, rid] for rid in short]},
            )
    no_backorder = set(env.context.get("picking_ids_not_to_backorder") or [])
    if env.context.get("cancel_backorder"):
        no_backorder |= set(todo)
    for rid in todo:
        done_picking(pickings, env, rid, create_backorder=rid not in no_backorder)
    return True


def _has_shortfall(pickings: StockPicking, env: Env, rid: int) -> bool:
    moves = model_of(env, StockMove)
    return any(
        moves.done_quantity(env, m) < moves.rows[m]["product_uom_qty"]
        for m in pickings.move_ids_of(env, rid)
        if moves.rows[m]["state"] not in ("done", "cancel")
    )


def done_picking(pickings: StockPicking, env: Env, rid: int, *, create_backorder: bool) -> int | None:
    """``_action_done``: move what is done, split the rest into a backorder or cancel it."""
    moves = model_of(env, StockMove)
    leftovers: list[tuple[int, float, bool]] = []  # (move, quantity, whole move?)
    for mid in pickings.move_ids_of(env, rid):
        row = moves.rows[mid]
        if row["state"] in ("done", "cancel"):
            continue
        done = moves.done_quantity(env, mid)
        demand = row["product_uom_qty"]
        if done <= 0:
            moves.unreserve(env, mid)
            leftovers.append((mid, demand, True))
            continue
        if done < demand:
            leftovers.append((mid, demand - done, False))
            moves.update(env, mid, {"product_uom_qty": done})
        moves.apply_done(env, mid, done)
    backorder_id: int | None = None
    if leftovers and create_backorder:
        picking = pickings.rows[rid]
        backorder_id = pickings.create_record(env, {
            "picking_type_id": picking["picking_type_id"], "location_id": picking["location_id"],
            "location_dest_id": picking["location_dest_id"], "partner_id": picking.get("partner_id") or False,
            "origin": picking.get("origin") or False, "backorder_id": rid, "sale_id": picking.get("sale_id") or False,
            "move_type": picking.get("move_type") or "direct",
        })  # fmt: skip
    for mid, quantity, whole in leftovers:
        if backorder_id is not None:
            if whole:
                reset: dict[str, Any] = {"picking_id": backorder_id, "state": "confirmed"}
                if env.version.has_immediate_transfer:
                    reset["quantity_done"] = 0.0
                else:
                    reset.update(quantity=0.0, picked=False)
                moves.update(env, mid, reset)
            else:
                _split_move(env, mid, quantity, backorder_id, "confirmed")
        elif whole:
            moves.update(env, mid, {"state": "cancel"})
        else:
            _split_move(env, mid, quantity, rid, "cancel")
    pickings.update(env, rid, {"date_done": env.now()})
    pickings.recompute_state(env, rid)
    if backorder_id is not None:
        pickings.action_assign(env, [backorder_id])
    return backorder_id


def _split_move(env: Env, mid: int, quantity: float, picking_id: int, state: str) -> int:
    moves = model_of(env, StockMove)
    row = moves.rows[mid]
    copied = {
        name: row.get(name, False)
        for name in ("name", "product_id", "location_id", "location_dest_id", "picking_type_id", "partner_id",
                     "origin", "sale_line_id", "origin_returned_move_id", "to_refund", "product_uom")
    }  # fmt: skip
    return moves.create_record(
        env, {**copied, "product_uom_qty": quantity, "picking_id": picking_id, "state": state}
    )


class _TransferWizard(BaseModel):
    """The wizards `button_validate` opens: both hold the pickings being validated."""

    _transient = True

    def _define_fields(self) -> dict[str, Field]:
        return {
            "pick_ids": f.many2many("stock.picking", "Pick"),
            "show_transfers": f.boolean("Show Transfers", default=False),
        }

    def _pickings(self, ids: Any) -> list[int]:
        return [pid for wid in self.existing(ids) for pid in self.rows[wid].get("pick_ids") or []]


class StockImmediateTransfer(_TransferWizard):
    """<= 16.0 only: "Immediate Transfer?" — process() sets done = reserved and validates."""

    _name = "stock.immediate.transfer"
    _description = "Immediate Transfer"

    @api_records
    def process(self, env: Env, ids: Any) -> Any:
        pickings = model_of(env, StockPicking)
        moves = model_of(env, StockMove)
        picking_ids = self._pickings(ids)
        for pid in picking_ids:
            if pickings.rows[pid]["state"] == "draft":
                pickings.action_confirm(env, [pid])
            for mid in pickings.move_ids_of(env, pid):
                move = moves.rows[mid]
                if move["state"] not in ("done", "cancel"):
                    moves.update(env, mid, {"quantity_done": move.get("_reserved_qty") or 0.0})
        return pickings.button_validate(env.with_context(skip_immediate=True), picking_ids)


class StockBackorderConfirmation(_TransferWizard):
    _name = "stock.backorder.confirmation"
    _description = "Backorder Confirmation"

    @api_records
    def process(self, env: Env, ids: Any) -> Any:
        pickings = model_of(env, StockPicking)
        return pickings.button_validate(env.with_context(skip_backorder=True), self._pickings(ids))

    @api_records
    def process_cancel_backorder(self, env: Env, ids: Any) -> Any:
        picking_ids = self._pickings(ids)
        pickings = model_of(env, StockPicking)
        context = {"skip_backorder": True, "picking_ids_not_to_backorder": picking_ids}
        return pickings.button_validate(env.with_context(**context), picking_ids)
