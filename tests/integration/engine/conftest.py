"""Fixtures of the event log integration tests: one migrated database per test, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from channelhub.store.db import create_store_engine, isolated_schema, upgrade_to_head

EFFECTS_DDL = (
    "CREATE TABLE test_effect (id {serial} PRIMARY KEY, event_id VARCHAR(255) NOT NULL, "
    "key VARCHAR(255) NOT NULL, n INTEGER NOT NULL, worker VARCHAR(200) NOT NULL)"
)


@dataclass
class LogDatabase:
    url: str
    schema: str | None
    engine: sa.Engine
    backend: str

    def effects(self) -> list[tuple[str, str, int, str]]:
        with self.engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT event_id, key, n, worker FROM test_effect ORDER BY id")
            return [tuple(row) for row in rows]  # type: ignore[misc]

    def statuses(self) -> dict[str, tuple[str, int | None]]:
        """Every appended event: (pending|dead, attempts), or ("done", None) once acknowledged."""
        with self.engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT event_id, status, attempts FROM log_event")
            found: dict[str, tuple[str, int | None]] = {row[0]: (row[1], row[2]) for row in rows}
            for (event_id,) in connection.exec_driver_sql("SELECT event_id FROM log_event_id"):
                found.setdefault(event_id, ("done", None))
            return found


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def log_db(request: pytest.FixtureRequest, tmp_sqlite_url: str) -> Iterator[LogDatabase]:
    if request.param == "sqlite":
        url, schemas = tmp_sqlite_url, None
    else:
        url = request.getfixturevalue("postgres_url")
        schemas = isolated_schema(url, prefix="test")
    if schemas is None:
        yield from _migrated(url, None, "sqlite")
        return
    with schemas as schema:
        yield from _migrated(url, schema, "postgresql")


def _migrated(url: str, schema: str | None, backend: str) -> Iterator[LogDatabase]:
    upgrade_to_head(url, schema)
    engine = create_store_engine(url, schema)
    serial = "INTEGER" if backend == "sqlite" else "BIGSERIAL"
    with engine.begin() as connection:
        connection.exec_driver_sql(EFFECTS_DDL.format(serial=serial))
    try:
        yield LogDatabase(url, schema, engine, backend)
    finally:
        engine.dispose()
