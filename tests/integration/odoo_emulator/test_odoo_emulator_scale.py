"""The seeded catalog at reduced scale: shapes, determinism and paging over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from channelhub.sandbox.odoo import EmulatorSettings, create_emulator
from tests.integration.odoo_emulator.conftest import LiveOdoo, start


@pytest.fixture(scope="module")
def big() -> Iterator[LiveOdoo]:
    yield from start("18.0", skus=3000)


def test_seed_sizes_and_determinism() -> None:
    first = create_emulator(EmulatorSettings(version="17.0", skus=300, seed=9)).database
    second = create_emulator(EmulatorSettings(version="17.0", skus=300, seed=9)).database
    assert len(first.model("product.product").rows) == 300
    assert len(first.model("stock.quant").rows) == 1200
    assert len(first.model("stock.warehouse").rows) == 3
    for model in ("product.product", "stock.quant", "product.pricelist.item"):
        strip = lambda row: {k: v for k, v in row.items() if not k.endswith("_date")}  # noqa: E731
        assert [strip(r) for r in first.model(model).rows.values()] == [
            strip(r) for r in second.model(model).rows.values()
        ]


def test_paged_stock_reads_over_thousands_of_quants(big: LiveOdoo) -> None:
    total = big.call("stock.quant", "search_count", [[["location_id.usage", "=", "internal"]]])
    assert total == 12000
    seen: set[int] = set()
    last_id = 0
    while True:
        page = big.call("stock.quant", "search_read", [[["id", ">", last_id], ["location_id.usage", "=", "internal"]]],
                        {"fields": ["product_id", "location_id", "quantity", "reserved_quantity"], "limit": 1000, "order": "id"})  # fmt: skip
        if not page:
            break
        assert len(page) <= 1000 and all(isinstance(r["product_id"], list) for r in page)
        seen.update(r["id"] for r in page)
        last_id = page[-1]["id"]
    assert len(seen) == total


def test_catalog_has_variants_barcodes_and_packs(big: LiveOdoo) -> None:
    products = big.call(
        "product.product",
        "search_read",
        [[["barcode", "!=", False]]],
        {"fields": ["barcode", "display_name", "is_storable", "packaging_ids"], "limit": 1000},
    )
    assert len(products) == 1000
    assert all(len(p["barcode"]) == 13 for p in products)
    assert any("(" in p["display_name"] for p in products)
    assert all(p["is_storable"] for p in products)
    assert any(p["packaging_ids"] for p in products)
    hold = big.call(
        "stock.location",
        "search_read",
        [[["name", "=", "Quality Hold"]]],
        {"fields": ["complete_name", "warehouse_id"]},
    )
    assert len(hold) == 3 and all(h["warehouse_id"] for h in hold)
