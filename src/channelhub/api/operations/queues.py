"""Read models of the durable log: queue depth and age per tier, dead letters page by page.

The engine's public API covers listing and replaying dead letters; pages with cursors and the
per-tier statistics read `log_event` directly (read-only), like any monitoring query would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from channelhub.store.log_tables import log_event, log_event_id

TIER_NAMES = {1: "realtime", 2: "minutes", 3: "batch"}


@dataclass
class TierStats:
    tier: int
    pending: int = 0
    retrying: int = 0
    dead: int = 0
    oldest_pending_at: float | None = None

    def to_dict(self, now: float) -> dict[str, Any]:
        age = None if self.oldest_pending_at is None else max(0.0, now - self.oldest_pending_at)
        return {
            "tier": self.tier,
            "name": TIER_NAMES[self.tier],
            "depth": self.pending,
            "retrying": self.retrying,
            "dead_letters": self.dead,
            "oldest_age_s": None if age is None else round(age, 3),
        }


@dataclass
class QueueStats:
    tiers: dict[int, TierStats] = field(default_factory=lambda: {t: TierStats(t) for t in (1, 2, 3)})
    appended_last_minute: int = 0

    @property
    def dead_letters(self) -> int:
        return sum(t.dead for t in self.tiers.values())


def queue_stats(connection: sa.Connection, now: float) -> QueueStats:
    table = log_event
    retrying = sa.func.sum(sa.case((table.c.attempts > 0, 1), else_=0))
    rows = connection.execute(
        sa.select(
            table.c.tier, table.c.status, sa.func.count(), sa.func.min(table.c.created_at), retrying
        ).group_by(table.c.tier, table.c.status)
    )
    stats = QueueStats()
    for tier, status, count, oldest, retry_count in rows:
        entry = stats.tiers.setdefault(int(tier), TierStats(int(tier)))
        if status == "dead":
            entry.dead = int(count)
        else:
            entry.pending = int(count)
            entry.retrying = int(retry_count or 0)
            entry.oldest_pending_at = None if oldest is None else float(oldest)
    stats.appended_last_minute = int(
        connection.execute(
            sa.select(sa.func.count()).select_from(log_event_id).where(log_event_id.c.appended_at >= now - 60)
        ).scalar_one()
    )
    return stats


def dead_letters_by_topic(connection: sa.Connection) -> dict[str, int]:
    rows = connection.execute(
        sa.select(log_event.c.topic, sa.func.count())
        .where(log_event.c.status == "dead")
        .group_by(log_event.c.topic)
        .order_by(log_event.c.topic)
    )
    return {topic: int(count) for topic, count in rows}


@dataclass(frozen=True)
class DeadLetterQuery:
    topic: str | None = None
    key: str | None = None
    error_contains: str | None = None
    tier: int | None = None

    def clauses(self) -> list[Any]:
        table = log_event
        clauses: list[Any] = [table.c.status == "dead"]
        if self.topic:
            clauses.append(table.c.topic == self.topic)
        if self.key:
            clauses.append(table.c.key == self.key)
        if self.tier is not None:
            clauses.append(table.c.tier == self.tier)
        if self.error_contains:
            clauses.append(
                sa.func.lower(sa.func.coalesce(table.c.last_error, "")).contains(
                    self.error_contains.lower(), autoescape=True
                )
            )
        return clauses


def _payload(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def dead_letter_row(row: Any, *, with_payload: bool) -> dict[str, Any]:
    item = {
        "seq": int(row.seq),
        "event_id": row.event_id,
        "topic": row.topic,
        "key": row.key,
        "tier": int(row.tier),
        "attempts": int(row.attempts),
        "reason": row.dead_reason or "",
        "last_error": row.last_error or "",
        "created_at": float(row.created_at),
        "dead_at": None if row.dead_at is None else float(row.dead_at),
        "replays": int(row.replays),
    }
    if with_payload:
        item["payload"] = _payload(row.payload)
    return item


def dead_letter_page(
    connection: sa.Connection, query: DeadLetterQuery, after_seq: int | None, limit: int
) -> list[dict[str, Any]]:
    clauses = query.clauses()
    if after_seq is not None:
        clauses.append(log_event.c.seq > after_seq)
    rows = connection.execute(sa.select(log_event).where(*clauses).order_by(log_event.c.seq).limit(limit + 1))
    return [dead_letter_row(row, with_payload=False) for row in rows]


def dead_letter(connection: sa.Connection, event_id: str) -> dict[str, Any] | None:
    row = connection.execute(
        sa.select(log_event).where(log_event.c.event_id == event_id, log_event.c.status == "dead")
    ).first()
    return None if row is None else dead_letter_row(row, with_payload=True)


def discard_dead_letter(connection: sa.Connection, event_id: str) -> dict[str, Any] | None:
    """Delete one dead letter (inside the caller's transaction); its content is returned for the
    trail. Its id stays in `log_event_id`, so a producer re-emitting it does not bring it back."""
    found = dead_letter(connection, event_id)
    if found is None:
        return None
    deleted = connection.execute(
        sa.delete(log_event).where(log_event.c.seq == found["seq"], log_event.c.status == "dead")
    ).rowcount
    return found if deleted == 1 else None


def pending_for_key(connection: sa.Connection, key: str, limit: int = 50) -> list[dict[str, Any]]:
    rows = connection.execute(
        sa.select(log_event).where(log_event.c.key == key).order_by(log_event.c.seq).limit(limit)
    )
    return [{**dead_letter_row(row, with_payload=False), "status": row.status} for row in rows]
