"""Sync cursors: named positions of incremental reads (e.g. the last Odoo `write_date` polled)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from channelhub.store.repositories._sql import insert_for
from channelhub.store.state_tables import sync_cursor as table


class SyncCursorRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def get(self, name: str) -> str | None:
        return self._connection.execute(
            sa.select(table.c.value).where(table.c.name == name)
        ).scalar_one_or_none()

    def set(self, name: str, value: str, at: datetime) -> None:
        insert = insert_for(self._connection, table)
        self._connection.execute(
            insert.on_conflict_do_update(
                index_elements=[table.c.name],
                set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at},
            ),
            {"name": name, "value": value, "updated_at": at},
        )

    def all(self) -> dict[str, str]:
        rows = self._connection.execute(sa.select(table.c.name, table.c.value).order_by(table.c.name))
        return {name: value for name, value in rows}
