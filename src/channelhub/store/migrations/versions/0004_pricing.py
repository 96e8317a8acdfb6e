"""Pricing governance: change sets, items, approvals, price versions and the audit log.

Revision ID: 0004_pricing
Revises: 0003_service

Column types are frozen copies of `channelhub.store.pricing_tables` at this revision (`UtcDateTime`
as `DateTime(timezone=True)`, `DecimalText` as `String(40)`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_pricing"
down_revision = "0003_service"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)
_MONEY = sa.String(40)
_SKU = sa.String(64)
_CODE = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "price_change_set",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("source_key", sa.String(200), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("pricelist", sa.String(64), nullable=True),
        sa.Column("proposed_by", sa.String(255), nullable=False),
        sa.Column("proposed_at", _TIME, nullable=False),
        sa.Column("effective_from", _TIME, nullable=True),
        sa.Column("effective_until", _TIME, nullable=True),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("approvals_required", sa.Integer, nullable=False, server_default="1"),
        sa.Column("revenue_at_risk", _MONEY, nullable=False, server_default="0"),
        sa.Column("canary", sa.JSON, nullable=True),
        sa.Column("canary_until", _TIME, nullable=True),
        sa.Column("hold_reason", sa.String(2000), nullable=False, server_default=""),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_price_change_set"),
        sa.UniqueConstraint("source_key", name="uq_price_change_set_source_key"),
    )
    op.create_index("ix_price_change_set_status", "price_change_set", ["status"])
    op.create_table(
        "price_change_item",
        sa.Column("change_set_id", sa.Integer, nullable=False),
        sa.Column("sku", _SKU, nullable=False),
        sa.Column("channel", _CODE, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("old_price", _MONEY, nullable=True),
        sa.Column("new_price", _MONEY, nullable=False),
        sa.Column("source_price", _MONEY, nullable=True),
        sa.Column("cost", _MONEY, nullable=True),
        sa.Column("map_floor", _MONEY, nullable=True),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("release_at", _TIME, nullable=True),
        sa.Column("state", sa.String(20), nullable=False, server_default="pending"),
        sa.Column("canary", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("published_at", _TIME, nullable=True),
        sa.Column("source_ref", sa.String(120), nullable=True),
        sa.PrimaryKeyConstraint("change_set_id", "sku", "channel", name="pk_price_change_item"),
        sa.ForeignKeyConstraint(
            ["change_set_id"],
            ["price_change_set.id"],
            name="fk_price_change_item_change_set_id_price_change_set",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_price_change_item_source_ref", "price_change_item", ["source_ref"])
    op.create_table(
        "price_approval",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("change_set_id", sa.Integer, nullable=False),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("decision", sa.String(10), nullable=False),
        sa.Column("comment", sa.String(2000), nullable=False, server_default=""),
        sa.Column("at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_price_approval"),
        sa.UniqueConstraint(
            "change_set_id", "user", "decision", name="uq_price_approval_change_set_id_user_decision"
        ),
        sa.ForeignKeyConstraint(
            ["change_set_id"],
            ["price_change_set.id"],
            name="fk_price_approval_change_set_id_price_change_set",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "price_version",
        sa.Column("sku", _SKU, nullable=False),
        sa.Column("channel", _CODE, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("amount", _MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("change_set_id", sa.Integer, nullable=True),
        sa.Column("cause", sa.String(20), nullable=False),
        sa.Column("recorded_at", _TIME, nullable=False),
        sa.Column("verified", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("sku", "channel", "version", name="pk_price_version"),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("before", sa.Text, nullable=True),
        sa.Column("after", sa.Text, nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_subject", "audit_log", ["subject"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_subject", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("price_version")
    op.drop_table("price_approval")
    op.drop_index("ix_price_change_item_source_ref", table_name="price_change_item")
    op.drop_table("price_change_item")
    op.drop_index("ix_price_change_set_status", table_name="price_change_set")
    op.drop_table("price_change_set")
