"""Retail behaviour of the Odoo emulator per version: stock, deliveries, backorders, returns, prices, invoices."""

from __future__ import annotations

from typing import Any

import pytest

from channelhub.sandbox.odoo.database import OdooDatabase
from channelhub.sandbox.odoo.errors import PythonError, UserError
from channelhub.sandbox.odoo.orm import Env

VERSIONS = ("16.0", "17.0", "18.0", "19.0")


def storable(version: str) -> dict[str, Any]:
    return {"type": "consu", "is_storable": True} if version >= "18" else {"type": "product"}


def stocked_product(env: Env, version: str, quantity: float, location: int | None = None) -> int:
    [pid] = env["product.product"].create(
        env, {"name": "Lamp", "default_code": "LAMP", "list_price": 40.0, **storable(version)}
    )
    quants = env["stock.quant"]
    where = location or env["stock.warehouse"].rows[1]["lot_stock_id"]
    [qid] = quants.create(env, {"product_id": pid, "location_id": where, "inventory_quantity": quantity})
    quants.action_apply_inventory(env, [qid])
    return pid


def quantities(env: Env, pid: int, **context: Any) -> dict[str, float]:
    scoped = env.with_context(**context) if context else env
    [row] = env["product.product"].read(
        scoped, [pid], ["qty_available", "free_qty", "virtual_available", "outgoing_qty"]
    )
    return {k: v for k, v in row.items() if k != "id"}


def levels(*, on_hand: float, free: float, virtual: float, outgoing: float) -> dict[str, float]:
    """What `quantities` should read, in the retailer's words."""
    return {
        "qty_available": on_hand,
        "free_qty": free,
        "virtual_available": virtual,
        "outgoing_qty": outgoing,
    }


def confirmed_order(env: Env, pid: int, quantity: float) -> tuple[int, int]:
    orders = env["sale.order"]
    [order] = orders.create(
        env,
        {
            "partner_id": 3,
            "client_order_ref": "shop:1",
            "order_line": [(0, 0, {"product_id": pid, "product_uom_qty": quantity})],
        },
    )
    orders.action_confirm(env, [order])
    [picking] = orders.values_of(env, [order], "picking_ids")[order]
    return order, picking


def run_wizard(env: Env, action: dict[str, Any], method: str) -> Any:
    scoped = env.with_context(**action["context"])
    [wizard] = env[action["res_model"]].create(scoped, {})
    return getattr(env[action["res_model"]], method)(scoped, [wizard])


@pytest.mark.parametrize("version", VERSIONS)
def test_product_type_fields_follow_the_version(version: str) -> None:
    db = OdooDatabase(version)
    fields = db.model("product.template").fields
    options = {key for key, _ in fields["type"].selection or []}
    if version >= "18":
        assert "is_storable" in fields and "product" not in options
    else:
        assert "is_storable" not in fields and "product" in options and "detailed_type" in fields


@pytest.mark.parametrize("version", VERSIONS)
def test_confirm_reserves_and_validation_moves_stock(version: str) -> None:
    db = OdooDatabase(version)
    with db.env() as env:
        pid = stocked_product(env, version, 10)
        assert quantities(env, pid) == levels(on_hand=10, free=10, virtual=10, outgoing=0)
        order, picking = confirmed_order(env, pid, 4)
        assert quantities(env, pid) == levels(on_hand=10, free=6, virtual=6, outgoing=4)
        pickings = env["stock.picking"]
        assert pickings.rows[picking]["state"] == "assigned"
        result = pickings.button_validate(env, [picking])
        if version == "16.0":
            assert result["res_model"] == "stock.immediate.transfer"
            result = run_wizard(env, result, "process")
        assert result is True
        assert pickings.rows[picking]["state"] == "done"
        assert quantities(env, pid) == levels(on_hand=6, free=6, virtual=6, outgoing=0)
        [line] = env["sale.order"].values_of(env, [order], "order_line")[order]
        assert env["sale.order.line"].values_of(env, [line], "qty_delivered")[line] == 4


def set_done_quantity(env: Env, picking: int, quantity: float) -> None:
    moves = env["stock.move"]
    for mid in env["stock.picking"].move_ids_of(env, picking):
        vals = (
            {"quantity_done": quantity} if env.version.major <= 16 else {"quantity": quantity, "picked": True}
        )
        moves.write(env, [mid], vals)


