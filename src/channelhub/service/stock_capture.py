"""Stock capture from Odoo (issue 6 §2): full snapshot, `(write_date, id)` poll, webhook hint.

Every path ends the same way: rows read from Odoo for some SKUs → the stock repository (a location
that no longer appears for a read SKU is removed) → ATS recomputed for every channel of exactly
those SKUs. Odoo is always re-read rather than trusting a notification's body: notifications are
unsigned, unordered and may be lost, and a fresh read is level-triggered (applying it twice, or
late, gives the same state).

A soft reservation (taken when a channel order arrives) must stop counting as soon as Odoo's own
reservation of the order shows in a read, or the order is counted twice. So before each read the
orders with open soft reservations are checked with Odoo (`reserved_orders`, one batched call;
confirmed ones first, then those whose confirmation may be in flight): those Odoo already reserves are certain to show in the read that follows, and their
reservations of the SKUs read are released in the same transaction as the read is stored. Asking
*before* the read matters: an order reserved after the read is not in it, and releasing its soft
reservation then would overstate ATS (the direction that oversells).

A slow Odoo never holds a database lock: the log handlers use the `prepare_*` methods (Odoo I/O
with no transaction open, then a step applied in the handler's transaction, see `phases`); those
taking an `engine` read, call and write in separate short transactions.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from channelhub.clock import Clock
from channelhub.connectors.errors import ConnectorError
from channelhub.domain import InvalidValue, OrderStatus, Sku
from channelhub.service.availability import AvailabilityService, RecomputeResult
from channelhub.service.phases import Reader, Step, done
from channelhub.service.ports import ErpGateway, ErpNotification, ErpStockRead
from channelhub.store.repositories import LocationStock, StateRepositories
from channelhub.store.repositories._sql import chunks
from channelhub.store.state_tables import stock_position

log = logging.getLogger(__name__)

STOCK_CURSOR = "odoo.stock.quants"
MAX_ORDERS_CHECKED = 500  # confirmed orders asked about per read: one `reserved_orders` call

HandedOver = Mapping[str, frozenset[Sku]]
"""Order key → SKUs of its open soft reservations, for orders Odoo reserved before the read."""


@dataclass(frozen=True)
class CaptureResult:
    skus: tuple[Sku, ...]
    rows: int
    removed: int
    skipped_codes: tuple[str, ...]
    recompute: RecomputeResult
    cursor: str | None = None
    has_more: bool = False
    handed_over: int = 0  # (order, SKU) soft reservations released: Odoo's reservation is in the read


class StockCapture:
    def __init__(self, availability: AvailabilityService, *, cursor_name: str = STOCK_CURSOR) -> None:
        self.availability = availability
        self.cursor_name = cursor_name

    # -- applying a read -----------------------------------------------------------------------

    def apply(
        self,
        connection: sa.Connection,
        read: ErpStockRead,
        at: datetime,
        reserved_by_erp: HandedOver | None = None,
    ) -> CaptureResult:
        """Store the rows of `read` (complete for its SKUs) and recompute those SKUs.

        `reserved_by_erp` (from `reserved_before_read_via`, asked before `read` was taken): the soft
        reservations of these orders on the SKUs of `read` are released first, since the read
        already shows Odoo's reservation of them."""
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
        gone = sorted(key for key in self._stored_keys(connection, skus) if key not in present)
        # Stock rows in (SKU, warehouse, location) order, whatever order Odoo answered in, so
        # concurrent captures of overlapping SKUs lock the rows in one order (no deadlock).
        repos.stock.remove((Sku(sku), warehouse, location) for sku, warehouse, location in gone)
        repos.stock.upsert(sorted(rows, key=lambda r: (r.sku.value, r.warehouse, r.location)), at)
        handed_over = 0
        for order_key, reserved_skus in sorted((reserved_by_erp or {}).items()):
            shown = reserved_skus & skus
            if shown:
                handed_over += repos.reservations.release(order_key, at, sorted(shown))
        if skipped:
            log.warning("stock capture skipped %d unusable SKU code(s): %s", len(skipped), skipped[:5])
        recompute = self.availability.recompute(connection, skus, at)
        return CaptureResult(
            tuple(sorted(skus)),
            len(rows),
            len(gone),
            tuple(sorted(set(skipped))),
            recompute,
            handed_over=handed_over,
        )

    @staticmethod
    async def reserved_before_read_via(
        read: Reader, erp: ErpGateway, skus: Iterable[str] | None
    ) -> HandedOver:
        """Confirmed orders with open soft reservations (on `skus`, or on any SKU when None) that
        Odoo already reserves. Call it *before* reading the stock the result is applied with.
        A failing check only defers the hand-over (to the periodic `prepare_reservation_check`)."""
        with read() as connection:
            by_order, confirmed = StockCapture._confirmed_reservations(connection, skus)
        if not confirmed:
            return {}
        try:
            reserved = await erp.reserved_orders(confirmed)
        except ConnectorError as error:
            log.warning("could not ask Odoo which orders it reserves (%s): hand-over deferred", error)
            return {}
        return {key: frozenset(by_order[key]) for key in reserved if key in by_order}

    @staticmethod
    def _confirmed_reservations(
        connection: sa.Connection, skus: Iterable[str] | None
    ) -> tuple[dict[str, set[Sku]], list[str]]:
        repos = StateRepositories.on(connection)
        if skus is None:
            open_reservations = repos.reservations.open_reservations()
        else:
            wanted = set()
            for code in skus:
                try:
                    wanted.add(Sku(code))
                except InvalidValue:
                    continue
            open_reservations = [
                r for sku in sorted(wanted) for r in repos.reservations.open_reservations(sku)
            ]
        by_order: dict[str, set[Sku]] = {}
        for reservation in open_reservations:
            by_order.setdefault(reservation.order_key, set()).add(reservation.sku)
        # Confirmed orders first; then the others, whose confirmation may be in flight (Odoo has
        # reserved them, the sync's step has not recorded it yet): without them a read in that
        # window counts the order twice until the next read of its SKUs (seen: 80 s in the bench).
        confirmed = sorted(repos.orders.in_state(by_order, OrderStatus.CONFIRMED))
        others = sorted(set(by_order) - set(confirmed))
        return by_order, (confirmed + others)[:MAX_ORDERS_CHECKED]

    @staticmethod
    def _stored_keys(connection: sa.Connection, skus: set[Sku]) -> list[tuple[str, str, str]]:
        table = stock_position
        keys: list[tuple[str, str, str]] = []
        for batch in chunks(sorted(sku.value for sku in skus)):
            query = sa.select(table.c.sku, table.c.warehouse, table.c.location).where(table.c.sku.in_(batch))
            keys.extend((sku, warehouse, location) for sku, warehouse, location in connection.execute(query))
        return keys

    # -- log handlers: Odoo calls with no transaction open, then a step to apply -----------------

    async def prepare_refresh(self, read: Reader, erp: ErpGateway, skus: list[str]) -> Step[CaptureResult]:
        """Re-read `skus` from Odoo; the step applies them."""
        reserved = await self.reserved_before_read_via(read, erp, skus)
        stock = await erp.read_stock(skus)
        return lambda connection, at: self.apply(connection, stock, at, reserved)

    async def prepare_notification(
        self, read: Reader, erp: ErpGateway, notification: ErpNotification
    ) -> Step[CaptureResult | None]:
        """An Odoo webhook said a record changed: re-read the SKUs it concerns (None: none)."""
        skus = await erp.skus_of_notification(notification)
        if not skus:
            return done(None)
        return await self.prepare_refresh(read, erp, list(skus))

    async def prepare_poll(self, read: Reader, erp: ErpGateway, *, limit: int = 1000) -> Step[CaptureResult]:
        """One page of changes after the stored cursor; the step applies them and moves the cursor
        in the same transaction."""
        with read() as connection:
            cursor = StateRepositories.on(connection).cursors.get(self.cursor_name)
        reserved = await self.reserved_before_read_via(read, erp, None)  # the page's SKUs are unknown yet
        changes = await erp.stock_changes_since(cursor, limit=limit)

        def apply(connection: sa.Connection, at: datetime) -> CaptureResult:
            result = self.apply(connection, changes.read, at, reserved)
            StateRepositories.on(connection).cursors.set(self.cursor_name, changes.cursor, at)
            return dataclasses.replace(result, cursor=changes.cursor, has_more=changes.has_more)

        return apply

    # -- outside the log (start-up, CLI, scheduler) --------------------------------------------

    async def take_snapshot(
        self, engine: Engine, erp: ErpGateway, clock: Clock, *, page_size: int = 5000
    ) -> CaptureResult:
        """Read every SKU's stock, store it and recompute everything. Locations of SKUs Odoo no
        longer reports at all are kept: only a read that names a SKU can say it is empty.

        Odoo is read in pages of about `page_size` SKUs (`read_stock_pages`, each page complete
        for its SKUs) and each page is applied in its own short transaction as it arrives: a
        catalog of 100,000 SKUs is never held whole (rows, stock upserts and desired quantities
        of every SKU at once cost ~390 MB), and the write lock is never held across a read.
        A page that fails stops the snapshot; the pages before it are stored and correct."""
        reserved = await self.reserved_before_read_via(engine.connect, erp, None)
        skus: list[Sku] = []
        quantities: dict[tuple[str, Sku], int] = {}
        skipped: set[str] = set()
        rows = removed = handed_over = 0
        async for read in erp.read_stock_pages(page_size):
            with engine.begin() as connection:
                page = self.apply(connection, read, clock.now(), reserved)
            skus.extend(page.skus)
            quantities.update(page.recompute.quantities)
            skipped.update(page.skipped_codes)
            rows += page.rows
            removed += page.removed
            handed_over += page.handed_over
        return CaptureResult(
            tuple(sorted(set(skus))),
            rows,
            removed,
            tuple(sorted(skipped)),
            RecomputeResult(quantities),
            handed_over=handed_over,
        )

    async def poll_until_current(
        self, engine: Engine, erp: ErpGateway, clock: Clock, *, limit: int = 1000, max_pages: int = 100
    ) -> list[CaptureResult]:
        """Poll page after page until Odoo has nothing newer (the periodic safety net)."""
        results = []
        for _ in range(max_pages):
            with engine.connect() as connection:
                cursor = StateRepositories.on(connection).cursors.get(self.cursor_name)
            reserved = await self.reserved_before_read_via(engine.connect, erp, None)
            changes = await erp.stock_changes_since(cursor, limit=limit)
            with engine.begin() as connection:
                now = clock.now()
                result = self.apply(connection, changes.read, now, reserved)
                StateRepositories.on(connection).cursors.set(self.cursor_name, changes.cursor, now)
            results.append(result)
            if not changes.has_more:
                break
        return results
