"""A sale order is created once, whatever fails between the connector and Odoo."""

from __future__ import annotations

import random
from typing import Any

import pytest

from channelhub.clock import ManualClock
from channelhub.connectors.odoo.client import OdooClient, OdooConnection, OdooResilience
from channelhub.connectors.odoo.errors import OdooBusy, OdooValidationError
from channelhub.connectors.odoo.orders import OrderLine, SaleOrderRequest, ensure_sale_order

from .odoo_wire_fake import FakeHttpFailure, FakeOdoo


class OrderBook:
    """Just enough sale.order/product.product for the look-up-then-create protocol."""

    def __init__(self, failures: list[str]) -> None:
        self.orders: list[dict[str, Any]] = []
        self.failures = failures  # per create call: "ok", "busy" (not applied), "lost" (applied, 504)

    def answer(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if model == "product.product" and method == "search_read":
            codes = args[0][0][2]
            return [{"id": 100 + i, "default_code": code} for i, code in enumerate(codes) if code != "GHOST"]
        if model == "sale.order" and method == "search_read":
            ref = args[0][0][2]
            return [self._row(order) for order in self.orders if order["client_order_ref"] == ref]
        if model == "sale.order" and method == "read":
            return [self._row(order) for order in self.orders if order["id"] in args[0]]
        if model == "sale.order" and method == "create":
            outcome = self.failures.pop(0) if self.failures else "ok"
            if outcome == "busy":
                raise FakeHttpFailure(503)
            self.orders.append({"id": len(self.orders) + 1, **args[0]})
            if outcome == "lost":
                raise FakeHttpFailure(504)
            return self.orders[-1]["id"]
        raise AssertionError(f"unexpected call {model}.{method}")

    @staticmethod
    def _row(order: dict[str, Any]) -> dict[str, Any]:
        return {"id": order["id"], "name": f"S{order['id']:05d}", "state": "draft",
                "client_order_ref": order["client_order_ref"], "locked": False, "picking_ids": []}  # fmt: skip


REQUEST = SaleOrderRequest("shopify:1001", partner_id=7, lines=[OrderLine("SKU-1", 2)])


async def connected(book: OrderBook, max_attempts: int = 6) -> OdooClient:
    clock = ManualClock()
    client = OdooClient(
        OdooConnection("http://odoo.test", "retail", "admin", "pw"),
        transport=FakeOdoo(answer=book.answer).transport(),
        clock=clock,
        resilience=OdooResilience.default(clock, rng=random.Random(1), max_attempts=max_attempts),
    )
    await client.connect()
    return client


@pytest.mark.parametrize("failures", [[], ["busy"], ["lost"], ["busy", "lost"], ["lost", "lost"]])
async def test_one_order_whatever_fails(failures: list[str]) -> None:
    book = OrderBook(list(failures))
    client = await connected(book)
    order = await ensure_sale_order(client, REQUEST)
    again = await ensure_sale_order(client, REQUEST)
    await client.aclose()
    assert len(book.orders) == 1
    assert order.id == again.id == 1 and not again.created
    # The call that saw its create answered is the one that reports created=True.
    assert order.created is (not failures or failures[-1] != "lost")
    assert book.orders[0]["order_line"] == [[0, 0, {"product_id": 100, "product_uom_qty": 2.0}]]


async def test_gives_up_after_the_retry_budget_without_duplicates() -> None:
    book = OrderBook(["busy"] * 10)
    client = await connected(book, max_attempts=3)
    with pytest.raises(OdooBusy):
        await ensure_sale_order(client, REQUEST)
    await client.aclose()
    assert book.orders == []


async def test_unknown_sku_is_refused_before_anything_is_created() -> None:
    book = OrderBook([])
    client = await connected(book)
    with pytest.raises(OdooValidationError, match="GHOST"):
        await ensure_sale_order(client, SaleOrderRequest("shopify:1002", 7, [OrderLine("GHOST", 1)]))
    with pytest.raises(OdooValidationError, match="idempotency key"):
        await ensure_sale_order(client, SaleOrderRequest(" ", 7, [OrderLine("SKU-1", 1)]))
    await client.aclose()
    assert book.orders == []
