"""Service operator state: warehouse status overrides and SKU suppressions per channel.

Revision ID: 0003_service
Revises: 0002_state

Column types are frozen copies of `channelhub.service.state` at this revision (`UtcDateTime` is
stored as `DateTime(timezone=True)`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_service"
down_revision = "0002_state"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)
_SKU = sa.String(64)
_CODE = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "warehouse_status",
        sa.Column("warehouse", _CODE, nullable=False),
        sa.Column("online", sa.Boolean, nullable=False),
        sa.Column("on_hold", sa.Boolean, nullable=False),
        sa.Column("reason", sa.String(500), nullable=False, server_default=""),
        sa.Column("changed_by", sa.String(255), nullable=False, server_default=""),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("warehouse", name="pk_warehouse_status"),
    )
    op.create_table(
        "sku_suppression",
        sa.Column("channel", _CODE, nullable=False),
        sa.Column("sku", _SKU, nullable=False),
        sa.Column("reason", sa.String(500), nullable=False, server_default=""),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("channel", "sku", name="pk_sku_suppression"),
    )


def downgrade() -> None:
    op.drop_table("sku_suppression")
    op.drop_table("warehouse_status")
