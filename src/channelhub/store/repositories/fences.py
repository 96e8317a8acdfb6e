"""The low-stock fence's state (`channelhub.domain.fence`): which SKUs are fenced and what each
fenced channel sold since. A SKU without rows is not fenced."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import sqlalchemy as sa

from channelhub.domain import Sku
from channelhub.store.repositories._sql import chunks, insert_for
from channelhub.store.state_tables import low_stock_fence as table


class FenceRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def sold(self, skus: Iterable[Sku], *, lock: bool = False) -> dict[Sku, dict[str, int]]:
        """Units sold per fenced channel since the fence went up, for the fenced SKUs among `skus`.

        `lock` takes the rows' locks (PostgreSQL), in (SKU, channel) order, for a transaction that
        will change them: concurrent recomputes of one SKU then wait for each other."""
        fenced: dict[Sku, dict[str, int]] = {}
        for batch in chunks(sorted({sku.value for sku in skus})):
            query = sa.select(table.c.sku, table.c.channel, table.c.sold_units).where(table.c.sku.in_(batch))
            query = query.order_by(table.c.sku, table.c.channel)
            if lock and self._connection.dialect.name == "postgresql":
                query = query.with_for_update()
            for row in self._connection.execute(query):
                fenced.setdefault(Sku(row.sku), {})[row.channel] = int(row.sold_units)
        return fenced

    def put_up(self, fences: Mapping[Sku, Iterable[str]], at: datetime) -> None:
        """Fence these SKUs on these channels, every count at 0 (a fence already up is kept)."""
        rows = [
            {"sku": sku.value, "channel": channel, "sold_units": 0, "fenced_at": at}
            for sku, channels in sorted(fences.items())
            for channel in sorted(channels)
        ]
        if rows:
            insert = insert_for(self._connection, table)
            self._connection.execute(insert.on_conflict_do_nothing(), rows)

    def take_down(self, skus: Iterable[Sku]) -> None:
        for batch in chunks(sorted({sku.value for sku in skus})):
            self._connection.execute(sa.delete(table).where(table.c.sku.in_(batch)))

    def count_sale(self, channel: str, quantities: Mapping[Sku, int]) -> None:
        """`channel` sold these units: count them on the SKUs fenced on it (others: nothing)."""
        rows = [
            {"c": channel, "s": sku.value, "n": units}
            for sku, units in sorted(quantities.items())
            if units > 0
        ]
        if rows:
            self._connection.execute(
                sa.update(table)
                .where(table.c.channel == sa.bindparam("c"), table.c.sku == sa.bindparam("s"))
                .values(sold_units=table.c.sold_units + sa.bindparam("n")),
                rows,
            )

    def all(self) -> dict[Sku, dict[str, int]]:
        """Every fenced SKU with its counts (tests and diagnosis)."""
        fenced: dict[Sku, dict[str, int]] = {}
        for row in self._connection.execute(sa.select(table).order_by(table.c.sku, table.c.channel)):
            fenced.setdefault(Sku(row.sku), {})[row.channel] = int(row.sold_units)
        return fenced
