"""The low-stock fence: per fenced SKU and channel, the units sold since the fence went up.

Revision ID: 0006_fence
Revises: 0005_security

Column types are frozen copies of `channelhub.store.state_tables.low_stock_fence` at this revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_fence"
down_revision = "0005_security"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)
_SKU = sa.String(64)
_CODE = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "low_stock_fence",
        sa.Column("sku", _SKU, nullable=False),
        sa.Column("channel", _CODE, nullable=False),
        sa.Column("sold_units", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("fenced_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("sku", "channel", name="pk_low_stock_fence"),
    )


def downgrade() -> None:
    op.drop_table("low_stock_fence")
