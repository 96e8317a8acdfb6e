"""SQL helpers shared by the repositories: dialect-specific upserts and batching."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

T = TypeVar("T")

IN_CHUNK = 500
"""Values per `IN (...)` list: far below SQLite's 32,766 bound-parameter limit, few round trips."""


def insert_for(connection: sa.Connection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """`INSERT` with `ON CONFLICT` support for the connection's dialect (both share the API)."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    if connection.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"unsupported database dialect {connection.dialect.name!r}")


def chunks(items: Iterable[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
