"""Tables of the durable event log (created by Alembic revision `0001_log`).

Times are unix seconds as floats (`*_at`): the same type and comparison on SQLite and PostgreSQL,
and cheap to compare in the hot claim path.

`log_event` is the outbox and the log at once: producers insert rows in their own transaction,
workers delete a row (acknowledge) in the transaction that applies the handler's effects, so the
table holds only work not yet done. A failing event's row is updated (attempts, next try); a
`dead` row *is* the dead letter (reason, attempts, last error), so replay is an update of one row.
`log_event_id` remembers every appended id, which makes appends idempotent even after the event
was handled and deleted.
"""

from __future__ import annotations

import sqlalchemy as sa

from channelhub.store.db import metadata

PARTITIONS = 32
"""Fixed number of log partitions (key hash buckets). Changing it re-maps keys to partitions."""

# SQLite only makes `INTEGER PRIMARY KEY` an alias of the rowid (fast, monotonic).
_SEQ_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

log_event = sa.Table(
    "log_event",
    metadata,
    sa.Column("seq", _SEQ_TYPE, primary_key=True, autoincrement=True, comment="append order"),
    sa.Column("event_id", sa.String(255), nullable=False, comment="deterministic id"),
    sa.Column("topic", sa.String(200), nullable=False),
    sa.Column("key", sa.String(255), nullable=False, comment="ordering key (SKU, order, ...)"),
    sa.Column("tier", sa.SmallInteger, nullable=False, comment="1 seconds, 2 minutes, 3 batch"),
    sa.Column("partition", sa.SmallInteger, nullable=False, comment="stable hash of key"),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("status", sa.String(10), nullable=False, comment="pending | dead (done rows are deleted)"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("available_at", sa.Float, nullable=False, comment="not handled before this time"),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("dead_reason", sa.Text, nullable=True),
    sa.Column("dead_at", sa.Float, nullable=True),
    sa.Column("replays", sa.Integer, nullable=False, server_default="0"),
    sa.CheckConstraint("tier IN (1, 2, 3)", name="tier"),
    sa.CheckConstraint("status IN ('pending', 'dead')", name="status"),
)
sa.Index(
    "ix_log_event_ready",
    log_event.c.tier,
    log_event.c.seq,
    postgresql_where=log_event.c.status == "pending",
    sqlite_where=log_event.c.status == "pending",
)
# Only events that were delayed or failed before (available_at moved past created_at): fresh
# events, the hot path, never enter this index.
_WAITING = sa.and_(log_event.c.status == "pending", log_event.c.available_at > log_event.c.created_at)
sa.Index("ix_log_event_waiting", log_event.c.available_at, postgresql_where=_WAITING, sqlite_where=_WAITING)
sa.Index(
    "ix_log_event_dead",
    log_event.c.event_id,
    postgresql_where=log_event.c.status == "dead",
    sqlite_where=log_event.c.status == "dead",
)

log_event_id = sa.Table(
    "log_event_id",
    metadata,
    sa.Column("event_id", sa.String(255), primary_key=True),
    sa.Column("appended_at", sa.Float, nullable=False),
)

log_partition = sa.Table(
    "log_partition",
    metadata,
    sa.Column("partition", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("owner", sa.String(200), nullable=True, comment="worker holding the lease"),
    sa.Column("lease_until", sa.Float, nullable=False, server_default="0"),
    sa.Column("epoch", sa.Integer, nullable=False, server_default="0", comment="bumped on every claim"),
)

log_worker = sa.Table(
    "log_worker",
    metadata,
    sa.Column("worker_id", sa.String(200), primary_key=True),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("seen_until", sa.Float, nullable=False, comment="alive until then unless renewed"),
)

log_idempotency = sa.Table(
    "log_idempotency",
    metadata,
    sa.Column("idempotency_key", sa.String(300), primary_key=True),
    sa.Column("event_id", sa.String(255), nullable=False),
    sa.Column("result", sa.Text, nullable=True, comment="e.g. the id the external system returned"),
    sa.Column("recorded_at", sa.Float, nullable=False),
)