@pytest.mark.parametrize("version", VERSIONS)
def test_partial_delivery_backorder_wizard(version: str) -> None:
    db = OdooDatabase(version)
    with db.env() as env:
        pid = stocked_product(env, version, 10)
        _, picking = confirmed_order(env, pid, 5)
        set_done_quantity(env, picking, 2)
        action = env["stock.picking"].button_validate(env, [picking])
        assert action["res_model"] == "stock.backorder.confirmation"
        assert run_wizard(env, action, "process") is True
        [backorder] = env["stock.picking"].values_of(env, [picking], "backorder_ids")[picking]
        [move] = env["stock.picking"].move_ids_of(env, backorder)
        assert env["stock.move"].rows[move]["product_uom_qty"] == 3
        assert env["stock.picking"].rows[backorder]["state"] == "assigned"
        assert quantities(env, pid) == levels(on_hand=8, free=5, virtual=5, outgoing=3)


@pytest.mark.parametrize("version", ["16.0", "18.0"])
def test_skip_backorder_context_without_backorder(version: str) -> None:
    db = OdooDatabase(version)
    with db.env() as env:
        pid = stocked_product(env, version, 10)
        _, picking = confirmed_order(env, pid, 5)
        set_done_quantity(env, picking, 2)
        scoped = env.with_context(skip_backorder=True, picking_ids_not_to_backorder=[picking])
        assert env["stock.picking"].button_validate(scoped, [picking]) is True
        assert env["stock.picking"].values_of(env, [picking], "backorder_ids")[picking] == []
        assert quantities(env, pid) == levels(on_hand=8, free=8, virtual=8, outgoing=0)


@pytest.mark.parametrize("version", ["17.0", "18.0"])
def test_warehouse_context_key_per_version(version: str) -> None:
    db = OdooDatabase(version)
    with db.env() as env:
        other = env["stock.warehouse"].create_record(env, {"name": "Second", "code": "WH2"})
        pid = stocked_product(env, version, 7, location=env["stock.warehouse"].rows[other]["lot_stock_id"])
        assert quantities(env, pid)["qty_available"] == 7
        assert quantities(env, pid, warehouse_id=1)["qty_available"] == (0 if version >= "18" else 7)
        assert quantities(env, pid, warehouse=1)["qty_available"] == (7 if version >= "18" else 0)
        assert quantities(env, pid, location="WH2")["qty_available"] == 7


@pytest.mark.parametrize("version", VERSIONS)
def test_return_picking_and_credit_note(version: str) -> None:
    db = OdooDatabase(version)
    with db.env() as env:
        pid = stocked_product(env, version, 10)
        order, picking = confirmed_order(env, pid, 3)
        set_done_quantity(env, picking, 3)
        assert env["stock.picking"].button_validate(env, [picking]) is True
        wizard_env = env.with_context(active_id=picking, active_model="stock.picking")
        returns = env["stock.return.picking"]
        [wizard] = returns.create(wizard_env, {})
        lines = returns.values_of(env, [wizard], "product_return_moves")[wizard]
        env["stock.return.picking.line"].write(env, lines, {"quantity": 1})
        with pytest.raises(PythonError, match=r"does not exist|has no attribute"):
            returns.rpc_method("create_returns" if version >= "18" else "action_create_returns")
        action = getattr(returns, env.version.return_method)(wizard_env, [wizard])
        returned = action["res_id"]
        set_done_quantity(env, returned, 1)
        assert env["stock.picking"].button_validate(env, [returned]) is True
        assert quantities(env, pid)["qty_available"] == 8
        [line] = env["sale.order"].values_of(env, [order], "order_line")[order]
        assert env["sale.order.line"].values_of(env, [line], "qty_delivered")[line] == 2
        invoicing = env.with_context(active_model="sale.order", active_ids=[order])
        [wizard] = env["sale.advance.payment.inv"].create(invoicing, {})
        invoice = env["sale.advance.payment.inv"].create_invoices(invoicing, [wizard])["res_id"]
        moves = env["account.move"]
        moves.action_post(env, [invoice])
        reversal_env = env.with_context(active_model="account.move", active_ids=[invoice])
        [reversal] = env["account.move.reversal"].create(reversal_env, {"reason": "returned"})
        method = "reverse_moves" if version == "16.0" else "refund_moves"
        refund = getattr(env["account.move.reversal"], method)(env, [reversal])["res_id"]
        assert moves.rows[refund]["move_type"] == "out_refund"
        assert moves.rows[refund]["reversed_entry_id"] == invoice
        assert (
            moves.values_of(env, [refund], "amount_total")[refund]
            == moves.values_of(env, [invoice], "amount_total")[invoice]
        )


