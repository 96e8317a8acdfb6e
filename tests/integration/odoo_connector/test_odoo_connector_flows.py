"""The retail flow through the connector on 16.0-19.0: order, confirm, deliver partially, return,
credit note, cancel; and webhook notifications received and verified (17.0+)."""

from __future__ import annotations

import asyncio
import threading
from decimal import Decimal

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from channelhub.connectors.errors import WebhookVerificationError
from channelhub.connectors.odoo import (
    OdooNotification,
    OdooUserError,
    OdooWebhookReceiver,
    OrderLine,
    SaleOrderRequest,
)
from channelhub.sandbox.server import serve_in_thread

from .conftest import RunningOdoo
from .odoo_connector_helpers import free_and_on_hand, in_stock_skus


async def test_order_to_delivery_return_and_credit_note(odoo: RunningOdoo) -> None:
    async with odoo.connector(odoo.default_protocol()) as connector:
        client = connector.client
        (sku_a, product_a), (sku_b, product_b) = await in_stock_skus(connector, 2)
        partner = (
            await client.execute_kw("res.partner", "search", [[("customer_rank", ">", 0)]], {"limit": 1})
        )[0]
        before = await free_and_on_hand(connector, [product_a, product_b])
        request = SaleOrderRequest(
            f"shop:{odoo.version}:1", partner, [OrderLine(sku_a, 5, Decimal("19.90")), OrderLine(sku_b, 2)]
        )
        order = await connector.ensure_sale_order(request)
        assert order.created and order.state == "draft"
        assert (await connector.ensure_sale_order(request)).id == order.id  # the retry finds it
        confirmed = await connector.confirm_sale_order(order.id)
        assert confirmed.state == "sale" and confirmed.picking_ids
        assert (await connector.confirm_sale_order(order.id)).state == "sale"  # idempotent
        reserved = await free_and_on_hand(connector, [product_a, product_b])
        assert reserved[product_a][0] == before[product_a][0] - 5  # free_qty drops on confirmation
        assert reserved[product_a][1] == before[product_a][1]  # on hand does not (yet)

        delivery = (await connector.order_pickings(order.id))[0]
        shipped = await connector.validate_picking(delivery["id"], {sku_a: 3, sku_b: 2})
        assert shipped.state == "done" and len(shipped.backorder_ids) == 1  # 2 of SKU A still to ship
        assert (await connector.validate_picking(delivery["id"], {sku_a: 3, sku_b: 2})) == shipped
        after = await free_and_on_hand(connector, [product_a, product_b])
        assert after[product_a][1] == before[product_a][1] - 3
        assert after[product_b][1] == before[product_b][1] - 2
        backorder = await connector.validate_picking(shipped.backorder_ids[0])
        assert backorder.state == "done" and backorder.backorder_ids == ()
        assert (await free_and_on_hand(connector, [product_a]))[product_a][1] == before[product_a][1] - 5

        returned = await connector.create_return(delivery["id"], {sku_a: 1}, reference=f"rma-{order.id}")
        assert returned.created
        assert (await connector.create_return(delivery["id"], {sku_a: 1}, reference=f"rma-{order.id}")) == (
            type(returned)(returned.picking_id, returned.name, returned.state, False)
        )
        received = await connector.validate_picking(returned.picking_id)
        assert received.state == "done"
        assert (await free_and_on_hand(connector, [product_a]))[product_a][1] == before[product_a][1] - 4

        invoice = await client.execute_kw(
            "account.move",
            "create",
            [{"move_type": "out_invoice", "partner_id": partner,
              "invoice_line_ids": [(0, 0, {"product_id": product_a, "quantity": 5, "price_unit": 19.9})]}],
        )  # fmt: skip
        await client.execute_kw("account.move", "action_post", [[invoice]])
        note = await connector.create_credit_note(
            invoice, reason="returned 1 unit", reference=f"rma-{order.id}"
        )
        again = await connector.create_credit_note(
            invoice, reason="returned 1 unit", reference=f"rma-{order.id}"
        )
        assert note.created and not again.created and again.move_id == note.move_id
        refunds = await client.execute_kw(
            "account.move", "search_read", [[("reversed_entry_id", "=", invoice)]], {"fields": ["move_type"]}
        )
        assert [row["move_type"] for row in refunds] == ["out_refund"]


async def test_cancel_releases_the_reservation_and_is_idempotent(odoo: RunningOdoo) -> None:
    async with odoo.connector(odoo.default_protocol()) as connector:
        (sku, product), *_ = await in_stock_skus(connector, 1)
        partner = (await connector.client.execute_kw("res.partner", "search", [[]], {"limit": 1}))[0]
        before = await free_and_on_hand(connector, [product])
        order = await connector.ensure_sale_order(
            SaleOrderRequest(f"shop:{odoo.version}:c", partner, [OrderLine(sku, 4)])
        )
        await connector.confirm_sale_order(order.id)
        cancelled = await connector.cancel_sale_order(order.id)
        assert cancelled.state == "cancel"
        assert (await connector.cancel_sale_order(order.id)).state == "cancel"
        assert await free_and_on_hand(connector, [product]) == before
        pickings = await connector.order_pickings(order.id)
        assert {picking["state"] for picking in pickings} == {"cancel"}
        try:
            await connector.confirm_sale_order(order.id)
        except OdooUserError as error:
            assert "cancelled" in str(error)
        else:
            raise AssertionError("a cancelled order must not be confirmed again")


