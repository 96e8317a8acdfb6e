"""Connector reads against the emulator on 16.0, 17.0, 18.0 and 19.0, over every protocol."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from channelhub.connectors.odoo import (
    ChangeCursor,
    OdooAccessDenied,
    OdooClient,
    OdooError,
)
from channelhub.connectors.odoo.changes import read_changes

from .conftest import RunningOdoo


def protocols_of(odoo: RunningOdoo) -> list[str]:
    return ["jsonrpc", "xmlrpc", "json2"] if odoo.version == "19.0" else ["jsonrpc", "xmlrpc"]


async def test_every_protocol_connects_detects_version_and_refuses_bad_secrets(odoo: RunningOdoo) -> None:
    for protocol in protocols_of(odoo):
        async with OdooClient(odoo.connection(protocol)) as client:
            assert str(client.version) == odoo.version
            count = await client.execute_kw(
                "product.product", "search_count", [[("default_code", "!=", False)]]
            )
            assert count == 60
            with pytest.raises(OdooError) as caught:
                await client.execute_kw("no.such.model", "search", [[]])
            assert not caught.value.transient and client.stats.retries == 0
            if protocol == "jsonrpc":  # 200 up to 18.0, 0 from 19.0
                assert caught.value.code == client.version.jsonrpc_error_code
            with pytest.raises(OdooError) as missing_name:
                await client.execute_kw("sale.order", "create", [{"client_order_ref": "no partner"}])
            assert not missing_name.value.transient and missing_name.value.model == "sale.order"
            with pytest.raises(OdooError) as bad_domain:
                await client.execute_kw("res.partner", "search", [[("name", "no-such-op", 1)]])
            assert not bad_domain.value.transient
        if protocol != "json2":  # the API key works wherever the password does
            async with OdooClient(odoo.connection(protocol, secret=odoo.api_key)) as client:
                assert client.uid > 0
        client = OdooClient(odoo.connection(protocol, secret="wrong"))
        with pytest.raises(OdooAccessDenied):
            await client.connect()
        await client.aclose()


async def test_catalog_maps_every_variant(odoo: RunningOdoo) -> None:
    async with odoo.connector(odoo.default_protocol()) as connector:
        catalog = await connector.read_catalog()
    assert len(catalog.items) == 60 and not catalog.unusable
    assert catalog.currency == "USD"
    item = catalog.items[0]
    assert item.sku.value.startswith("SKU-") and item.barcode and item.storable
    assert item.list_price.currency == "USD" and item.list_price.amount > item.standard_price.amount > 0
    assert item.to_variant().sku == item.sku


async def test_stock_positions_agree_with_odoo_computed_quantities(odoo: RunningOdoo) -> None:
    async with odoo.connector(odoo.default_protocol()) as connector:
        catalog = await connector.read_catalog()
        skus = [str(item.sku) for item in catalog.items]
        report = await connector.read_stock_positions([*skus, "NOT-A-SKU"])
        connector.client.product_ids.forget()
        calls = connector.client.stats.calls
        await connector.read_stock_positions(skus)
        uncached, calls = connector.client.stats.calls - calls, connector.client.stats.calls
        again = await connector.read_stock_positions(skus)
        assert connector.client.stats.calls - calls == uncached - 1  # product ids remembered
        connector.client.product_ids.forget()
        connector.stock.scan_threshold = 1
        scanned = await connector.read_stock_positions(skus)
        warehouses = await connector.stock.warehouses()
        product_ids = {str(item.sku): item.product_id for item in catalog.items}
        odoo_numbers = {
            warehouse.code: await connector.stock.warehouse_quantities(
                warehouse.id, list(product_ids.values())
            )
            for warehouse in warehouses
        }
    assert report.unknown_skus == ("NOT-A-SKU",)
    assert scanned.positions == report.positions == again.positions  # every read strategy agrees
    assert {w.code for w in report.warehouses} == {"WH", "EAST", "WEST"}
    assert any(location.is_quality_hold for location in report.locations)
    assert any(position.hold > 0 for position in report.positions)
    on_hand: dict[tuple[str, str], int] = defaultdict(int)
    for position in report.positions:
        on_hand[(position.sku.value, position.warehouse)] = position.on_hand
        assert position.free == max(0, position.on_hand - position.reserved - position.hold)
    # The per-warehouse context key differs by version (warehouse / warehouse_id): Odoo's own
    # qty_available per warehouse must equal the connector's quant arithmetic.
    for code, numbers in odoo_numbers.items():
        for sku, product_id in product_ids.items():
            assert numbers[product_id]["qty_available"] == on_hand[(sku, code)], (sku, code)


async def test_change_cursor_walks_ties_without_gaps_and_sees_new_writes(odoo: RunningOdoo) -> None:
    later = datetime.now(UTC) + timedelta(minutes=5)  # "now" for a cursor whose second has settled
    async with odoo.connector(odoo.default_protocol()) as connector:
        client = connector.client
        cursor = ChangeCursor()
        seen: list[int] = []
        while True:  # all 60 seeded products share one write_date: only the id breaks the ties
            batch = await read_changes(client, "product.product", cursor, ["default_code"], limit=7)
            seen.extend(int(row["id"]) for row in batch.records)
            cursor = batch.cursor
            if not batch.has_more:
                break
        assert len(seen) == len(set(seen)) >= 60
        # Exact once the second has settled; (W, 0) while it is recent (it may still change).
        assert cursor.id in (0, max(seen))
        targets = sorted(seen)[:2]  # lower ids than the cursor, maybe in the very same second
        await client.execute_kw("product.product", "write", [targets, {"standard_price": 3.21}])
        batch = await connector.read_changes("products", cursor)
        changed = {int(row["id"]) for row in batch.records}
        assert set(targets) <= changed
        # While its second is recent the cursor re-reads that second; once settled it is exact.
        assert batch.cursor.id == 0
        settled = await read_changes(client, "product.product", batch.cursor, ["default_code"], now=later)
        assert set(targets) <= {int(row["id"]) for row in settled.records}
        final = await read_changes(client, "product.product", settled.cursor, ["default_code"], now=later)
        assert final.records == () and final.cursor == settled.cursor
        quants = await connector.read_changes("quants", ChangeCursor(), limit=50)
        assert len(quants.records) == 50 and quants.has_more
        items = await connector.read_changes("pricelist_items", ChangeCursor(), limit=10)
        assert len(items.records) == 10 and {"fixed_price", "date_start"} <= set(items.records[0])


async def test_pricelist_fixed_prices_respect_windows_and_match_odoo_order_prices(odoo: RunningOdoo) -> None:
    async with odoo.connector(odoo.default_protocol()) as connector:
        client = connector.client
        pricelists = {
            row["name"]: row["id"]
            for row in await client.execute_kw("product.pricelist", "search_read", [[]], {"fields": ["name"]})
        }
        summer = pricelists["Summer Promo"]
        inside = await connector.read_prices(summer, at=datetime(2026, 7, 1, tzinfo=UTC))
        outside = await connector.read_prices(summer, at=datetime(2026, 12, 1, tzinfo=UTC))
        windowed = [rule for rule in inside.rules if rule.starts and rule.ends]
        assert windowed and all(
            rule.applies(rule.min_quantity, datetime(2026, 7, 1, tzinfo=UTC)) for rule in windowed
        )
        assert not [rule for rule in outside.rules if rule.starts or rule.ends]
        assert len(outside.rules) == len(inside.rules) - len(windowed)
        wholesale = await connector.read_prices(pricelists["Wholesale"])
        rule = next(rule for rule in wholesale.rules if rule.min_quantity > 1)
        now = datetime.now(UTC)
        assert wholesale.price_for(rule.sku, rule.min_quantity, now) == rule.price
        # Odoo prices a sale order line from the same pricelist: the connector must agree.
        partner = (await client.execute_kw("res.partner", "search", [[]], {"limit": 1}))[0]
        product = (
            await client.execute_kw("product.product", "search", [[("default_code", "=", str(rule.sku))]])
        )[0]
        order_id = await client.execute_kw(
            "sale.order",
            "create",
            [{"partner_id": partner, "pricelist_id": pricelists["Wholesale"],
              "order_line": [(0, 0, {"product_id": product, "product_uom_qty": float(rule.min_quantity)})]}],
        )  # fmt: skip
        lines = await client.execute_kw(
            "sale.order.line", "search_read", [[("order_id", "=", order_id)]], {"fields": ["price_unit"]}
        )
        assert lines[0]["price_unit"] == pytest.approx(float(rule.price.amount))


async def test_targeted_stock_reads_reuse_the_warehouse_layout_and_full_reads_refresh_it(
    odoo: RunningOdoo,
) -> None:
    async with odoo.connector(odoo.default_protocol()) as connector:
        catalog = await connector.read_catalog()
        skus = [str(item.sku) for item in catalog.items][:3]
        calls: list[str] = []
        original = connector.client.search_read_all

        async def counting(model: str, *args: object, **kwargs: object) -> list[dict[str, object]]:
            calls.append(model)
            return await original(model, *args, **kwargs)  # type: ignore[arg-type]

        connector.client.search_read_all = counting  # type: ignore[method-assign]
        first = await connector.read_stock_positions(skus)
        assert calls.count("stock.warehouse") == 1 and calls.count("stock.location") == 1
        calls.clear()
        again = await connector.read_stock_positions(skus)  # within the TTL: no layout reads
        assert "stock.warehouse" not in calls and "stock.location" not in calls
        assert again.positions == first.positions and again.locations == first.locations
        connector.stock.topology_ttl_s = 0.0  # expired: read again
        await connector.read_stock_positions(skus)
        assert calls.count("stock.warehouse") == 1
        connector.stock.topology_ttl_s = 3600.0
        calls.clear()
        await connector.read_stock_positions(None)  # a full read always reads the layout
        async for _page in connector.read_stock_position_pages(50):
            pass
        assert calls.count("stock.warehouse") == 2 and calls.count("stock.location") == 2


async def test_paged_snapshot_teaches_the_client_every_product_id(odoo: RunningOdoo) -> None:
    async with odoo.connector(odoo.default_protocol()) as connector:
        connector.client.product_ids.forget()
        seen: set[str] = set()
        async for page in connector.read_stock_position_pages(25):
            seen.update(position.sku.value for position in page.positions)
        assert seen and connector.client.product_ids.known(seen).keys() == seen
        calls = connector.client.stats.calls
        await connector.read_stock_positions(sorted(seen)[:5])
        assert connector.client.stats.calls - calls == 1  # the quants only: ids and layout known
