"""Happy paths through the real connector, emulator, repositories and worker: stock captured from
Odoo becomes desired quantities on every channel; a channel order becomes one confirmed Odoo order."""

from __future__ import annotations

from datetime import timedelta

from channelhub.clock import SYSTEM_CLOCK
from channelhub.domain import Sku
from channelhub.service.explain import explain
from channelhub.service.fakes import order_snapshot
from channelhub.service.handlers import erp_notification_event, order_event
from channelhub.service.orders import ERP_REJECTED
from channelhub.store.repositories import StateRepositories
from tests.integration.service.conftest import WEBHOOK_SECRET, Hub


async def in_stock_sku(hub: Hub) -> str:
    rows = await hub.connector.client.execute_kw(
        "stock.quant",
        "search_read",
        [[("location_id.complete_name", "=", "WH/Stock"), ("quantity", ">=", 10)]],
        {"fields": ["product_id"], "order": "id asc", "limit": 1},
    )
    [product] = await hub.connector.client.execute_kw(
        "product.product", "read", [[rows[0]["product_id"][0]], ["default_code"]]
    )
    return str(product["default_code"])


async def free_by_warehouse(hub: Hub, sku: str) -> dict[str, int]:
    report = await hub.connector.read_stock_positions([sku])
    return {p.warehouse.lower(): p.free for p in report.positions}


async def count_in(hub: Hub, sku: str, location: str, quantity: int) -> None:
    """A stock count in Odoo (inventory mode + apply), as a warehouse clerk does it."""
    client = hub.connector.client
    [product_id] = await client.execute_kw("product.product", "search", [[("default_code", "=", sku)]])
    [quant] = await client.execute_kw(
        "stock.quant",
        "search",
        [[("product_id", "=", product_id), ("location_id.complete_name", "=", location)]],
    )
    await client.execute_kw("stock.quant", "write", [[quant], {"inventory_quantity": quantity}])
    await client.execute_kw("stock.quant", "action_apply_inventory", [[quant]])


async def test_snapshot_poll_and_notification_set_desired_quantities(hub: Hub) -> None:
    sku = await in_stock_sku(hub)
    capture = hub.handlers.capture
    snapshot = await capture.take_snapshot(hub.engine, hub.erp, SYSTEM_CLOCK)
    assert Sku(sku) in snapshot.skus and snapshot.rows > 0
    free = await free_by_warehouse(hub, sku)
    assert hub.desired("shop", sku) == max(0, free.get("wh", 0) + free.get("east", 0) - 2)
    assert hub.desired("web", sku) == free.get("wh", 0)

    report = await hub.connector.read_stock_positions([sku])
    on_hand = next(q.quantity for q in report.quants if q.location == "WH/Stock")
    await count_in(hub, sku, "WH/Stock", on_hand + 7)
    await capture.poll_until_current(hub.engine, hub.erp, SYSTEM_CLOCK)
    assert hub.desired("web", sku) == free.get("wh", 0) + 7

    await count_in(hub, sku, "WH/Stock", on_hand)  # back down, announced by an Odoo webhook
    [product_id] = await hub.connector.client.execute_kw(
        "product.product", "search", [[("default_code", "=", sku)]]
    )
    body = (
        f'{{"_model": "stock.quant", "_id": 1, "_action": "Stock(#3)", "product_id": {product_id}}}'.encode()
    )
    notification = hub.erp.verify_webhook({"X-Channelhub-Token": WEBHOOK_SECRET}, body)
    hub.emit(erp_notification_event(notification))
    await hub.worker.run_until_idle()
    assert hub.desired("web", sku) == free.get("wh", 0)

    with hub.engine.connect() as connection:
        why = explain(connection, hub.handlers.availability, sku, "shop")
    assert why["available_to_sell"] == hub.desired("shop", sku)
    wh = next(w for w in why["warehouses"] if w["warehouse"] == "wh")
    assert wh["included"] and any(loc["location"] == "WH/Stock" for loc in wh["locations"])


async def test_channel_order_becomes_one_confirmed_odoo_order(hub: Hub) -> None:
    sku = await in_stock_sku(hub)
    await hub.handlers.capture.take_snapshot(hub.engine, hub.erp, SYSTEM_CLOCK)
    before = hub.desired("shop", sku)
    assert before is not None
    now = SYSTEM_CLOCK.now()
    pending = order_snapshot("web", "5001", {sku: 2}, at=now, payment="pending")
    paid = order_snapshot(
        "web", "5001", {sku: 2}, at=now, updated_at=now + timedelta(seconds=5), payment="paid"
    )
    hub.emit(order_event(paid), order_event(pending), order_event(paid))  # reordered and duplicated
    await hub.worker.run_until_idle()

    orders = await hub.connector.client.execute_kw(
        "sale.order", "search_read", [[("client_order_ref", "=", "web:5001")]], {"fields": ["state"]}
    )
    assert [o["state"] for o in orders] == ["sale"]
    with hub.engine.connect() as connection:
        repos = StateRepositories.on(connection)
        link = repos.orders.get("web:5001")
        assert repos.reservations.open_units([Sku(sku)]) == {}  # handed over to Odoo's reservation
        reserved = sum(p.reserved for p in repos.stock.positions([Sku(sku)]))
    assert link is not None and link.odoo_order_id == orders[0]["id"]
    assert reserved >= 2
    assert hub.desired("shop", sku) == before - 2
    assert await hub.erp.reserved_orders(["web:5001", "web:never-placed"]) == {"web:5001"}

    refused = order_snapshot("web", "5002", {"NO-SUCH-SKU": 1}, at=now)
    hub.emit(order_event(refused))
    await hub.worker.run_until_idle()
    with hub.engine.connect() as connection:
        [exception] = StateRepositories.on(connection).exceptions.open(subject="web:5002")
    assert exception.kind == ERP_REJECTED and "NO-SUCH-SKU" in exception.reason
