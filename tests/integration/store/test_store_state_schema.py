"""The `0002_state` migration builds exactly the tables `state_tables` declares, and reverses."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from channelhub.store.db import alembic_config, metadata
from channelhub.store.state_tables import STATE_TABLES, sync_cursor
from tests.integration.store.conftest import StateDb, at

STATE_TABLE_NAMES = {table.name for table in STATE_TABLES}


def _table_of(difference: object) -> str | None:
    """The table a compare_metadata difference is about (they come as tuples or lists of tuples)."""
    entry = difference[0] if isinstance(difference, list) else difference
    assert isinstance(entry, tuple)
    for item in entry[1:]:
        if isinstance(item, sa.Table):
            return item.name
        if isinstance(item, sa.Index | sa.UniqueConstraint) and item.table is not None:
            return item.table.name
        if isinstance(item, sa.Column) and item.table is not None:
            return item.table.name
        if isinstance(item, str) and item in STATE_TABLE_NAMES:
            return item
    return None


def test_migration_matches_declared_state_tables(state_db: StateDb) -> None:
    with state_db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = [
            difference
            for difference in compare_metadata(context, metadata)
            if _table_of(difference) in STATE_TABLE_NAMES
            # PostgreSQL stores column comments; the migration leaves them out on purpose.
            and not (isinstance(difference, list) and difference[0][0] == "modify_comment")
        ]
    assert differences == []
    assert set(sa.inspect(state_db.engine).get_table_names()) >= STATE_TABLE_NAMES


def test_downgrade_to_the_log_and_upgrade_again(state_db: StateDb) -> None:
    def run(step: str, revision: str) -> None:
        with state_db.engine.begin() as connection:
            config = alembic_config(state_db.url, state_db.schema)
            config.attributes["connection"] = connection
            getattr(command, step)(config, revision)

    run("downgrade", "0001_log")
    names = set(sa.inspect(state_db.engine).get_table_names())
    assert not names & STATE_TABLE_NAMES
    assert "log_event" in names
    run("upgrade", "head")
    assert set(sa.inspect(state_db.engine).get_table_names()) >= STATE_TABLE_NAMES


def test_times_come_back_as_aware_utc(state_db: StateDb) -> None:
    from datetime import datetime, timedelta, timezone

    berlin = at(0).astimezone(timezone(timedelta(hours=1)))
    with state_db.transaction() as repos:
        repos.cursors.set("odoo.stock", "x", berlin)
    with state_db.engine.connect() as connection:
        value = connection.execute(sa.select(sync_cursor.c.updated_at)).scalar_one()
        raw = connection.execute(sa.text("SELECT updated_at FROM sync_cursor")).scalar_one()
    assert value == at(0) and value.utcoffset() == timedelta(0)
    if state_db.backend == "sqlite":
        assert raw.startswith("2026-11-23 12:00:00")  # stored as UTC text, so text order is time order
    naive = datetime(2026, 1, 1)
    try:
        with state_db.transaction() as repos:
            repos.cursors.set("odoo.stock", "y", naive)
    except sa.exc.StatementError as error:
        assert "naive datetime" in str(error)
    else:
        raise AssertionError("a naive datetime was stored")
