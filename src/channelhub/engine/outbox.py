"""The transactional outbox: events are appended in the caller's transaction.

    with engine.begin() as connection:
        save_stock_position(connection, ...)            # the state change
        append(connection, [NewEvent(...), ...])         # and the events it emits
    # both commit together, or neither does

Appending an event whose `event_id` was appended before (pending, handled or dead; until
`purge_event_ids` forgets old ids) stores nothing: producers can re-emit after a crash or a duplicate webhook without double effects.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from channelhub.clock import SYSTEM_CLOCK, Clock
from channelhub.engine.events import EventError, NewEvent, partition_of
from channelhub.engine.sql import LogSql
from channelhub.store.log_tables import log_event

_SQL: dict[str, LogSql] = {}


def sql_for_dialect(name: str) -> LogSql:
    """The log's statements for a dialect (rendered once per dialect)."""
    if name not in _SQL:
        _SQL[name] = LogSql(name)
    return _SQL[name]


def sql_for(connection: sa.Connection) -> LogSql:
    return sql_for_dialect(connection.dialect.name)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # money stays exact: never through float
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _encode(document: Any, events: Sequence[NewEvent]) -> str:
    try:
        return json.dumps(document, separators=(",", ":"), default=_json_default)
    except (TypeError, ValueError):
        for event in events:
            encode_payload(event)  # names the event whose payload is the problem
        raise


def encode_payload(event: NewEvent) -> str:
    try:
        return json.dumps(event.payload, separators=(",", ":"), default=_json_default)
    except (TypeError, ValueError) as error:
        raise EventError(f"payload of event {event.event_id!r} cannot be stored as JSON: {error}") from error


def append(connection: sa.Connection, events: Sequence[NewEvent], clock: Clock = SYSTEM_CLOCK) -> int:
    """Write `events` in the connection's open transaction; returns how many were new.

    Events keep the order of `events` in the log, so per-key order is the order given here (and,
    across transactions, the order in which they commit).
    """
    if not events:
        return 0
    if not connection.in_transaction():
        raise EventError("append() must run inside the caller's transaction (use `with engine.begin()`)")
    sql = sql_for(connection)
    now = clock.now().timestamp()
    events = _first_of_each_id(events)
    if sql.postgres:
        rows_document = _encode(
            [
                [e.event_id, e.topic, e.key, int(e.tier), partition_of(e.key), e.payload, float(e.delay_s)]
                for e in events
            ],
            events,
        )
        result = connection.exec_driver_sql(sql["append_postgresql"], {"now": now, "rows": rows_document})
    else:
        rows = [
            (
                event.event_id,
                event.topic,
                event.key,
                int(event.tier),
                partition_of(event.key),
                encode_payload(event),
                now,
                now + event.delay_s,
                event.event_id,
            )
            for event in events
        ]
        result = connection.exec_driver_sql(sql["append_sqlite"], rows)
        connection.exec_driver_sql(sql["remember_ids_sqlite"], [(event.event_id, now) for event in events])
    return max(0, result.rowcount)


def append_unless_pending(connection: sa.Connection, event: NewEvent, clock: Clock = SYSTEM_CLOCK) -> int:
    """Append `event` unless an event of the same topic and key is still pending: for periodic
    ticks (a stock poll, a reservation check) a tick still waiting in the queue makes the next one
    redundant, and piling them up behind a backlog would only add to it. Returns 1 or 0."""
    pending = (
        sa.select(log_event.c.seq)
        .where(
            log_event.c.status == "pending",
            log_event.c.tier == int(event.tier),
            log_event.c.topic == event.topic,
            log_event.c.key == event.key,
        )
        .limit(1)
    )
    if connection.execute(pending).first() is not None:
        return 0
    return append(connection, [event], clock)


def _first_of_each_id(events: Sequence[NewEvent]) -> Sequence[NewEvent]:
    """The first occurrence of each id, in the order given."""
    seen: set[str] = set()
    unique: list[NewEvent] = []
    for event in events:
        if event.event_id not in seen:
            seen.add(event.event_id)
            unique.append(event)
    return unique
