"""Every SQL statement of the event log, in one place, for both backends.

Statements are written once with `:name` placeholders; `LogSql` renders them for the dialect
(psycopg wants `%(name)s`).

Acknowledging an event deletes its row: a delete touches no index, where marking the row done
would write a new row version and new index entries (PostgreSQL cannot update a column a partial
index depends on in place). Deduplication of appends lives in `log_event_id`, which keeps every id
ever appended (until `purge_event_ids`). Guards use `dead_at IS NULL` rather than `status`, so the
planner picks the primary key for them instead of a partial index it cannot size before
statistics exist. Lists of ids travel as ONE parameter: a PostgreSQL array
(`= ANY(:ids)`) or a JSON text that SQLite unpacks with `json_each` — one bind per statement
instead of hundreds, which keeps the hot path cheap on both backends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

_NAMED = re.compile(r"(?<!:):(\w+)")

# A batch is chosen from the ready rows without their payloads (a worker reads past events it
# leaves for later, e.g. external calls beyond its backlog: hundreds of rows per cycle when its lane
# is behind); then `payloads` reads the chosen ones'. The payload comes back as text on both
# backends: one json.loads, no driver-side JSON loader.
_COLUMNS = "seq, event_id, topic, key, tier, created_at, attempts"

_READY_ONE_TIER = """SELECT * FROM (
    SELECT {cols} FROM log_event
    WHERE status = 'pending' AND tier = {tier} AND available_at <= :now AND {parts}
    ORDER BY tier, seq LIMIT :limit{tier}) AS ready{tier}"""

STATEMENTS: dict[str, str] = {
    # SQLite has one writer at a time: check-then-insert cannot race.
    "append_sqlite": """
        INSERT INTO log_event (event_id, topic, key, tier, partition, payload, status, attempts,
                               created_at, available_at)
        SELECT ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?
        WHERE NOT EXISTS (SELECT 1 FROM log_event_id WHERE event_id = ?)""",
    "remember_ids_sqlite": """
        INSERT INTO log_event_id (event_id, appended_at) VALUES (?, ?) ON CONFLICT (event_id) DO NOTHING""",
    # Concurrent appends of one id: the second waits on the first's unique entry, then skips it.
    # The rows travel as one JSON document ([id, topic, key, tier, partition, payload, delay], ...):
    # one json.dumps on the client instead of escaping seven text arrays element by element.
    "append_postgresql": """
        WITH batch AS (
            SELECT e, n FROM json_array_elements(:rows::json) WITH ORDINALITY AS b(e, n)),
        fresh AS (
            INSERT INTO log_event_id (event_id, appended_at)
            SELECT e->>0, :now FROM batch
            ON CONFLICT (event_id) DO NOTHING
            RETURNING event_id)
        INSERT INTO log_event (event_id, topic, key, tier, partition, payload, status, attempts,
                               created_at, available_at)
        SELECT e->>0, e->>1, e->>2, (e->>3)::int, (e->>4)::int, e->5, 'pending', 0,
               :now, :now + (e->>6)::float8
        FROM batch
        WHERE e->>0 IN (SELECT event_id FROM fresh)
        ORDER BY n""",
    # One round trip per batch: the keys that must wait (rows with seq -1), then the ready events
    # of each tier. Round trips, not rows, are what a busy server makes expensive.
    "ready": "\nUNION ALL\n".join(
        [
            """SELECT -1, '', '', key, tier, 0.0, 0 FROM (
    SELECT DISTINCT tier, key FROM log_event
    WHERE status = 'pending' AND available_at > created_at AND available_at > :now AND {parts}) AS waiting"""
        ]
        + [_READY_ONE_TIER.format(cols=_COLUMNS, tier=tier, parts="{parts}") for tier in (1, 2, 3)]
    ),
    "payloads": "SELECT seq, {payload_text} FROM log_event WHERE {seqs}",
    "ack": "DELETE FROM log_event WHERE {seqs} AND dead_at IS NULL",
    "retry_later": """
        UPDATE log_event SET attempts = attempts + 1, available_at = :available_at, last_error = :error
        WHERE seq = :seq AND dead_at IS NULL""",
    "dead_letter": """
        UPDATE log_event SET status = 'dead', attempts = attempts + 1, last_error = :error,
                             dead_reason = :reason, dead_at = :now
        WHERE seq = :seq AND dead_at IS NULL""",
    "claim_partitions": """
        UPDATE log_partition SET owner = :me, lease_until = :until, epoch = epoch + 1
        WHERE partition IN (
            SELECT partition FROM log_partition
            WHERE owner IS NULL OR lease_until < :now
            ORDER BY partition LIMIT :limit {skip_locked})
        RETURNING partition""",
    "renew_partitions": """
        UPDATE log_partition SET lease_until = :until
        WHERE owner = :me AND {parts}
        RETURNING partition""",
    "release_partitions": """
        UPDATE log_partition SET owner = NULL, lease_until = 0 WHERE owner = :me AND {parts}""",
    "worker_seen": """
        INSERT INTO log_worker (worker_id, started_at, seen_until) VALUES (:me, :now, :until)
        ON CONFLICT (worker_id) DO UPDATE SET seen_until = excluded.seen_until""",
    "live_workers": "SELECT count(*) FROM log_worker WHERE seen_until >= :now",
    "forget_stale_workers": "DELETE FROM log_worker WHERE seen_until < :before",
    "forget_worker": "DELETE FROM log_worker WHERE worker_id = :me",
    "purge_event_ids": "DELETE FROM log_event_id WHERE appended_at < :before",
    "idempotency_claim": """
        INSERT INTO log_idempotency (idempotency_key, event_id, result, recorded_at)
        VALUES (:key, :event_id, :result, :now)
        ON CONFLICT (idempotency_key) DO NOTHING""",
    "idempotency_result": "SELECT result FROM log_idempotency WHERE idempotency_key = :key",
}


class LogSql:
    """The statements rendered for one dialect (`sqlite` or `postgresql`)."""

    def __init__(self, dialect: str) -> None:
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"the event log supports sqlite and postgresql, not {dialect!r}")
        self.dialect = dialect
        self.postgres = dialect == "postgresql"
        parts = self.in_list("partition", "parts")
        seqs = self.in_list("seq", "seqs")
        skip_locked = "FOR UPDATE SKIP LOCKED" if self.postgres else ""
        payload_text = "payload::text AS payload" if self.postgres else "payload"
        self._rendered = {
            name: self._placeholders(
                text.format(parts=parts, seqs=seqs, skip_locked=skip_locked, payload_text=payload_text)
            )
            for name, text in STATEMENTS.items()
        }

    def __getitem__(self, name: str) -> str:
        return self._rendered[name]

    def in_list(self, column: str, param: str) -> str:
        if self.postgres:
            return f"{column} = ANY(:{param})"
        return f"{column} IN (SELECT value FROM json_each(:{param}))"

    def ids(self, values: Sequence[int]) -> Any:
        """One bind parameter holding a list of integers (see `in_list`)."""
        return list(values) if self.postgres else json.dumps(list(values))

    def render(self, text: str) -> str:
        """Render an ad-hoc statement (used by the dead-letter filters)."""
        return self._placeholders(text)

    def _placeholders(self, text: str) -> str:
        if not self.postgres:
            return text
        return _NAMED.sub(r"%(\1)s", text.replace("%", "%%"))