class WebhookSink:
    """A tiny ingress: the token travels in the URL, as an Odoo deployer would configure it."""

    def __init__(self, receiver: OdooWebhookReceiver) -> None:
        self.receiver = receiver
        self.notifications: list[OdooNotification] = []
        self.refused = 0
        self.arrived = threading.Event()

    async def endpoint(self, request: Request) -> JSONResponse:
        try:
            note = self.receiver.receive(
                dict(request.headers), await request.body(), request.query_params.get("token")
            )
        except WebhookVerificationError:
            self.refused += 1
            return JSONResponse({"status": "error"}, status_code=401)
        self.notifications.append(note)
        self.arrived.set()
        return JSONResponse({"status": "ok"})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/webhooks/odoo", self.endpoint, methods=["POST"])])


async def test_webhook_notifications_are_verified_and_parsed(odoo: RunningOdoo) -> None:
    if odoo.version == "16.0":
        pytest.skip("automation webhooks exist from 17.0; 16.0 relies on write_date polling alone")
    secret = "a-long-shared-secret-123"
    sink = WebhookSink(OdooWebhookReceiver(secret, allowed_models=frozenset({"product.product"})))
    with serve_in_thread(sink.app()) as ingress:
        async with httpx.AsyncClient() as admin:
            good = await admin.post(f"{odoo.url}/_sandbox/webhooks", json={
                "model": "product.product", "url": f"{ingress.url}/webhooks/odoo?token={secret}",
                "fields": ["default_code", "list_price"], "trigger": "on_write"})  # fmt: skip
            bad = await admin.post(f"{odoo.url}/_sandbox/webhooks", json={
                "model": "product.product", "url": f"{ingress.url}/webhooks/odoo?token=guess"})  # fmt: skip
            assert good.status_code == bad.status_code == 201
            try:
                async with odoo.connector(odoo.default_protocol()) as connector:
                    product = (
                        await connector.client.execute_kw("product.product", "search", [[]], {"limit": 1})
                    )[0]
                    await connector.client.execute_kw(
                        "product.product", "write", [[product], {"list_price": 42.5}]
                    )
                await asyncio.to_thread(sink.arrived.wait, 5)
                await asyncio.sleep(0.2)  # let the second (refused) delivery land too
            finally:
                for rule in (good.json(), bad.json()):
                    await admin.delete(f"{odoo.url}/_sandbox/webhooks/{rule['id']}")
    assert len(sink.notifications) == 1 and sink.refused == 1
    note = sink.notifications[0]
    assert (note.model, note.record_id) == ("product.product", product)
    assert note.values["list_price"] == 42.5 and "default_code" in note.values
    assert note.action_id is not None and note.action_name


async def test_batched_creates(odoo: RunningOdoo) -> None:
    async with odoo.connector(odoo.default_protocol()) as connector:
        client = connector.client
        calls_before = client.stats.calls
        vals = [{"name": f"Batch partner {odoo.version} {n}"} for n in range(25)]
        ids = await client.create_many("res.partner", vals, batch_size=10)
        assert client.stats.calls - calls_before == 3
        assert len(set(ids)) == 25
        names = await client.search_read_all("res.partner", [("id", "in", ids)], ["name"], page_size=7)
        assert sorted(row["name"] for row in names) == sorted(v["name"] for v in vals)


async def test_repeat_orders_reuse_product_ids_and_a_known_state_saves_a_read(odoo: RunningOdoo) -> None:
    async with odoo.connector(odoo.default_protocol()) as connector:
        client = connector.client
        ((sku, _product),) = await in_stock_skus(connector, 1)
        partner = (
            await client.execute_kw("res.partner", "search", [[("customer_rank", ">", 0)]], {"limit": 1})
        )[0]
        calls: list[tuple[str, str]] = []
        original = client.execute_kw

        async def counting(model: str, method: str, *args: object, **kwargs: object) -> object:
            calls.append((model, method))
            return await original(model, method, *args, **kwargs)  # type: ignore[arg-type]

        client.execute_kw = counting  # type: ignore[method-assign]
        orders = [
            await connector.ensure_sale_order(
                SaleOrderRequest(f"shop:{odoo.version}:cache{n}", partner, [OrderLine(sku, 1)])
            )
            for n in (1, 2)
        ]
        assert all(order.created for order in orders)
        assert calls.count(("product.product", "search_read")) == 1  # the second order reused the id
        calls.clear()
        confirmed = await connector.confirm_sale_order(orders[1].id, known_state=orders[1].state)
        assert confirmed.state == "sale" and confirmed.picking_ids
        assert calls == [("sale.order", "action_confirm"), ("sale.order", "read")]
        calls.clear()
        request = SaleOrderRequest(f"shop:{odoo.version}:cache3", partner, [OrderLine(sku, 1)])
        unread = await connector.ensure_sale_order(request, read_back=False)
        assert (
            unread.created and unread.state == "draft" and unread.client_order_ref == request.client_order_ref
        )
        assert calls == [("sale.order", "search_read"), ("sale.order", "create")]  # no read after it
        assert (await connector.ensure_sale_order(request)).id == unread.id
        calls.clear()
        trusted = await connector.confirm_sale_order(unread.id, known_state="draft", read_after=False)
        assert trusted.state == "sale" and trusted.id == unread.id
        assert calls == [("sale.order", "action_confirm")]  # a returned action_confirm is trusted
        again = await connector.confirm_sale_order(unread.id, read_after=False)
        assert again.state == "sale"  # already confirmed: read, found done, nothing sent
        assert calls[1:] == [("sale.order", "read")]