@pytest.mark.parametrize("version", ["16.0", "17.0"])
def test_cancel_wizard_and_locked_orders(version: str) -> None:
    db = OdooDatabase(version)
    with db.env() as env:
        pid = stocked_product(env, version, 10)
        orders = env["sale.order"]
        order, picking = confirmed_order(env, pid, 4)
        action = orders.action_cancel(env, [order])
        assert action["res_model"] == "sale.order.cancel"
        assert orders.rows[order]["state"] == "sale"
        orders.action_lock(env, [order])
        assert (orders.rows[order]["state"], orders.rows[order].get("locked", False)) == (
            ("done", False) if version == "16.0" else ("sale", True)
        )
        with pytest.raises(UserError, match="locked order"):
            orders.action_cancel(env.with_context(disable_cancel_warning=True), [order])
        orders.action_unlock(env, [order])
        assert orders.action_cancel(env.with_context(disable_cancel_warning=True), [order]) is True
        assert env["stock.picking"].rows[picking]["state"] == "cancel"
        assert quantities(env, pid)["free_qty"] == 10


def test_pricelist_rules_windows_and_minimum_quantities() -> None:
    db = OdooDatabase("17.0")
    with db.env() as env:
        [pid] = env["product.product"].create(env, {"name": "Mug", "list_price": 10.0})
        pricelists = env["product.pricelist"]
        [pricelist] = pricelists.create(env, {"name": "Shop", "item_ids": [
            (0, 0, {"applied_on": "0_product_variant", "product_id": pid, "fixed_price": 8.0, "min_quantity": 10}),
            (0, 0, {"applied_on": "0_product_variant", "product_id": pid, "fixed_price": 7.0, "date_start": "2000-01-01 00:00:00", "date_end": "2000-12-31 23:59:59"}),
            (0, 0, {"applied_on": "3_global", "compute_price": "percentage", "percent_price": 10.0}),
        ]})  # fmt: skip
        [partner] = env["res.partner"].create(env, {"name": "Buyer", "property_product_pricelist": pricelist})
        [order] = env["sale.order"].create(env, {"partner_id": partner, "order_line": [
            (0, 0, {"product_id": pid, "product_uom_qty": 1}), (0, 0, {"product_id": pid, "product_uom_qty": 12}),
            (0, 0, {"product_id": pid, "product_uom_qty": 1, "price_unit": 5.5}),
        ]})  # fmt: skip
        lines = env["sale.order"].values_of(env, [order], "order_line")[order]
        prices = [env["sale.order.line"].rows[line]["price_unit"] for line in lines]
        assert prices == [9.0, 8.0, 5.5]
        with pytest.raises(Exception, match="start date"):
            env["product.pricelist.item"].create(
                env, {"pricelist_id": pricelist, "date_start": "2001-01-02", "date_end": "2001-01-01"}
            )


@pytest.mark.parametrize("version", ["16.0", "17.0"])
def test_move_lines_show_reservations_and_carry_done_quantities(version: str) -> None:
    db = OdooDatabase(version)
    with db.env() as env:
        warehouse = env["stock.warehouse"].rows[1]
        shelf = env["stock.location"].create_record(
            env, {"name": "Shelf", "location_id": warehouse["lot_stock_id"]}
        )
        pid = stocked_product(env, version, 2)
        more = env["stock.quant"].create(
            env, {"product_id": pid, "location_id": shelf, "inventory_quantity": 5}
        )
        env["stock.quant"].action_apply_inventory(env, more)
        _, picking = confirmed_order(env, pid, 4)
        lines = env["stock.move.line"]
        line_ids = env["stock.picking"].values_of(env, [picking], "move_line_ids")[picking]
        reserved = "reserved_uom_qty" if version == "16.0" else "quantity"
        shown = sorted(
            (r["location_id"][1], r[reserved]) for r in lines.read(env, line_ids, ["location_id", reserved])
        )
        assert shown == [("WH/Stock", 2.0), ("WH/Stock/Shelf", 2.0)]
        done = {"qty_done": 1} if version == "16.0" else {"quantity": 1, "picked": True}
        lines.write(env, line_ids[:1], done)
        action = env["stock.picking"].button_validate(
            env.with_context(skip_backorder=True, picking_ids_not_to_backorder=[picking]), [picking]
        )
        assert action is True
        assert quantities(env, pid) == levels(on_hand=6, free=6, virtual=6, outgoing=0)


