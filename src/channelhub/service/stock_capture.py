"""Stock capture from Odoo (issue 6 §2): full snapshot, `(write_date, id)` poll, webhook hint.

Every path ends the same way: rows read from Odoo for some SKUs → the stock repository (a location
that no longer appears for a read SKU is removed) → ATS recomputed for every channel of exactly
those SKUs. Odoo is always re-read rather than trusting a notification's body: notifications are
unsigned, unordered and may be lost, and a fresh read is level-triggered (applying it twice, or
late, gives the same state).

Functions taking a `connection` run inside the caller's transaction (a log handler's); those
taking an `engine` do the Odoo I/O outside any transaction and then write in a short one, so a
slow Odoo never holds a database lock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from channelhub.clock import Clock
from channelhub.domain import InvalidValue, Sku
from channelhub.service.availability import AvailabilityService, RecomputeResult
from channelhub.service.ports import ErpGateway, ErpNotification, ErpStockRead
from channelhub.store.repositories import LocationStock, StateRepositories
from channelhub.store.repositories._sql import chunks
from channelhub.store.state_tables import stock_position

log = logging.getLogger(__name__)

STOCK_CURSOR = "odoo.stock.quants"


@dataclass(frozen=True)
class CaptureResult:
    skus: tuple[Sku, ...]
    rows: int
    removed: int
    skipped_codes: tuple[str, ...]
    recompute: RecomputeResult
    cursor: str | None = None
    has_more: bool = False


class StockCapture:
    def __init__(self, availability: AvailabilityService, *, cursor_name: str = STOCK_CURSOR) -> None:
        self.availability = availability
        self.cursor_name = cursor_name

    # -- applying a read -----------------------------------------------------------------------

    def apply(self, connection: sa.Connection, read: ErpStockRead, at: datetime) -> CaptureResult:
        """Store the rows of `read` (complete for its SKUs) and recompute those SKUs."""
        skipped: list[str] = []
        rows: list[LocationStock] = []
        for row in read.rows:
            try:
                rows.append(
                    LocationStock(
                        sku=Sku(row.sku),
                        warehouse=row.warehouse,
                        location=row.location,
                        on_hand=row.on_hand,
                        reserved=row.reserved,
                        hold=row.hold,
                        source_write_date=row.write_date,
                    )
                )
            except InvalidValue:
                skipped.append(row.sku)  # a code channelhub cannot use as a SKU: reported, not fatal
        skus: set[Sku] = {row.sku for row in rows}
        for code in read.skus:
            try:
                skus.add(Sku(code))
            except InvalidValue:
                skipped.append(code)
        repos = StateRepositories.on(connection)
        present = {(row.sku.value, row.warehouse, row.location) for row in rows}
        gone = [key for key in self._stored_keys(connection, skus) if key not in present]
        repos.stock.remove((Sku(sku), warehouse, location) for sku, warehouse, location in gone)
        repos.stock.upsert(rows, at)
        if skipped:
            log.warning("stock capture skipped %d unusable SKU code(s): %s", len(skipped), skipped[:5])
        recompute = self.availability.recompute(connection, skus, at)
        return CaptureResult(
            tuple(sorted(skus)), len(rows), len(gone), tuple(sorted(set(skipped))), recompute
        )

    @staticmethod
    def _stored_keys(connection: sa.Connection, skus: set[Sku]) -> list[tuple[str, str, str]]:
        table = stock_position
        keys: list[tuple[str, str, str]] = []
        for batch in chunks(sorted(sku.value for sku in skus)):
            query = sa.select(table.c.sku, table.c.warehouse, table.c.location).where(table.c.sku.in_(batch))
            keys.extend((sku, warehouse, location) for sku, warehouse, location in connection.execute(query))
        return keys

    # -- inside a transaction (log handlers) ---------------------------------------------------

    async def refresh(
        self, connection: sa.Connection, erp: ErpGateway, skus: list[str], at: datetime
    ) -> CaptureResult:
        """Re-read `skus` from Odoo and apply them."""
        return self.apply(connection, await erp.read_stock(skus), at)

    async def on_notification(
        self, connection: sa.Connection, erp: ErpGateway, notification: ErpNotification, at: datetime
    ) -> CaptureResult | None:
        """An Odoo webhook said a record changed: re-read the SKUs it concerns (None: none)."""
        skus = await erp.skus_of_notification(notification)
        if not skus:
            return None
        return await self.refresh(connection, erp, list(skus), at)

    async def poll(
        self, connection: sa.Connection, erp: ErpGateway, at: datetime, *, limit: int = 1000
    ) -> CaptureResult:
        """One page of changes after the stored cursor; the cursor moves in the same transaction."""
        cursors = StateRepositories.on(connection).cursors
        changes = await erp.stock_changes_since(cursors.get(self.cursor_name), limit=limit)
        result = self.apply(connection, changes.read, at)
        cursors.set(self.cursor_name, changes.cursor, at)
        return CaptureResult(
            result.skus,
            result.rows,
            result.removed,
            result.skipped_codes,
            result.recompute,
            cursor=changes.cursor,
            has_more=changes.has_more,
        )

    # -- outside the log (start-up, CLI, scheduler) --------------------------------------------

    async def take_snapshot(self, engine: Engine, erp: ErpGateway, clock: Clock) -> CaptureResult:
        """Read every SKU's stock, store it and recompute everything. Locations of SKUs Odoo no
        longer reports at all are kept: only a read that names a SKU can say it is empty."""
        read = await erp.read_stock(None)
        with engine.begin() as connection:
            return self.apply(connection, read, clock.now())

    async def poll_until_current(
        self, engine: Engine, erp: ErpGateway, clock: Clock, *, limit: int = 1000, max_pages: int = 100
    ) -> list[CaptureResult]:
        """Poll page after page until Odoo has nothing newer (the periodic safety net)."""
        results = []
        for _ in range(max_pages):
            with engine.connect() as connection:
                cursor = StateRepositories.on(connection).cursors.get(self.cursor_name)
            changes = await erp.stock_changes_since(cursor, limit=limit)
            with engine.begin() as connection:
                now = clock.now()
                result = self.apply(connection, changes.read, now)
                StateRepositories.on(connection).cursors.set(self.cursor_name, changes.cursor, now)
            results.append(result)
            if not changes.has_more:
                break
        return results
