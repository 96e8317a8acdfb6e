"""Servers that still answer `button_validate` / `action_cancel` with a wizard: the connector
drives the wizard like its button would, and records quantities in the version's fields."""

from __future__ import annotations

from typing import Any

import pytest

from channelhub.clock import ManualClock
from channelhub.connectors.odoo.client import OdooClient, OdooConnection
from channelhub.connectors.odoo.errors import OdooUserError
from channelhub.connectors.odoo.fulfilment import validate_picking
from channelhub.connectors.odoo.orders import cancel_sale_order

from .odoo_wire_fake import FakeOdoo


class WizardOdoo:
    def __init__(self) -> None:
        self.picking_state = "assigned"
        self.order_state = "sale"
        self.move_writes: list[tuple[list[int], dict[str, Any]]] = []
        self.wizard_calls: list[tuple[str, str, dict[str, Any]]] = []
        self.validate_context: dict[str, Any] = {}

    def answer(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        context = kwargs.get("context", {})
        if (model, method) == ("stock.picking", "read"):
            return [{"id": 9, "name": "WH/OUT/00009", "state": self.picking_state}]
        if (model, method) == ("stock.picking", "search"):
            return [10] if self.picking_state == "done" else []
        if (model, method) == ("stock.move", "search_read"):
            return [
                {"id": 1, "product_id": [5, "A"], "product_uom_qty": 4.0},
                {"id": 2, "product_id": [6, "B"], "product_uom_qty": 1.0},
            ]
        if (model, method) == ("product.product", "read"):
            return [{"id": 5, "default_code": "A-1"}, {"id": 6, "default_code": "B-2"}]
        if (model, method) == ("stock.move", "write"):
            self.move_writes.append((args[0], args[1]))
            return True
        if (model, method) == ("stock.picking", "button_validate"):
            self.validate_context = context
            return {"type": "ir.actions.act_window", "res_model": "stock.backorder.confirmation", "res_id": False,
                    "context": {"button_validate_picking_ids": [9], "default_pick_ids": [[4, 9]]}}  # fmt: skip
        if model == "stock.backorder.confirmation":
            self.wizard_calls.append((model, method, context))
            if method == "create":
                return 77
            self.picking_state = "done"
            return True
        if (model, method) == ("sale.order", "read"):
            return [
                {"id": 3, "name": "S00003", "state": self.order_state, "locked": False, "picking_ids": []}
            ]
        if (model, method) == ("sale.order", "action_cancel"):
            return {"type": "ir.actions.act_window", "res_model": "sale.order.cancel", "context": {}}
        if model == "sale.order.cancel":
            self.wizard_calls.append((model, method, context))
            if method == "create":
                return 88
            self.order_state = "cancel"
            return True
        raise AssertionError(f"unexpected {model}.{method}")


async def connected(server: WizardOdoo, version: str) -> OdooClient:
    client = OdooClient(
        OdooConnection("http://odoo.test", "retail", "admin", "pw"),
        transport=FakeOdoo(version=version, answer=server.answer).transport(),
        clock=ManualClock(),
    )
    await client.connect()
    return client


@pytest.mark.parametrize(
    ("version", "expected_values"),
    [
        ("16.0", [{"quantity_done": 2.0}, {"quantity_done": 0.0}]),
        ("17.0", [{"quantity": 2.0, "picked": True}, {"quantity": 0.0, "picked": False}]),
        ("19.0", [{"quantity": 2.0, "picked": True}, {"quantity": 0.0, "picked": False}]),
    ],
)
@pytest.mark.parametrize(("backorder", "button"), [(True, "process"), (False, "process_cancel_backorder")])
async def test_partial_validation_through_the_backorder_wizard(
    version: str, expected_values: list[dict[str, Any]], backorder: bool, button: str
) -> None:
    server = WizardOdoo()
    client = await connected(server, version)
    result = await validate_picking(client, 9, {"A-1": 2}, backorder=backorder)
    await client.aclose()
    assert (result.state, result.backorder_ids) == ("done", (10,))
    assert [values for _, values in server.move_writes] == expected_values
    assert [call[1] for call in server.wizard_calls] == ["create", button]
    assert server.wizard_calls[0][2]["button_validate_picking_ids"] == [9]
    assert server.validate_context.get("skip_immediate") is (True if version == "16.0" else None)
    assert ("picking_ids_not_to_backorder" in server.validate_context) is (not backorder)


async def test_unknown_sku_in_a_picking_is_refused_before_validation() -> None:
    server = WizardOdoo()
    client = await connected(server, "17.0")
    with pytest.raises(OdooUserError, match="no move for SKU C-3"):
        await validate_picking(client, 9, {"C-3": 1})
    await client.aclose()
    assert server.move_writes == [] and server.picking_state == "assigned"


async def test_cancel_falls_back_to_the_cancel_wizard() -> None:
    server = WizardOdoo()
    client = await connected(server, "17.0")
    order = await cancel_sale_order(client, 3)
    await client.aclose()
    assert order.state == "cancel"
    assert [call[1] for call in server.wizard_calls] == ["create", "action_cancel"]
    assert all(call[2] == {"disable_cancel_warning": True} for call in server.wizard_calls)
