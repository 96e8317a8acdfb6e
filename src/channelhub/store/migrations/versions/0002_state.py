"""Domain state: stock positions, channel listings (desired vs acknowledged), soft reservations,
webhook inbox, business exceptions, order links and sync cursors.

Revision ID: 0002_state
Revises: 0001_log

Column types are frozen copies of `channelhub.store.state_tables` at this revision: `UtcDateTime`
is stored as `DateTime(timezone=True)`, `DecimalText` as `String(40)`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_state"
down_revision = "0001_log"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)
_DECIMAL = sa.String(40)
_SKU = sa.String(64)
_CODE = sa.String(64)
_OPEN_EXCEPTION = sa.text("status = 'open'")
# Boolean partial-index predicates are written per dialect in the form SQLAlchemy renders
# `column = true/false` in queries there (`dirty = 1` on SQLite), so each planner matches them.


def upgrade() -> None:
    op.create_table(
        "stock_position",
        sa.Column("sku", _SKU, primary_key=True),
        sa.Column("warehouse", _CODE, primary_key=True),
        sa.Column("location", sa.String(255), primary_key=True),
        sa.Column("on_hand", sa.BigInteger, nullable=False),
        sa.Column("reserved", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("hold", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("incoming", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("source_write_date", _TIME, nullable=True),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("sku", "warehouse", "location", name="pk_stock_position"),
    )
    op.create_index("ix_stock_position_warehouse", "stock_position", ["warehouse", "sku"])

    op.create_table(
        "channel_listing",
        sa.Column("channel", _CODE, primary_key=True),
        sa.Column("sku", _SKU, primary_key=True),
        sa.Column("item_ids", sa.JSON, nullable=False),
        sa.Column("pack_size", sa.Integer, nullable=False, server_default="1"),
        sa.Column("tracks_inventory", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("continue_selling", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("desired_quantity", sa.BigInteger, nullable=True),
        sa.Column("desired_price", _DECIMAL, nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("desired_at", _TIME, nullable=True),
        sa.Column("acknowledged_quantity", sa.BigInteger, nullable=True),
        sa.Column("acknowledged_price", _DECIMAL, nullable=True),
        sa.Column("acknowledged_at", _TIME, nullable=True),
        sa.Column("dirty", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("channel", "sku", name="pk_channel_listing"),
    )
    op.create_index(
        "ix_channel_listing_dirty",
        "channel_listing",
        ["channel", "desired_at"],
        postgresql_where=sa.text("dirty"),
        sqlite_where=sa.text("dirty = 1"),
    )

    op.create_table(
        "soft_reservation",
        sa.Column("order_key", sa.String(255), primary_key=True),
        sa.Column("sku", _SKU, primary_key=True),
        sa.Column("channel", _CODE, nullable=False),
        sa.Column("units", sa.BigInteger, nullable=False),
        sa.Column("released", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("released_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("order_key", "sku", name="pk_soft_reservation"),
    )
    op.create_index(
        "ix_soft_reservation_open",
        "soft_reservation",
        ["sku"],
        postgresql_where=sa.text("NOT released"),
        sqlite_where=sa.text("released = 0"),
    )

    op.create_table(
        "webhook_inbox",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("channel", _CODE, nullable=False),
        sa.Column("dedupe_key", sa.String(255), nullable=False),
        sa.Column("topic", sa.String(100), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("received_at", _TIME, nullable=False),
        sa.Column("status", sa.String(10), nullable=False, server_default="received"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("processed_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_inbox"),
        sa.UniqueConstraint("channel", "dedupe_key", name="uq_webhook_inbox_channel_dedupe_key"),
        sa.CheckConstraint(
            "status IN ('received', 'processed', 'failed', 'ignored')", name="ck_webhook_inbox_status"
        ),
    )
    op.create_index("ix_webhook_inbox_status", "webhook_inbox", ["status", "id"])

    op.create_table(
        "business_exception",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("allowed_actions", sa.JSON, nullable=False),
        sa.Column("status", sa.String(10), nullable=False, server_default="open"),
        sa.Column("occurrences", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("last_seen_at", _TIME, nullable=False),
        sa.Column("closed_at", _TIME, nullable=True),
        sa.Column("closed_by", sa.String(200), nullable=True),
        sa.Column("resolution", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_business_exception"),
        sa.CheckConstraint(
            "status IN ('open', 'resolved', 'dismissed')", name="ck_business_exception_status"
        ),
    )
    op.create_index(
        "ix_business_exception_open",
        "business_exception",
        ["kind", "subject"],
        unique=True,
        postgresql_where=_OPEN_EXCEPTION,
        sqlite_where=_OPEN_EXCEPTION,
    )

    op.create_table(
        "order_link",
        sa.Column("order_key", sa.String(255), primary_key=True),
        sa.Column("channel", _CODE, nullable=False),
        sa.Column("channel_order_id", sa.String(255), nullable=False),
        sa.Column("odoo_order_id", sa.BigInteger, nullable=True),
        sa.Column("state", sa.String(30), nullable=False),
        sa.Column("source_updated_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("order_key", name="pk_order_link"),
    )
    op.create_index("ix_order_link_odoo", "order_link", ["odoo_order_id"])

    op.create_table(
        "sync_cursor",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_sync_cursor"),
    )


def downgrade() -> None:
    op.drop_table("sync_cursor")
    op.drop_index("ix_order_link_odoo", table_name="order_link")
    op.drop_table("order_link")
    op.drop_index("ix_business_exception_open", table_name="business_exception")
    op.drop_table("business_exception")
    op.drop_index("ix_webhook_inbox_status", table_name="webhook_inbox")
    op.drop_table("webhook_inbox")
    op.drop_index("ix_soft_reservation_open", table_name="soft_reservation")
    op.drop_table("soft_reservation")
    op.drop_index("ix_channel_listing_dirty", table_name="channel_listing")
    op.drop_table("channel_listing")
    op.drop_index("ix_stock_position_warehouse", table_name="stock_position")
    op.drop_table("stock_position")
