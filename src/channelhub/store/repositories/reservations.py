"""Soft reservations: units of orders accepted on a channel but not yet reserved in Odoo.

One row per order and SKU. Recording the same order again (a redelivered webhook) changes nothing,
so at-least-once delivery never reserves twice. Releasing happens when Odoo has reserved the
stock itself (or the order was cancelled); released rows stay for the audit trail until purged.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from channelhub.domain import Sku, SoftReservation
from channelhub.store.repositories._sql import chunks, insert_for
from channelhub.store.state_tables import soft_reservation as table


class SoftReservationRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def reserve(self, reservations: Iterable[SoftReservation], at: datetime) -> None:
        """Record reservations; an `(order_key, sku)` that is already recorded is left unchanged."""
        params = [
            {
                "order_key": r.order_key,
                "sku": r.sku.value,
                "channel": r.channel,
                "units": r.units,
                "released": False,
                "created_at": at,
            }
            for r in reservations
        ]
        if params:
            insert = insert_for(self._connection, table)
            self._connection.execute(
                insert.on_conflict_do_nothing(index_elements=[table.c.order_key, table.c.sku]), params
            )

    def release(self, order_key: str, at: datetime, skus: Iterable[Sku] | None = None) -> int:
        """Release the order's open reservations (or only those of `skus`); returns how many."""
        statement = (
            sa.update(table)
            .where(table.c.order_key == order_key, table.c.released == sa.false())
            .values(released=True, released_at=at)
        )
        if skus is not None:
            statement = statement.where(table.c.sku.in_([sku.value for sku in skus]))
        return self._connection.execute(statement).rowcount

    def open_units(self, skus: Iterable[Sku] | None = None) -> dict[Sku, int]:
        """Open (unreleased) units per SKU; SKUs without any are absent."""
        query = (
            sa.select(table.c.sku, sa.func.sum(table.c.units))
            .where(table.c.released == sa.false())
            .group_by(table.c.sku)
        )
        batches = [None] if skus is None else list(chunks(sorted({sku.value for sku in skus})))
        totals: dict[Sku, int] = {}
        for batch in batches:
            selected = query if batch is None else query.where(table.c.sku.in_(batch))
            totals.update((Sku(sku), int(units)) for sku, units in self._connection.execute(selected))
        return totals

    def open_reservations(self, sku: Sku | None = None) -> list[SoftReservation]:
        """Open reservations (of one SKU), oldest first: the inputs behind an ATS explanation."""
        query = sa.select(table).where(table.c.released == sa.false())
        if sku is not None:
            query = query.where(table.c.sku == sku.value)
        rows = self._connection.execute(query.order_by(table.c.created_at, table.c.order_key, table.c.sku))
        return [
            SoftReservation(order_key=row.order_key, channel=row.channel, sku=Sku(row.sku), units=row.units)
            for row in rows
        ]

    def purge_released(self, released_before: datetime) -> int:
        """Delete reservations released before the given time; returns how many."""
        statement = sa.delete(table).where(
            table.c.released == sa.true(), table.c.released_at < released_before
        )
        return self._connection.execute(statement).rowcount
