"""SQLite readers (`reader(engine)`) take no write lock: they read a consistent snapshot while a
writer's transaction is open, instead of queueing behind it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import sqlalchemy as sa

from channelhub.store.db import WriterMutex, create_store_engine, priority_writer, reader, writer_stats


def table_store(tmp_path: Path, column: str) -> sa.Engine:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE TABLE t ({column})")
    return engine


def write_row(target: sa.Engine, value: object) -> None:
    with target.begin() as connection:
        connection.exec_driver_sql("INSERT INTO t VALUES (?)", (value,))


def holding_writer(engine: sa.Engine, name: str = "holder") -> tuple[threading.Thread, threading.Event]:
    """A thread inside a write transaction (it wrote 'holder') until the returned event is set."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO t VALUES ('holder')")
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold, name=name)
    thread.start()
    assert holding.wait(5)
    return thread, release


def test_a_reader_does_not_wait_for_an_open_write_transaction(tmp_path: Path) -> None:
    engine = table_store(tmp_path, "who TEXT")
    write_row(engine, "committed")
    thread, release = holding_writer(engine)
    try:
        started = time.monotonic()
        with reader(engine).connect() as connection:
            rows = [row[0] for row in connection.exec_driver_sql("SELECT who FROM t")]
        assert rows == ["committed"]  # the committed rows only
        assert time.monotonic() - started < 1.0
    finally:
        release.set()
        thread.join(10)
    with reader(engine).connect() as connection:
        assert [row[0] for row in connection.exec_driver_sql("SELECT who FROM t ORDER BY rowid")] == [
            "committed",
            "holder",
        ]
    write_row(engine, "after")  # writers still work after readers came and went
    engine.dispose()


def test_reader_is_the_engine_itself_on_other_backends() -> None:
    engine = sa.create_engine("sqlite://")  # not configured by channelhub: no mutex, but still sqlite
    assert reader(engine) is not engine
    postgres = sa.create_engine("postgresql+psycopg://u@127.0.0.1:1/x")
    assert reader(postgres) is postgres


def test_writer_stats_count_waits_and_holds_per_thread_family(tmp_path: Path) -> None:
    engine = table_store(tmp_path, "n")
    slow, release = holding_writer(engine, "slow-1")
    quick = threading.Thread(target=write_row, args=(engine, 2), name="quick_1")
    quick.start()
    time.sleep(0.1)  # the quick writer now waits for the mutex
    release.set()
    slow.join(10)
    quick.join(10)
    with reader(engine).connect() as connection:  # readers are not counted
        connection.execute(sa.text("SELECT count(*) FROM t")).scalar()
    stats = writer_stats(engine)
    assert set(stats) == {"MainThread", "slow", "quick"}
    assert stats["slow"]["transactions"] == 1 and stats["slow"]["max_hold_ms"] >= 90
    assert stats["quick"]["mean_wait_ms"] >= 90
    assert writer_stats(sa.create_engine("sqlite://")) == {}  # not a store engine


def test_a_priority_writer_goes_before_waiting_ordinary_writers(tmp_path: Path) -> None:
    engine = table_store(tmp_path, "who TEXT")
    first, release = holding_writer(engine)
    ordinary = threading.Thread(target=write_row, args=(engine, "ordinary"))
    ordinary.start()
    time.sleep(0.1)  # queued first
    urgent = threading.Thread(target=write_row, args=(priority_writer(engine), "priority"))
    urgent.start()
    time.sleep(0.1)
    release.set()
    for thread in (first, ordinary, urgent):
        thread.join(10)
    with reader(engine).connect() as connection:
        order = [row[0] for row in connection.exec_driver_sql("SELECT who FROM t ORDER BY rowid")]
    assert order == ["holder", "priority", "ordinary"]


def test_the_writer_mutex_is_reentrant_and_owned() -> None:
    mutex = WriterMutex()
    mutex.acquire()
    mutex.acquire(priority=True)  # the owner again: no deadlock
    mutex.release()
    errors: list[Exception] = []

    def steal() -> None:
        try:
            mutex.release()
        except RuntimeError as error:
            errors.append(error)

    thief = threading.Thread(target=steal)
    thief.start()
    thief.join(5)
    assert len(errors) == 1
    mutex.release()
    got = threading.Event()
    other = threading.Thread(target=lambda: (mutex.acquire(), got.set(), mutex.release()))
    other.start()
    assert got.wait(5)
    other.join(5)
