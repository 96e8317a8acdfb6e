"""Store infrastructure: one URL selects the backend, migrations run from code.

* `sqlite:///path` — the embedded default. Every connection runs in WAL mode with
  `synchronous=NORMAL` (durable across process crashes, one fsync per checkpoint instead of per
  commit), a busy timeout (writers queue instead of failing) and foreign keys on. Transactions
  start with `BEGIN IMMEDIATE` so a transaction that reads and then writes can never fail half way
  with "database is locked" when another writer got in between; transactions that only read go
  through `reader(engine)` and take no lock at all.
* `postgresql://…` — the production backend, through psycopg 3 (plain `postgresql://` URLs are
  mapped to `postgresql+psycopg://`). `schema=` pins the connection's `search_path` to one schema,
  which `isolated_schema()` creates and drops so concurrent runs and tests never see each other.

All tables live in one SQLAlchemy `MetaData`: `metadata` below. Every table module of the store
(the event log in `log_tables.py`, the domain state tables added later) defines its tables on this
same object, so one `metadata` describes the whole database; the Alembic revisions stay the
source of truth for the schema (`0001_log` creates the event log, later revisions build on it).
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
DATABASE_URL_ENV = "CHANNELHUB_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_MS = 30_000

# Constraint names are predictable, so migrations can refer to them on both backends.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
"""The one MetaData of the channelhub database (event log and domain state tables)."""

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class StoreConfigError(ValueError):
    """The database URL or schema name is not usable."""


def postgres_url_from_env() -> str:
    """The PostgreSQL URL to use: `CHANNELHUB_DATABASE_URL`, or the local default."""
    return os.environ.get(DATABASE_URL_ENV, DEFAULT_POSTGRES_URL)


def normalize_url(url: str) -> str:
    """Map the URL to the driver channelhub uses (psycopg 3 for PostgreSQL)."""
    try:
        parsed = make_url(url)
    except Exception as error:  # SQLAlchemy raises ArgumentError with a terse message
        raise StoreConfigError(f"not a database URL: {url!r} ({error})") from error
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if backend == "sqlite":
        return url
    raise StoreConfigError(f"unsupported database {backend!r} in {url!r}: use sqlite:/// or postgresql://")


def backend_of(url: str) -> str:
    """`"sqlite"` or `"postgresql"`."""
    return make_url(normalize_url(url)).get_backend_name()


def check_schema_name(schema: str) -> str:
    if not _SCHEMA_NAME.match(schema):
        raise StoreConfigError(f"schema name {schema!r} must match {_SCHEMA_NAME.pattern}")
    return schema


def create_store_engine(url: str, schema: str | None = None, **engine_options: Any) -> Engine:
    """An Engine for `url`, configured for channelhub (see the module docstring)."""
    url = normalize_url(url)
    if backend_of(url) == "sqlite":
        if schema is not None:
            raise StoreConfigError("SQLite has no schemas; use a separate database file instead")
        # Threads of one process each hold a connection for a moment (workers, readers, the API,
        # the publisher's writes): a pool large enough that they are reused, not reopened (each
        # new connection re-runs the PRAGMAs below).
        options: dict[str, Any] = {"pool_size": 20, "max_overflow": 20, **engine_options}
        if "poolclass" in engine_options or url.endswith(":memory:") or url in ("sqlite://", "sqlite:///"):
            options = engine_options  # an in-memory database lives in one connection's pool
        engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **options)
        _configure_sqlite(engine)
        return engine
    connect_args: dict[str, Any] = {}
    if schema is not None:
        connect_args["options"] = f"-csearch_path={check_schema_name(schema)}"
    return sa.create_engine(url, connect_args=connect_args, **engine_options)


READ_ONLY_OPTION = "channelhub_read_only"
PRIORITY_OPTION = "channelhub_priority_write"


def reader(engine: Engine) -> Engine:
    """The same engine for transactions that only read (`with reader(engine).connect() as c:`).

    On SQLite they begin with a plain (deferred) `BEGIN` instead of `BEGIN IMMEDIATE` and skip the
    process's writer mutex: in WAL mode a reader sees a consistent snapshot and neither waits for
    the writer nor holds it up. Writing through such a connection is a mistake (it may fail with
    "database is locked"). On PostgreSQL it is the engine itself: every transaction reads freely.
    """
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{READ_ONLY_OPTION: True})


class WriterStats:
    """How long this process's SQLite write transactions waited for the writer mutex and held
    it, per thread family (`threading.current_thread().name` up to its first `-` or `_`): a slow
    ingress or worker shows up here as waiting behind whoever holds the lock. Updated under the
    mutex itself, so no lock of its own."""

    def __init__(self) -> None:
        self._by_thread: dict[str, list[float]] = {}  # name -> [count, waited, held, max held]

    def _row(self) -> list[float]:
        name = re.split(r"[-_ ]", threading.current_thread().name, maxsplit=1)[0] or "thread"
        return self._by_thread.setdefault(name, [0.0, 0.0, 0.0, 0.0])

    def waited(self, seconds: float) -> None:
        row = self._row()
        row[0] += 1
        row[1] += seconds

    def held(self, seconds: float) -> None:
        row = self._row()
        row[2] += seconds
        row[3] = max(row[3], seconds)

    def summary(self) -> dict[str, dict[str, float]]:
        """Per thread family: transactions, mean wait and mean/max hold in milliseconds."""
        return {
            name: {
                "transactions": int(count),
                "mean_wait_ms": round(1000 * waited / count, 2),
                "mean_hold_ms": round(1000 * held / count, 2),
                "max_hold_ms": round(1000 * longest, 1),
            }
            for name, (count, waited, held, longest) in sorted(dict(self._by_thread).items())
            if count
        }


_WRITER_STATS: weakref.WeakKeyDictionary[Engine, WriterStats] = weakref.WeakKeyDictionary()


def writer_stats(engine: Engine) -> dict[str, dict[str, float]]:
    """`WriterStats.summary()` of a SQLite store engine ({} for PostgreSQL, which has no mutex)."""
    stats = _WRITER_STATS.get(engine)
    return stats.summary() if stats is not None else {}


def priority_writer(engine: Engine) -> Engine:
    """The same engine for short write transactions someone outside is waiting on (webhook
    ingress: the platform waits for our 200). On SQLite they take the process's writer mutex
    before every waiting ordinary writer, so they wait at most for the transaction in progress,
    not for the whole queue. On PostgreSQL it is the engine itself (no process-wide mutex)."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{PRIORITY_OPTION: True})


