"""The durable event log: events (outbox + dead letters), appended ids, partition leases, workers,
idempotency ledger.

Revision ID: 0001_log
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_log"
down_revision = None
branch_labels = None
depends_on = None

PARTITIONS = 32  # frozen copy of channelhub.store.log_tables.PARTITIONS at this revision

_SEQ_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_PENDING = sa.text("status = 'pending'")
_DEAD = sa.text("status = 'dead'")
_WAITING = sa.text("status = 'pending' AND available_at > created_at")  # delayed or retrying only


def upgrade() -> None:
    op.create_table(
        "log_event",
        sa.Column("seq", _SEQ_TYPE, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("tier", sa.SmallInteger, nullable=False),
        sa.Column("partition", sa.SmallInteger, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("available_at", sa.Float, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("dead_reason", sa.Text, nullable=True),
        sa.Column("dead_at", sa.Float, nullable=True),
        sa.Column("replays", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("tier IN (1, 2, 3)", name="ck_log_event_tier"),
        sa.CheckConstraint("status IN ('pending', 'dead')", name="ck_log_event_status"),
    )
    op.create_index(
        "ix_log_event_ready", "log_event", ["tier", "seq"], postgresql_where=_PENDING, sqlite_where=_PENDING
    )
    op.create_index(
        "ix_log_event_waiting",
        "log_event",
        ["available_at"],
        postgresql_where=_WAITING,
        sqlite_where=_WAITING,
    )
    op.create_index(
        "ix_log_event_dead", "log_event", ["event_id"], postgresql_where=_DEAD, sqlite_where=_DEAD
    )
    if op.get_bind().dialect.name == "postgresql":
        # A queue table: rows are deleted as fast as they come. Vacuum it by row count, not by a
        # share of its (small) live size, so index entries of handled events do not pile up.
        op.execute(
            "ALTER TABLE log_event SET (autovacuum_vacuum_scale_factor = 0.0, "
            "autovacuum_vacuum_threshold = 10000, autovacuum_analyze_scale_factor = 0.0, "
            "autovacuum_analyze_threshold = 10000, autovacuum_vacuum_cost_delay = 0)"
        )
    op.create_table(
        "log_event_id",
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("appended_at", sa.Float, nullable=False),
    )
    partitions = op.create_table(
        "log_partition",
        sa.Column("partition", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("lease_until", sa.Float, nullable=False, server_default="0"),
        sa.Column("epoch", sa.Integer, nullable=False, server_default="0"),
    )
    op.bulk_insert(partitions, [{"partition": p, "lease_until": 0.0, "epoch": 0} for p in range(PARTITIONS)])
    op.create_table(
        "log_worker",
        sa.Column("worker_id", sa.String(200), primary_key=True),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("seen_until", sa.Float, nullable=False),
    )
    op.create_table(
        "log_idempotency",
        sa.Column("idempotency_key", sa.String(300), primary_key=True),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("result", sa.Text, nullable=True),
        sa.Column("recorded_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("log_idempotency")
    op.drop_table("log_worker")
    op.drop_table("log_partition")
    op.drop_table("log_event_id")
    op.drop_index("ix_log_event_dead", table_name="log_event")
    op.drop_index("ix_log_event_waiting", table_name="log_event")
    op.drop_index("ix_log_event_ready", table_name="log_event")
    op.drop_table("log_event")
