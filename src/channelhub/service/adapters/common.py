"""Plumbing every channel gateway shares: its name, and the order cursor it reads and returns.

The cursor handed to `orders_since` is an ISO-8601 timestamp (or None before the first read);
each gateway answers with the cursor to resume from, which stays put when nothing newer came.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Generic, TypeVar

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Connector = TypeVar("Connector")


def cursor_time(cursor: str | None) -> datetime | None:
    """The timestamp a cursor names; None before the first read."""
    return datetime.fromisoformat(cursor) if cursor else None


def next_cursor(newest: datetime | None, cursor: str | None) -> str | None:
    """The cursor after a read: the newest change seen, else the one we started from."""
    return newest.isoformat() if newest is not None else cursor


class NamedChannelGateway(Generic[Connector]):
    """A gateway for one configured channel (`name`, as in the landscape file) over its connector."""

    def __init__(self, name: str, connector: Connector) -> None:
        self._name = name
        self.connector = connector

    @property
    def name(self) -> str:
        return self._name