def test_changes_to_a_confirmed_order_are_delivered() -> None:
    db = OdooDatabase("17.0")
    with db.env() as env:
        pid = stocked_product(env, "17.0", 20)
        order, picking = confirmed_order(env, pid, 2)
        [line] = env["sale.order"].values_of(env, [order], "order_line")[order]
        env["sale.order.line"].write(env, [line], {"product_uom_qty": 5})
        env["sale.order"].write(
            env, [order], {"order_line": [(0, 0, {"product_id": pid, "product_uom_qty": 1})]}
        )
        moves = env["stock.move"]
        demands = sorted(
            moves.rows[m]["product_uom_qty"] for m in env["stock.picking"].move_ids_of(env, picking)
        )
        assert demands == [1, 2, 3]
        assert env["sale.order"].values_of(env, [order], "picking_ids")[order] == [picking]
        assert quantities(env, pid)["free_qty"] == 14


@pytest.mark.parametrize("version", ["18.0", "19.0"])
def test_order_taxes_teams_and_terms(version: str) -> None:
    db = OdooDatabase(version)
    with db.env() as env:
        [pid] = env["product.product"].create(env, {"name": "Pen", "list_price": 10.0})
        [tax] = env["account.tax"].search(env, [("amount", "=", 15.0)])
        [team] = env["crm.team"].search(env, [("name", "=", "Website")])
        [term] = env["account.payment.term"].search(env, [("name", "=", "30 Days")])
        field = "tax_id" if version == "18.0" else "tax_ids"
        [order] = env["sale.order"].create(env, {
            "partner_id": 3, "team_id": team, "payment_term_id": term,
            "order_line": [(0, 0, {"product_id": pid, "product_uom_qty": 2, field: [(6, 0, [tax])]})],
        })  # fmt: skip
        [row] = env["sale.order"].read(
            env, [order], ["amount_untaxed", "amount_tax", "amount_total", "team_id"]
        )
        assert (row["amount_untaxed"], row["amount_tax"], row["amount_total"]) == (20.0, 3.0, 23.0)
        assert row["team_id"] == [team, "Website"]
        with pytest.raises(PythonError, match="Invalid field"):
            env["sale.order.line"].create(
                env,
                {"order_id": order, "product_id": pid, ("tax_ids" if version == "18.0" else "tax_id"): []},
            )


def test_quant_inventory_mode_rules_and_auto_apply() -> None:
    db = OdooDatabase("17.0")
    with db.env() as env:
        pid = stocked_product(env, "17.0", 4)
        quants = env["stock.quant"]
        stock = env["stock.warehouse"].rows[1]["lot_stock_id"]
        counting = env.with_context(inventory_mode=True)
        [qid] = quants.create(
            counting, {"product_id": pid, "location_id": stock, "inventory_quantity_auto_apply": 11}
        )
        assert quantities(env, pid)["qty_available"] == 11
        assert quants.search(env, [("product_id", "=", pid), ("location_id", "=", stock)]) == [qid]
        with pytest.raises(UserError, match="Quant's editing is restricted"):
            quants.write(counting, [qid], {"quantity": 3})
        with pytest.raises(UserError, match="Quant's creation is restricted"):
            quants.create(
                counting, {"product_id": pid, "location_id": stock, "inventory_quantity": 1, "quantity": 1}
            )
        moves = env["stock.move"].search_read(
            env, [("product_id", "=", pid), ("is_inventory", "=", True)], ["product_uom_qty"]
        )
        assert sorted(m["product_uom_qty"] for m in moves) == [4.0, 7.0]


