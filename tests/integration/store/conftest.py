"""The same store tests run on SQLite and PostgreSQL, each test in a fresh, migrated database.

PostgreSQL tests take the `postgres_url` fixture (skip when absent, fail under
CHANNELHUB_REQUIRE_SERVICES=1) and run in their own schema, dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from channelhub.store.db import create_store_engine, isolated_schema, upgrade_to_head
from channelhub.store.repositories import StateRepositories

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """A point in time `seconds` after T0 (tests never read the wall clock)."""
    return T0 + timedelta(seconds=seconds)


@dataclass(frozen=True)
class StateDb:
    url: str
    schema: str | None
    engine: sa.Engine

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[StateRepositories]:
        """Repositories on one connection; commits when the block ends without an exception."""
        with self.engine.begin() as connection:
            yield StateRepositories.on(connection)


@pytest.fixture(params=["sqlite", "postgresql"])
def state_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateDb]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/state.db"
    else:
        url = request.getfixturevalue("postgres_url")
    with isolated_schema(url, prefix="state") as schema:
        upgrade_to_head(url, schema)
        engine = create_store_engine(url, schema=schema)
        try:
            yield StateDb(url, schema, engine)
        finally:
            engine.dispose()
