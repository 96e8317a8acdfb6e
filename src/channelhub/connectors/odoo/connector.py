"""`OdooConnector`: the operations the engine uses, on one authenticated client.

connector = OdooConnector(OdooConnection(url, db, login, api_key))
async with connector:
    report = await connector.read_stock_positions(["SKU-1", "SKU-2"])
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from channelhub.clock import SYSTEM_CLOCK, Clock
from channelhub.connectors.odoo import changes, fulfilment, orders
from channelhub.connectors.odoo.catalog import Catalog, read_catalog
from channelhub.connectors.odoo.changes import ChangeBatch, ChangeCursor
from channelhub.connectors.odoo.client import OdooClient, OdooConnection, OdooResilience
from channelhub.connectors.odoo.fulfilment import CreditNoteResult, PickingResult, ReturnResult
from channelhub.connectors.odoo.orders import SaleOrderRequest, SaleOrderState
from channelhub.connectors.odoo.pricing import PricelistPrices, read_pricelist_prices
from channelhub.connectors.odoo.stock import HoldPolicy, StockReader, StockReport
from channelhub.connectors.odoo.versions import OdooVersion


class OdooConnector:
    def __init__(
        self,
        connection: OdooConnection,
        *,
        hold: HoldPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        resilience: OdooResilience | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.client = OdooClient(connection, transport=transport, resilience=resilience, clock=clock)
        self.stock = StockReader(self.client, hold=hold)

    async def __aenter__(self) -> OdooConnector:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def connect(self) -> OdooVersion:
        return await self.client.connect()

    async def aclose(self) -> None:
        await self.client.aclose()

    @property
    def version(self) -> OdooVersion:
        return self.client.version

    # -- reads ----------------------------------------------------------------------------------
    async def read_catalog(self, *, include_archived: bool = False) -> Catalog:
        return await read_catalog(self.client, include_archived=include_archived)

    async def read_stock_positions(self, skus: Iterable[str] | None = None) -> StockReport:
        return await self.stock.read(skus)

    def read_stock_position_pages(self, page_size: int | None = None) -> AsyncIterator[StockReport]:
        """Every SKU's stock, page by page of products (see `StockReader.read_pages`)."""
        return self.stock.read_pages(page_size)

    async def read_changes(self, kind: str, cursor: ChangeCursor, *, limit: int = 1000) -> ChangeBatch:
        """`kind`: products, quants or pricelist_items."""
        readers = {
            "products": changes.product_changes,
            "quants": changes.quant_changes,
            "pricelist_items": changes.pricelist_item_changes,
        }
        if kind not in readers:
            raise ValueError(f"unknown change kind {kind!r}; choose one of {', '.join(readers)}")
        return await readers[kind](self.client, cursor, limit=limit)

    async def read_prices(
        self, pricelist_id: int, *, at: datetime | None = None, skus: Iterable[str] | None = None
    ) -> PricelistPrices:
        return await read_pricelist_prices(self.client, pricelist_id, at=at, skus=skus)

    # -- orders and fulfilment ------------------------------------------------------------------
    async def ensure_sale_order(self, request: SaleOrderRequest, *, read_back: bool = True) -> SaleOrderState:
        return await orders.ensure_sale_order(self.client, request, read_back=read_back)

    async def confirm_sale_order(
        self, order_id: int, *, known_state: str | None = None, read_after: bool = True
    ) -> SaleOrderState:
        return await orders.confirm_sale_order(
            self.client, order_id, known_state=known_state, read_after=read_after
        )

    async def cancel_sale_order(self, order_id: int) -> SaleOrderState:
        return await orders.cancel_sale_order(self.client, order_id)

    async def order_pickings(self, order_id: int) -> list[dict[str, Any]]:
        return await orders.order_pickings(self.client, order_id)

    async def validate_picking(
        self,
        picking_id: int,
        quantities: Mapping[str, Decimal | int] | None = None,
        *,
        backorder: bool = True,
    ) -> PickingResult:
        return await fulfilment.validate_picking(self.client, picking_id, quantities, backorder=backorder)

    async def create_return(
        self, picking_id: int, quantities: Mapping[str, Decimal | int] | None, *, reference: str
    ) -> ReturnResult:
        return await fulfilment.create_return(self.client, picking_id, quantities, reference=reference)

    async def create_credit_note(self, invoice_id: int, *, reason: str, reference: str) -> CreditNoteResult:
        return await fulfilment.create_credit_note(
            self.client, invoice_id, reason=reason, reference=reference
        )
