"""Store infrastructure on real databases: SQLite pragmas and writers, PostgreSQL schema isolation."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from channelhub.engine.events import NewEvent
from channelhub.engine.outbox import append
from channelhub.store.db import create_store_engine, isolated_schema, upgrade_to_head


def test_sqlite_runs_wal_with_busy_timeout_and_foreign_keys(tmp_sqlite_url: str) -> None:
    engine = create_store_engine(tmp_sqlite_url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar_one() == 1  # NORMAL
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 30_000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    engine.dispose()


def test_sqlite_writers_in_threads_queue_instead_of_failing(tmp_sqlite_url: str) -> None:
    upgrade_to_head(tmp_sqlite_url)
    engine = create_store_engine(tmp_sqlite_url)
    errors: list[BaseException] = []

    def produce(name: str) -> None:
        try:
            for batch in range(40):
                with engine.begin() as connection:
                    # Read, then write, in one transaction: the pattern that fails on SQLite with a
                    # deferred BEGIN when another writer gets in between.
                    connection.exec_driver_sql("SELECT count(*) FROM log_event").scalar_one()
                    append(
                        connection, [NewEvent(f"{name}-{batch}-{i}", "t", f"{name}-{i}") for i in range(5)]
                    )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=produce, args=(f"p{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM log_event").scalar_one() == 4 * 40 * 5
    engine.dispose()


def test_postgres_runs_are_isolated_in_their_own_schema_and_cleaned_up(postgres_url: str) -> None:
    with isolated_schema(postgres_url) as first, isolated_schema(postgres_url) as second:
        assert first and second and first != second
        upgrade_to_head(postgres_url, first)
        upgrade_to_head(postgres_url, second)
        engine = create_store_engine(postgres_url, schema=first)
        with engine.begin() as connection:
            append(connection, [NewEvent("only-in-first", "t", "k")])
        engine.dispose()
        other = create_store_engine(postgres_url, schema=second)
        with other.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM log_event").scalar_one() == 0
        other.dispose()
    admin = create_store_engine(postgres_url)
    with admin.connect() as connection:
        left = connection.execute(
            sa.text("SELECT count(*) FROM information_schema.schemata WHERE schema_name IN (:a, :b)"),
            {"a": first, "b": second},
        ).scalar_one()
    admin.dispose()
    assert left == 0
