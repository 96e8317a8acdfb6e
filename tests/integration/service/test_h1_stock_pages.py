"""A snapshot read page by page (`read_stock_pages`) holds exactly what one whole read holds."""

from __future__ import annotations

from dataclasses import replace

from channelhub.service.ports import ErpStockRead, ErpStockRow
from tests.integration.service.conftest import Hub


def _bare(rows: tuple[ErpStockRow, ...]) -> set[ErpStockRow]:
    return {replace(row, write_date=None) for row in rows}


async def test_pages_of_the_odoo_stock_add_up_to_one_whole_read(hub: Hub) -> None:
    whole = await hub.erp.read_stock(None)
    pages: list[ErpStockRead] = [page async for page in hub.erp.read_stock_pages(page_size=7)]

    assert len(pages) > 2
    listed = [sku for page in pages for sku in page.skus]
    assert len(listed) == len(set(listed))  # a SKU is in one page only
    assert sorted(listed) == sorted(whole.skus)
    assert set().union(*(_bare(page.rows) for page in pages)) == _bare(whole.rows)
    for page in pages:  # each page is complete for the SKUs it lists
        assert {row.sku for row in page.rows} == set(page.skus)
        assert page.warehouses == whole.warehouses
        assert all(row.write_date is not None for row in page.rows)


async def test_pages_are_stamped_when_each_page_is_read(hub: Hub) -> None:
    stamps = [{row.write_date for row in page.rows} async for page in hub.erp.read_stock_pages(page_size=10)]
    assert all(len(stamp) == 1 for stamp in stamps if stamp)
    firsts = [next(iter(stamp)) for stamp in stamps if stamp]
    assert firsts == sorted(firsts)
