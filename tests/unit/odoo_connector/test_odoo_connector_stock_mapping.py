"""Quants to canonical stock positions: warehouses by parent path, hold locations, rounding."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from channelhub.clock import ManualClock
from channelhub.connectors.odoo.client import OdooClient, OdooConnection
from channelhub.connectors.odoo.orders import SaleOrderRequest
from channelhub.connectors.odoo.stock import HoldPolicy, StockReader
from channelhub.domain import Money, Order, OrderLine, Sku

from .odoo_wire_fake import FakeOdoo

WAREHOUSES = [
    {"id": 1, "code": "WH", "name": "Main", "view_location_id": [10, "WH"], "lot_stock_id": [11, "WH/Stock"]},
    {
        "id": 2,
        "code": "EU 2",
        "name": "Europe",
        "view_location_id": [20, "EU"],
        "lot_stock_id": [21, "EU/Stock"],
    },
]
LOCATIONS = [
    {"id": 11, "complete_name": "WH/Stock", "name": "Stock", "usage": "internal", "parent_path": "1/10/11/"},
    {"id": 12, "complete_name": "WH/Stock/Quality Hold", "name": "Quality Hold", "usage": "internal",
     "parent_path": "1/10/11/12/"},
    {"id": 21, "complete_name": "EU/Stock", "name": "Stock", "usage": "internal", "parent_path": "1/20/21/"},
    {"id": 22, "complete_name": "EU/Cage", "name": "Cage", "usage": "internal", "parent_path": "1/20/22/"},
    {"id": 99, "complete_name": "Orphan", "name": "Orphan", "usage": "internal", "parent_path": "99/"},
]  # fmt: skip
PRODUCTS = {"A-1": 501, "B-2": 502, "bad code": 503}
QUANTS = [
    {"id": 1, "product_id": [501, "A"], "location_id": [11, "WH/Stock"], "quantity": 10.0, "reserved_quantity": 2.5},
    {"id": 2, "product_id": [501, "A"], "location_id": [11, "WH/Stock"], "quantity": 1.5, "reserved_quantity": 0.0},
    {"id": 3, "product_id": [501, "A"], "location_id": [12, "WH/Q"], "quantity": 4.0, "reserved_quantity": 1.0},
    {"id": 4, "product_id": [502, "B"], "location_id": [21, "EU/Stock"], "quantity": 7.0, "reserved_quantity": 0.0},
    {"id": 5, "product_id": [502, "B"], "location_id": [22, "EU/Cage"], "quantity": 3.0, "reserved_quantity": 0.0},
]  # fmt: skip


def _matches(row: dict[str, Any], term: list[Any]) -> bool:
    field, operator, value = term
    actual = row[field][0] if isinstance(row[field], list) else row[field]
    checks = {"in": lambda: actual in value, ">": lambda: actual > value, ">=": lambda: actual >= value,
              "<": lambda: actual < value}  # fmt: skip
    return checks[operator]()


def answer(model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    domain = args[0] if args else []
    after = next((t[2] for t in domain if t[0] == "id" and t[1] == ">"), 0)
    if model == "stock.quant" and method == "search":
        ids = sorted(q["id"] for q in QUANTS if all(_matches(q, term) for term in domain))
        return (ids if kwargs["order"] == "id asc" else ids[::-1])[: kwargs["limit"]]
    if model == "stock.warehouse":
        rows = WAREHOUSES
    elif model == "stock.location":
        rows = LOCATIONS
    elif model == "product.product":
        _field, operator, value = domain[0]
        rows = [
            {"id": pid, "default_code": code}
            for code, pid in PRODUCTS.items()
            if (operator == "in" and code in value) or (operator == "!=" and code != value)
        ]
    elif model == "stock.quant":
        rows = [q for q in QUANTS if all(_matches(q, term) for term in domain)]
    else:
        raise AssertionError(model)
    return [row for row in rows if row["id"] > after][: kwargs.get("limit") or None]


@pytest.mark.parametrize("scan_threshold", [1, 5000], ids=["partitioned-scan", "by-product"])
async def test_positions_per_warehouse_with_hold_and_location_breakdown(scan_threshold: int) -> None:
    client = OdooClient(
        OdooConnection("http://odoo.test", "retail", "admin", "pw"),
        transport=FakeOdoo(answer=answer).transport(),
        clock=ManualClock(),
    )
    await client.connect()
    reader = StockReader(
        client, hold=HoldPolicy(location_ids=frozenset({22})), quant_page=2, scan_threshold=scan_threshold
    )
    report = await reader.read(["A-1", "B-2", "bad code", "NOPE"])
    await client.aclose()

    positions = {(p.sku.value, p.warehouse): p for p in report.positions}
    a = positions[("A-1", "WH")]
    # on hand floors each quant (10 + 1 + 4), reserved rounds up (3 + 1); hold is unreserved hold stock
    assert (a.on_hand, a.reserved, a.hold, a.free) == (15, 4, 3, 8)
    b = positions[("B-2", "EU-2")]  # the code "EU 2" became a valid channelhub code
    assert (b.on_hand, b.reserved, b.hold, b.free) == (10, 0, 3, 7)  # EU/Cage is hold by id
    assert report.unknown_skus == ("NOPE",)
    assert report.unusable_codes == ("bad code",)
    assert {loc.code for loc in report.locations} == {
        "WH/Stock",
        "WH/Stock/Quality Hold",
        "EU/Stock",
        "EU/Cage",
    }
    assert report.quant_records == 5
    rows = {(q.sku.value, q.location): (q.quantity, q.reserved) for q in report.quants}
    assert rows[("A-1", "WH/Stock")] == (11, 3)


def test_sale_order_request_from_canonical_order() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    order = Order(
        channel="shopify",
        channel_order_id="1001",
        currency="EUR",
        lines=(OrderLine("l1", Sku("A-1"), 2, Money.of("9.90", "EUR")),),
        placed_at=now,
        updated_at=now,
    )
    request = SaleOrderRequest.from_order(order, partner_id=7, warehouse_id=1)
    assert request.client_order_ref == "shopify:1001" and request.origin == "shopify:1001"
    assert [(line.sku, line.quantity, line.unit_price) for line in request.lines] == [
        ("A-1", 2, Decimal("9.90"))
    ]
