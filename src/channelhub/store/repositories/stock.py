"""Stock positions per SKU × warehouse × location, as last read from Odoo.

Rows are kept per location so a change in one location (a quant moved to quality hold) replaces
exactly that row; readers get the domain's `StockPosition` per SKU × warehouse (the sum).
Each row carries the Odoo `write_date` it came from: an older snapshot arriving late (polling and
webhooks race) never overwrites a newer one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from channelhub.domain import Sku, StockPosition
from channelhub.store.repositories._sql import chunks, insert_for
from channelhub.store.state_tables import stock_position as table


@dataclass(frozen=True, slots=True)
class LocationStock:
    """Stock of one SKU in one location of a warehouse (product unit)."""

    sku: Sku
    warehouse: str
    location: str
    on_hand: int
    reserved: int = 0
    hold: int = 0
    incoming: int = 0
    source_write_date: datetime | None = None


class StockRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def upsert(self, rows: Iterable[LocationStock], at: datetime) -> None:
        """Insert or replace location rows; a row older than the stored one (by write_date) is skipped."""
        params = [
            {
                "sku": row.sku.value,
                "warehouse": row.warehouse,
                "location": row.location,
                "on_hand": row.on_hand,
                "reserved": row.reserved,
                "hold": row.hold,
                "incoming": row.incoming,
                "source_write_date": row.source_write_date,
                "updated_at": at,
            }
            for row in rows
        ]
        if not params:
            return
        insert = insert_for(self._connection, table)
        new = insert.excluded
        statement = insert.on_conflict_do_update(
            index_elements=[table.c.sku, table.c.warehouse, table.c.location],
            set_={
                "on_hand": new.on_hand,
                "reserved": new.reserved,
                "hold": new.hold,
                "incoming": new.incoming,
                "source_write_date": sa.func.coalesce(new.source_write_date, table.c.source_write_date),
                "updated_at": new.updated_at,
            },
            where=sa.or_(
                new.source_write_date.is_(None),
                table.c.source_write_date.is_(None),
                new.source_write_date >= table.c.source_write_date,
            ),
        )
        self._connection.execute(statement, params)

    def remove(self, keys: Iterable[tuple[Sku, str, str]]) -> None:
        """Forget `(sku, warehouse, location)` rows, e.g. quants Odoo deleted (a full resync found
        them gone); absent keys are ignored."""
        params = [
            {"b_sku": sku.value, "b_warehouse": code, "b_location": location} for sku, code, location in keys
        ]
        if params:
            statement = sa.delete(table).where(
                table.c.sku == sa.bindparam("b_sku"),
                table.c.warehouse == sa.bindparam("b_warehouse"),
                table.c.location == sa.bindparam("b_location"),
            )
            self._connection.execute(statement, params)

    def positions(
        self, skus: Iterable[Sku] | None = None, warehouse: str | None = None
    ) -> list[StockPosition]:
        """`StockPosition` per SKU × warehouse (sum over locations), sorted by SKU then warehouse."""
        query = (
            sa.select(
                table.c.sku,
                table.c.warehouse,
                sa.func.sum(table.c.on_hand),
                sa.func.sum(table.c.reserved),
                sa.func.sum(table.c.hold),
                sa.func.sum(table.c.incoming),
            )
            .group_by(table.c.sku, table.c.warehouse)
            .order_by(table.c.sku, table.c.warehouse)
        )
        if warehouse is not None:
            query = query.where(table.c.warehouse == warehouse)
        batches = [None] if skus is None else list(chunks(sorted({sku.value for sku in skus})))
        result: list[StockPosition] = []
        for batch in batches:
            selected = query if batch is None else query.where(table.c.sku.in_(batch))
            result.extend(
                StockPosition(
                    sku=Sku(sku),
                    warehouse=code,
                    on_hand=int(on_hand),
                    reserved=int(reserved),
                    hold=int(hold),
                    incoming=int(incoming),
                )
                for sku, code, on_hand, reserved, hold, incoming in self._connection.execute(selected)
            )
        return result

    def locations(self, sku: Sku) -> list[LocationStock]:
        """The per-location rows behind a SKU's positions (for explaining a number)."""
        rows = self._connection.execute(
            sa.select(table).where(table.c.sku == sku.value).order_by(table.c.warehouse, table.c.location)
        )
        return [
            LocationStock(
                sku=sku,
                warehouse=row.warehouse,
                location=row.location,
                on_hand=row.on_hand,
                reserved=row.reserved,
                hold=row.hold,
                incoming=row.incoming,
                source_write_date=row.source_write_date,
            )
            for row in rows
        ]
