"""Under 30 % transient failures every operation eventually succeeds, and exactly once.

Failures come from the emulator's chaos knobs (HTTP 500/502/503/504 before the call runs, Odoo-level
`OperationalError` faults, serialization failures on writes) plus a proxy in front of it that lets
Odoo *apply* a call and then loses the answer (504): the hard case for idempotency.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from channelhub.connectors.odoo import (
    OdooConnection,
    OdooConnector,
    OdooResilience,
    OrderLine,
    SaleOrderRequest,
)
from channelhub.sandbox.odoo.chaos import ChaosSettings
from channelhub.sandbox.server import serve_in_thread

from .conftest import RunningOdoo
from .odoo_connector_helpers import in_stock_skus


class LostAnswers:
    """A proxy that forwards the call to Odoo, lets it commit, then answers 504 instead."""

    def __init__(self, app: ASGIApp, rate: float, seed: int) -> None:
        self.app = app
        self.rate = rate
        self.rng = random.Random(seed)
        self.lost = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or self.rng.random() >= self.rate:
            await self.app(scope, receive, send)
            return

        async def discard(message: Message) -> None:
            return None

        await self.app(scope, receive, discard)
        self.lost += 1
        await Response("<html>504 Gateway Time-out</html>", status_code=504, media_type="text/html")(
            scope, receive, send
        )


CHAOS = {
    "error_rate": 0.2,
    "http_error_statuses": (500, 502, 503, 504),
    "fault_rate": 0.05,
    "serialization_failure_rate": 0.05,
}


async def run_retail_day(
    connector: OdooConnector, version: str, skus: list[str], invoice: int
) -> dict[str, Any]:
    partner = (await connector.client.execute_kw("res.partner", "search", [[]], {"limit": 1}))[0]
    requests = [
        SaleOrderRequest(f"chaos:{version}:{n}", partner, [OrderLine(skus[0], 1), OrderLine(skus[1], 2)])
        for n in range(6)
    ]
    # Every order is sent twice, concurrently, as a redelivered webhook would.
    orders = await asyncio.gather(*(connector.ensure_sale_order(r) for r in requests for _ in range(2)))
    order_ids = sorted({order.id for order in orders})
    await asyncio.gather(*(connector.confirm_sale_order(order_id) for order_id in order_ids))
    deliveries = [(await connector.order_pickings(order_id))[0]["id"] for order_id in order_ids[:3]]
    shipped = await asyncio.gather(
        *(connector.validate_picking(picking, {skus[0]: 1, skus[1]: 1}) for picking in deliveries)
    )
    cancelled = await connector.cancel_sale_order(order_ids[5])
    returned = await connector.create_return(deliveries[0], {skus[1]: 1}, reference=f"chaos-rma-{version}")
    credit_note = await connector.create_credit_note(
        invoice, reason="damaged", reference=f"chaos-rma-{version}"
    )
    report = await connector.read_stock_positions(skus)
    return {"credit_note": credit_note, "order_ids": order_ids, "shipped": shipped, "cancelled": cancelled, "returned": returned,
            "report": report, "refs": [r.client_order_ref for r in requests]}  # fmt: skip


async def test_every_operation_succeeds_once_under_thirty_percent_failures(odoo: RunningOdoo) -> None:
    protocol = odoo.default_protocol()
    async with odoo.connector(protocol) as calm:
        skus = [sku for sku, _ in await in_stock_skus(calm, 2)]
        baseline = await calm.read_stock_positions(None)
        partner = (await calm.client.execute_kw("res.partner", "search", [[]], {"limit": 1}))[0]
        invoice = await calm.client.execute_kw(
            "account.move",
            "create",
            [{"move_type": "out_invoice", "partner_id": partner,
              "invoice_line_ids": [(0, 0, {"name": "Tee", "quantity": 1, "price_unit": 25.0})]}],
        )  # fmt: skip
        await calm.client.execute_kw("account.move", "action_post", [[invoice]])

    odoo.emulator.chaos.apply(ChaosSettings.from_mapping({**CHAOS, "seed": 11}))
    lossy = LostAnswers(odoo.emulator.app, rate=0.05, seed=5)
    try:
        with serve_in_thread(lossy) as proxy:
            connection = OdooConnection(
                proxy.url, "retail", "admin", odoo.connection(protocol).secret, protocol=protocol
            )
            resilience = OdooResilience.default(
                rng=random.Random(9), base_delay=0.005, max_delay=0.05, max_attempts=15, reset_timeout=0.2
            )
            async with OdooConnector(connection, resilience=resilience) as connector:
                everything = await connector.read_stock_positions(None)
                assert everything.positions == baseline.positions  # reads are exact despite the noise
                day = await run_retail_day(connector, odoo.version, skus, invoice)
                stats = connector.client.stats
    finally:
        odoo.emulator.chaos.apply(ChaosSettings())

    assert stats.retries > 10 and lossy.lost > 0, "the chaos must actually have happened"
    async with odoo.connector(protocol) as calm:
        client = calm.client
        for ref in day["refs"]:
            assert (
                await client.execute_kw("sale.order", "search_count", [[("client_order_ref", "=", ref)]]) == 1
            )
        states = await client.execute_kw("sale.order", "read", [day["order_ids"], ["state"]])
        assert [row["state"] for row in states] == ["sale"] * 5 + ["cancel"]
        assert all(result.state == "done" and len(result.backorder_ids) == 1 for result in day["shipped"])
        assert day["cancelled"].state == "cancel"
        returns = await client.execute_kw(
            "stock.picking", "search_count", [[("origin", "ilike", f"[chaos-rma-{odoo.version}]")]]
        )
        assert returns == 1 and day["returned"].picking_id
        assert {p.sku.value for p in day["report"].positions} == set(skus)
        refunds = await client.execute_kw(
            "account.move", "search_count", [[("reversed_entry_id", "=", invoice)]]
        )
        assert refunds == 1 and day["credit_note"].move_id


async def test_a_saturated_odoo_is_not_flooded(odoo: RunningOdoo) -> None:
    """Odoo with 2 free workers answers 503 above that: the adaptive limit backs off (AIMD on
    errors) instead of hammering it, and every read still completes."""
    if odoo.version != "18.0":
        pytest.skip("protocol-independent; one version is enough")
    async with odoo.connector() as calm:
        skus = [item.sku.value for item in (await calm.read_catalog()).items]
    odoo.emulator.chaos.apply(ChaosSettings.from_mapping({"max_concurrency": 2, "latency_ms": 30, "seed": 3}))
    try:
        resilience = OdooResilience.default(
            rng=random.Random(4), base_delay=0.01, max_delay=0.1, max_attempts=20, reset_timeout=0.2,
            max_concurrency=8, initial_concurrency=8, latency_target_s=1.0,
        )  # fmt: skip
        async with OdooConnector(odoo.connection(), resilience=resilience) as connector:
            connector.stock.sku_chunk = 5  # 12 concurrent look-ups, then 12 concurrent quant reads
            connector.stock.quant_chunk = 5
            report = await connector.read_stock_positions(skus)
            limiter = connector.client.resilience.limiter
            busy_answers = connector.client.stats.retries
    finally:
        odoo.emulator.chaos.apply(ChaosSettings())
    assert not report.unknown_skus and {p.sku.value for p in report.positions} <= set(skus)
    assert busy_answers > 0, "the emulator must have answered 503 (workers busy)"
    assert limiter.decreases > 0 and limiter.limit < 8
