"""Small look-ups shared by the connector's integration tests."""

from __future__ import annotations

from channelhub.connectors.odoo import OdooConnector


async def free_and_on_hand(
    connector: OdooConnector, product_ids: list[int]
) -> dict[int, tuple[float, float]]:
    rows = await connector.client.execute_kw(
        "product.product", "read", [product_ids, ["free_qty", "qty_available"]]
    )
    return {int(row["id"]): (row["free_qty"], row["qty_available"]) for row in rows}


async def in_stock_skus(connector: OdooConnector, count: int) -> list[tuple[str, int]]:
    """SKUs with at least 10 units free in the main warehouse's stock location."""
    rows = await connector.client.execute_kw(
        "stock.quant",
        "search_read",
        [[("location_id.complete_name", "=", "WH/Stock"), ("quantity", ">=", 10)]],
        {"fields": ["product_id"], "order": "id asc"},
    )
    product_ids = list(dict.fromkeys(row["product_id"][0] for row in rows))[:count]
    products = await connector.client.execute_kw("product.product", "read", [product_ids, ["default_code"]])
    return [(row["default_code"], int(row["id"])) for row in products]
