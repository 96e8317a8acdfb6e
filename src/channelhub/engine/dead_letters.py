"""The dead-letter store: events that failed permanently or ran out of attempts, and replay.

A dead letter is the event's own row with `status = 'dead'`, its `dead_reason`, `attempts` and
`last_error`. Replaying makes it pending again with fresh attempts, due now; it is then handled
like any event of its key (after the key's events that are already pending before it in the log).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from channelhub.clock import SYSTEM_CLOCK, Clock
from channelhub.engine.outbox import sql_for
from channelhub.engine.sql import LogSql


@dataclass(frozen=True)
class DeadLetter:
    seq: int
    event_id: str
    topic: str
    key: str
    tier: int
    payload: dict[str, Any]
    attempts: int
    reason: str
    last_error: str
    dead_at: float
    replays: int


@dataclass(frozen=True)
class DeadLetterFilter:
    """Which dead letters to list or replay; empty fields match everything."""

    topic: str | None = None
    key: str | None = None
    error_contains: str | None = None
    event_id: str | None = None

    def where(self, sql: LogSql) -> tuple[str, dict[str, Any]]:
        clauses, params = ["status = 'dead'"], {}
        if self.topic is not None:
            clauses.append("topic = :topic")
            params["topic"] = self.topic
        if self.key is not None:
            clauses.append("key = :key")
            params["key"] = self.key
        if self.event_id is not None:
            clauses.append("event_id = :event_id")
            params["event_id"] = self.event_id
        if self.error_contains:
            find = "strpos" if sql.postgres else "instr"
            clauses.append(f"{find}(lower(coalesce(last_error, '')), lower(:error_text)) > 0")
            params["error_text"] = self.error_contains
        return " AND ".join(clauses), params


def list_dead_letters(
    connection: sa.Connection, matching: DeadLetterFilter | None = None, limit: int = 100
) -> list[DeadLetter]:
    """Dead letters, oldest first."""
    sql = sql_for(connection)
    where, params = (matching or DeadLetterFilter()).where(sql)
    statement = sql.render(
        "SELECT seq, event_id, topic, key, tier, payload, attempts, dead_reason, last_error, dead_at, replays "
        f"FROM log_event WHERE {where} ORDER BY seq LIMIT :limit"
    )
    rows = connection.exec_driver_sql(statement, {**params, "limit": limit}).all()
    return [
        DeadLetter(
            seq=row[0],
            event_id=row[1],
            topic=row[2],
            key=row[3],
            tier=row[4],
            payload=json.loads(row[5]) if isinstance(row[5], str) else dict(row[5]),
            attempts=row[6],
            reason=row[7] or "",
            last_error=row[8] or "",
            dead_at=row[9] or 0.0,
            replays=row[10],
        )
        for row in rows
    ]


def replay(connection: sa.Connection, matching: DeadLetterFilter, clock: Clock = SYSTEM_CLOCK) -> int:
    """Make the matching dead letters pending again; returns how many. Run inside a transaction."""
    sql = sql_for(connection)
    where, params = matching.where(sql)
    statement = sql.render(
        "UPDATE log_event SET status = 'pending', attempts = 0, available_at = :now, "
        f"dead_reason = NULL, dead_at = NULL, replays = replays + 1 WHERE {where}"
    )
    result = connection.exec_driver_sql(statement, {**params, "now": clock.now().timestamp()})
    return max(0, result.rowcount)


def replay_one(connection: sa.Connection, event_id: str, clock: Clock = SYSTEM_CLOCK) -> bool:
    return replay(connection, DeadLetterFilter(event_id=event_id), clock) == 1


def replay_all(connection: sa.Connection, clock: Clock = SYSTEM_CLOCK) -> int:
    return replay(connection, DeadLetterFilter(), clock)


def purge_event_ids(connection: sa.Connection, older_than_s: float, clock: Clock = SYSTEM_CLOCK) -> int:
    """Forget ids appended more than `older_than_s` ago; returns how many.

    Handled events are deleted when acknowledged; what stays is their id, so a producer that
    re-emits one (a redelivered webhook) does not run it again. The retention is therefore the
    deduplication window: keep it longer than any producer may re-emit (e.g. the channels'
    webhook retry horizon of 48 hours).
    """
    if older_than_s < 0:
        raise ValueError("older_than_s cannot be negative")
    sql = sql_for(connection)
    before = clock.now().timestamp() - older_than_s
    return max(0, connection.exec_driver_sql(sql["purge_event_ids"], {"before": before}).rowcount)