class WriterMutex:
    """The writer mutex of one SQLite store: re-entrant, and a priority waiter goes before any
    ordinary one (ordinary waiters keep their chance whenever no priority one waits)."""

    def __init__(self) -> None:
        self._state = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0
        self._priority_waiting = 0

    def acquire(self, priority: bool = False) -> None:
        me = threading.get_ident()
        with self._state:
            if self._owner == me:
                self._depth += 1
                return
            if priority:
                self._priority_waiting += 1
            try:
                while self._owner is not None or (not priority and self._priority_waiting):
                    self._state.wait()
            finally:
                if priority:
                    self._priority_waiting -= 1
            self._owner, self._depth = me, 1

    def release(self) -> None:
        with self._state:
            if self._owner != threading.get_ident():
                raise RuntimeError("the writer mutex is released by a thread that does not hold it")
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._state.notify_all()


def _configure_sqlite(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so BEGIN IMMEDIATE is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    # SQLite admits one writer at a time. Threads of this process queue on a mutex instead of in
    # SQLite's busy handler, which sleeps in growing steps (up to 100 ms) and so turns contention
    # into latency. Other processes still meet the busy timeout.
    writer = WriterMutex()
    stats = WriterStats()
    _WRITER_STATS[engine] = stats

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            # A reader: WAL gives it a consistent snapshot without the write lock, so it never
            # waits behind a writer (nor makes one wait).
            connection.exec_driver_sql("BEGIN")
            return
        asked = time.perf_counter()
        writer.acquire(bool(connection.get_execution_options().get(PRIORITY_OPTION)))
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writer.release()
            raise
        got = time.perf_counter()
        connection.info["holds_writer"] = got
        stats.waited(got - asked)

    # COMMIT/ROLLBACK are issued here, so the mutex is released only once SQLite's lock is gone
    # (the DBAPI call SQLAlchemy makes afterwards finds no open transaction and does nothing).
    @sa.event.listens_for(engine, "commit")
    def _on_commit(connection: sa.Connection) -> None:
        _finish(connection, "COMMIT")

    @sa.event.listens_for(engine, "rollback")
    def _on_rollback(connection: sa.Connection) -> None:
        _finish(connection, "ROLLBACK")

    def _finish(connection: sa.Connection, statement: str) -> None:
        try:
            driver = connection.connection.driver_connection
            if driver is not None and driver.in_transaction:
                driver.execute(statement)
        finally:
            since = connection.info.pop("holds_writer", None)
            if since is not None:
                stats.held(time.perf_counter() - since)  # still under the mutex: no race
                writer.release()


@contextmanager
def isolated_schema(url: str, prefix: str = "ch") -> Iterator[str | None]:
    """A fresh PostgreSQL schema for one run or test, dropped afterwards; None on SQLite.

    Pass the yielded name to `create_store_engine(url, schema=...)` and `upgrade_to_head`.
    """
    if backend_of(url) != "postgresql":
        yield None
        return
    schema = check_schema_name(f"{prefix}_{secrets.token_hex(6)}")
    admin = create_store_engine(url, poolclass=sa.pool.NullPool)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        yield schema
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def alembic_config(url: str, schema: str | None = None) -> Any:
    """The Alembic configuration, built in code (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    config.attributes["schema"] = schema
    return config


def upgrade_to_head(url: str, schema: str | None = None) -> None:
    """Bring the database (or the PostgreSQL schema) to the newest migration."""
    from alembic import command

    engine = create_store_engine(url, schema=schema, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            config = alembic_config(url, schema)
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")  # every branch, should two revisions share a parent
    finally:
        engine.dispose()
