"""The retail flow over real HTTP with xmlrpc.client and odoorpc, unchanged, on every version."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

import httpx
import odoorpc
import pytest

from tests.integration.odoo_emulator.conftest import LiveOdoo


def storable(version: str) -> dict[str, Any]:
    return {"type": "consu", "is_storable": True} if version >= "18" else {"type": "product"}


def stocked_product(odoo: LiveOdoo, code: str, quantity: float) -> int:
    pid = odoo.call(
        "product.product",
        "create",
        [{"name": f"Flow {code}", "default_code": code, "list_price": 25.0, **storable(odoo.version)}],
    )
    stock = odoo.call("stock.warehouse", "read", [[1], ["lot_stock_id"]])[0]["lot_stock_id"][0]
    quant = odoo.call(
        "stock.quant", "create", [{"product_id": pid, "location_id": stock, "inventory_quantity": quantity}]
    )
    # applying a count answers None, which XML-RPC cannot carry: apply it over JSON-RPC like a connector would
    apply = {
        "service": "object",
        "method": "execute_kw",
        "args": [odoo.db, 2, "admin", "stock.quant", "action_apply_inventory", [[quant]], {}],
    }
    response = httpx.post(
        f"{odoo.url}/jsonrpc", json={"jsonrpc": "2.0", "method": "call", "params": apply, "id": 1}
    ).json()
    assert response == {"jsonrpc": "2.0", "id": 1, "result": None}
    return pid


def stock_of(odoo: LiveOdoo, pid: int) -> dict[str, float]:
    [row] = odoo.call("product.product", "read", [[pid], ["qty_available", "free_qty", "virtual_available"]])
    return {k: v for k, v in row.items() if k != "id"}


def validate(odoo: LiveOdoo, picking: int, context: dict[str, Any] | None = None) -> Any:
    result = odoo.call("stock.picking", "button_validate", [[picking]], {"context": context or {}})
    while isinstance(result, dict):  # a wizard: confirm it the way a user clicks "Apply"
        wizard = odoo.call(result["res_model"], "create", [{}], {"context": result["context"]})
        result = odoo.call(result["res_model"], "process", [[wizard]], {"context": result["context"]})
    return result


def test_sale_order_confirm_deliver(odoo: LiveOdoo) -> None:
    pid = stocked_product(odoo, f"FLOW-{odoo.version}", 12)
    assert stock_of(odoo, pid) == {"qty_available": 12, "free_qty": 12, "virtual_available": 12}
    order = odoo.call("sale.order", "create", [{
        "partner_id": 3, "client_order_ref": f"shopify:{odoo.version}", "origin": "Shopify #1001",
        "order_line": [[0, 0, {"product_id": pid, "product_uom_qty": 5, "price_unit": 25.0}]],
    }])  # fmt: skip
    assert odoo.call("sale.order", "search", [[["client_order_ref", "=", f"shopify:{odoo.version}"]]]) == [
        order
    ]
    assert odoo.call("sale.order", "action_confirm", [[order]]) is True
    [header] = odoo.call("sale.order", "read", [[order], ["state", "picking_ids", "amount_total", "name"]])
    assert header["state"] == "sale" and header["amount_total"] == 125.0
    [picking] = header["picking_ids"]
    assert stock_of(odoo, pid) == {"qty_available": 12, "free_qty": 7, "virtual_available": 7}
    [delivery] = odoo.call(
        "stock.picking", "read", [[picking], ["state", "origin", "picking_type_code", "move_ids"]]
    )
    assert (delivery["state"], delivery["origin"], delivery["picking_type_code"]) == (
        "assigned",
        header["name"],
        "outgoing",
    )
    assert validate(odoo, picking) is True
    assert stock_of(odoo, pid) == {"qty_available": 7, "free_qty": 7, "virtual_available": 7}
    assert odoo.call("stock.picking", "read", [[picking], ["state"]])[0]["state"] == "done"


def test_partial_delivery_creates_a_backorder(odoo: LiveOdoo) -> None:
    pid = stocked_product(odoo, f"PART-{odoo.version}", 10)
    order = odoo.call(
        "sale.order",
        "create",
        [{"partner_id": 3, "order_line": [[0, 0, {"product_id": pid, "product_uom_qty": 6}]]}],
    )
    odoo.call("sale.order", "action_confirm", [[order]])
    [picking] = odoo.call("sale.order", "read", [[order], ["picking_ids"]])[0]["picking_ids"]
    [move] = odoo.call("stock.picking", "read", [[picking], ["move_ids"]])[0]["move_ids"]
    done = {"quantity_done": 4} if odoo.version == "16.0" else {"quantity": 4, "picked": True}
    odoo.call("stock.move", "write", [[move], done])
    assert validate(odoo, picking, {"skip_backorder": False}) is True
    backorders = odoo.call(
        "stock.picking", "search_read", [[["backorder_id", "=", picking]]], {"fields": ["state", "move_ids"]}
    )
    assert len(backorders) == 1 and backorders[0]["state"] == "assigned"
    assert stock_of(odoo, pid) == {"qty_available": 6, "free_qty": 4, "virtual_available": 4}


def test_write_date_polling_sees_changes(odoo: LiveOdoo) -> None:
    product = odoo.call(
        "product.product",
        "search_read",
        [[]],
        {"fields": ["write_date"], "limit": 1, "order": "write_date desc, id desc"},
    )[0]
    odoo.call("product.product", "write", [[product["id"]], {"list_price": 99.0}])
    changed = odoo.call(
        "product.product",
        "search_read",
        [[["write_date", ">=", product["write_date"]]]],
        {"fields": ["list_price"], "order": "write_date asc, id asc"},
    )
    assert {"id": product["id"], "list_price": 99.0} in changed


def test_odoorpc_unchanged(odoo: LiveOdoo) -> None:
    client = odoorpc.ODOO("127.0.0.1", port=odoo.port)
    assert client.version == odoo.version
    assert client.db.list() == [odoo.db]
    client.login(odoo.db, "admin", "admin")
    assert client.env.user.name == "Mitchell Admin"
    assert "res.partner" in client.env
    assert client.env.ref("stock.warehouse0").lot_stock_id.complete_name == "WH/Stock"
    Partner = client.env["res.partner"]
    ids = Partner.search([("is_company", "=", True)], limit=3)
    assert ids
    partner = Partner.browse(ids[0])
    assert partner.name and partner.id == ids[0]
    new = Partner.create({"name": "From odoorpc"})
    record = Partner.browse(new)
    record.name = "Renamed by odoorpc"
    assert Partner.read([new], ["name"])[0]["name"] == "Renamed by odoorpc"
    record.unlink()
    assert Partner.search([("id", "=", new)]) == []
    Product = client.env["product.product"]
    pid = Product.create({"name": "RPC Lamp", "default_code": "RPC-LAMP", **storable(odoo.version)})
    stock = client.env["stock.warehouse"].browse(1).lot_stock_id.id
    quant = client.env["stock.quant"].create(
        {"product_id": pid, "location_id": stock, "inventory_quantity": 9}
    )
    client.execute_kw("stock.quant", "action_apply_inventory", [[quant]])
    order = client.env["sale.order"].create(
        {"partner_id": 3, "order_line": [(0, 0, {"product_id": pid, "product_uom_qty": 2})]}
    )
    client.execute_kw("sale.order", "action_confirm", [[order]])
    assert Product.browse(pid).free_qty == 7
    picking = client.env["sale.order"].browse(order).picking_ids
    assert len(picking) == 1 and picking.state == "assigned"
    result = client.execute_kw("stock.picking", "button_validate", [picking.ids])
    if isinstance(result, dict):
        wizard = client.execute_kw(result["res_model"], "create", [{}], {"context": result["context"]})
        client.execute_kw(result["res_model"], "process", [[wizard]], {"context": result["context"]})
    assert Product.browse(pid).qty_available == 7


def test_chatter_message_post(odoo: LiveOdoo) -> None:
    order = odoo.call("sale.order", "create", [{"partner_id": 3}])
    message = odoo.call("sale.order", "message_post", [[order]], {"body": "Imported from Shopify #1001"})
    assert isinstance(message, int)
    [row] = odoo.call("sale.order", "read", [[order], ["message_ids"]])
    assert row["message_ids"] == [message]
    [posted] = odoo.call("mail.message", "read", [[message], ["body", "model", "res_id", "author_id"]])
    assert (posted["body"], posted["model"], posted["res_id"], posted["author_id"][0]) == (
        "Imported from Shopify #1001",
        "sale.order",
        order,
        3,
    )
    with pytest.raises(xmlrpc.client.Fault):
        odoo.call("stock.quant", "message_post", [[1]], {"body": "quants have no chatter"})
