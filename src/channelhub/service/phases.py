"""Two-phase use cases: read, call Odoo with no transaction open, then write.

A use case that waits on Odoo is split so no database transaction stays open across the call
(on SQLite a transaction holds the single write lock; on PostgreSQL it holds row locks and a
connection): `prepare_*` reads what it needs through a `Reader` (short transactions, never awaiting
inside one), makes its Odoo calls, and returns a `Step` that applies the outcome in the caller's
transaction. The log runs the two phases as an external handler (`engine.handlers`);
`reader_of(connection)` runs both on one open connection (`OrderIngestion.sync_to_erp`).
Steps re-check what may have changed meanwhile (e.g. a newer order snapshot).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa

T = TypeVar("T")

Reader = Callable[[], AbstractContextManager[sa.Connection]]
"""`with read() as connection:` a short transaction to read in."""

Step = Callable[[sa.Connection, datetime], T]
"""`step(connection, at)`: the second phase, inside the caller's transaction."""


def reader_of(connection: sa.Connection) -> Reader:
    """A Reader over a connection that is already open (both phases on one transaction)."""
    return lambda: nullcontext(connection)


def done(value: T) -> Step[T]:
    """A step with nothing to write."""
    return lambda _connection, _at: value