@pytest.mark.parametrize("version", ["16.0", "19.0"])
def test_backorder_wizard_no_backorder_button(version: str) -> None:
    db = OdooDatabase(version)
    with db.env() as env:
        pid = stocked_product(env, version, 10)
        _, picking = confirmed_order(env, pid, 5)
        set_done_quantity(env, picking, 1)
        action = env["stock.picking"].button_validate(env, [picking])
        assert run_wizard(env, action, "process_cancel_backorder") is True
        assert env["stock.picking"].values_of(env, [picking], "backorder_ids")[picking] == []
        states = sorted(
            env["stock.move"].rows[m]["state"] for m in env["stock.picking"].move_ids_of(env, picking)
        )
        assert states == ["cancel", "done"]
        assert quantities(env, pid) == levels(on_hand=9, free=9, virtual=9, outgoing=0)


def test_credit_note_through_action_reverse() -> None:
    db = OdooDatabase("17.0")
    with db.env() as env:
        [pid] = env["product.product"].create(env, {"name": "Gift card", "type": "service"})
        moves = env["account.move"]
        [invoice] = moves.create(
            env,
            {
                "move_type": "out_invoice",
                "partner_id": 3,
                "invoice_line_ids": [(0, 0, {"product_id": pid, "quantity": 2, "price_unit": 25.0})],
            },
        )
        moves.action_post(env, [invoice])
        assert moves.rows[invoice]["name"].startswith("INV/")
        action = moves.action_reverse(env, [invoice])
        assert action["res_model"] == "account.move.reversal"
        scoped = env.with_context(**action["context"])
        [wizard] = env["account.move.reversal"].create(scoped, {"reason": "damaged"})
        refund = env["account.move.reversal"].refund_moves(scoped, [wizard])["res_id"]
        moves.action_post(env, [refund])
        [row] = moves.read(env, [refund], ["move_type", "name", "amount_total", "ref", "reversed_entry_id"])
        assert (row["move_type"], row["amount_total"], row["reversed_entry_id"][0]) == (
            "out_refund",
            50.0,
            invoice,
        )
        assert row["name"].startswith("RINV/") and "damaged" in row["ref"]
        assert moves.values_of(env, [invoice], "reversal_move_id")[invoice] == [refund]


@pytest.mark.parametrize("version", ["16.0", "18.0"])
def test_receipt_from_a_vendor_adds_stock(version: str) -> None:
    db = OdooDatabase(version)
    with db.env() as env:
        pid = stocked_product(env, version, 1)
        warehouse = env["stock.warehouse"].rows[1]
        [receipt] = env["stock.picking"].create(env, {
            "picking_type_id": warehouse["in_type_id"], "partner_id": 3,
            "move_ids": [(0, 0, {"name": "restock", "product_id": pid, "product_uom_qty": 24,
                                 "location_id": env.registry.xmlids["stock.stock_location_suppliers"], "location_dest_id": warehouse["lot_stock_id"]})],
        })  # fmt: skip
        assert env["stock.picking"].rows[receipt]["name"] == "WH/IN/00001"
        env["stock.picking"].action_confirm(env, [receipt])
        assert env["stock.picking"].rows[receipt]["state"] == "assigned"
        assert quantities(env, pid)["virtual_available"] == 25
        set_done_quantity(env, receipt, 24)
        assert env["stock.picking"].button_validate(env, [receipt]) is True
        assert quantities(env, pid) == levels(on_hand=25, free=25, virtual=25, outgoing=0)


def test_set_quantities_to_reservation_on_16() -> None:
    db = OdooDatabase("16.0")
    with db.env() as env:
        pid = stocked_product(env, "16.0", 3)
        _, picking = confirmed_order(env, pid, 5)
        assert env["stock.picking"].action_set_quantities_to_reservation(env, [picking]) is None
        action = env["stock.picking"].button_validate(env, [picking])
        assert action["res_model"] == "stock.backorder.confirmation"  # 3 of 5 reserved and done
    with pytest.raises(PythonError):
        OdooDatabase("17.0").model("stock.picking").rpc_method("action_set_quantities_to_reservation")
