"""Tables of the domain state (created by Alembic revision `0002_state`), on the store's `metadata`.

Conventions, chosen so that both backends behave the same:
- times are `UtcDateTime`: timezone-aware UTC in Python, `TIMESTAMP WITH TIME ZONE` on PostgreSQL
  and ISO text on SQLite (which has no time zone type; we always store UTC there);
- amounts of money are `DecimalText`: exact decimal text in a canonical form, so `19.90` and
  `19.9` compare equal in SQL (SQLite has no exact decimal type and would round through floats);
- quantities are integers in the product's unit, SKU and code columns as wide as the domain allows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from channelhub.store.db import metadata


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both backends; naive datetimes are refused (ambiguous)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware time (the clock gives UTC)")
        value = value.astimezone(UTC)
        # SQLite stores text; without the offset every stored value sorts and compares as UTC.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def canonical_decimal(value: Decimal) -> str:
    """`Decimal("19.90")` -> `"19.9"`, `Decimal("20")` and `Decimal("2E+1")` -> `"20"`."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


class DecimalText(TypeDecorator[Decimal]):
    """An exact decimal stored as canonical text (see `canonical_decimal`)."""

    impl = sa.String(40)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValueError(f"{value!r} is not a finite Decimal")
        return canonical_decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


SKU = sa.String(64)
CODE = sa.String(64)

stock_position = sa.Table(
    "stock_position",
    metadata,
    sa.Column("sku", SKU, primary_key=True),
    sa.Column("warehouse", CODE, primary_key=True),
    sa.Column("location", sa.String(255), primary_key=True, comment="Odoo location full name"),
    sa.Column("on_hand", sa.BigInteger, nullable=False),
    sa.Column("reserved", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("hold", sa.BigInteger, nullable=False, server_default="0", comment="quality hold"),
    sa.Column("incoming", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("source_write_date", UtcDateTime, nullable=True, comment="Odoo write_date of the quant"),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)
sa.Index("ix_stock_position_warehouse", stock_position.c.warehouse, stock_position.c.sku)

channel_listing = sa.Table(
    "channel_listing",
    metadata,
    sa.Column("channel", CODE, primary_key=True),
    sa.Column("sku", SKU, primary_key=True),
    sa.Column("item_ids", sa.JSON, nullable=False, comment="channel-side ids, e.g. variant_id"),
    sa.Column("pack_size", sa.Integer, nullable=False, server_default="1"),
    sa.Column("tracks_inventory", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("continue_selling", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("desired_quantity", sa.BigInteger, nullable=True, comment="what the channel should show"),
    sa.Column("desired_price", DecimalText, nullable=True),
    sa.Column("currency", sa.String(3), nullable=True),
    sa.Column("desired_at", UtcDateTime, nullable=True),
    sa.Column("acknowledged_quantity", sa.BigInteger, nullable=True, comment="what the channel confirmed"),
    sa.Column("acknowledged_price", DecimalText, nullable=True),
    sa.Column("acknowledged_at", UtcDateTime, nullable=True),
    # Kept equal to "desired differs from acknowledged" by every statement that writes either side,
    # so the publisher finds its work through a small partial index instead of a table scan.
    sa.Column("dirty", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("last_error", sa.Text, nullable=True),
)
sa.Index(
    "ix_channel_listing_dirty",
    channel_listing.c.channel,
    channel_listing.c.desired_at,
    # The SQLite form matches how SQLAlchemy renders `dirty` in queries, so the planner uses it.
    postgresql_where=channel_listing.c.dirty,
    sqlite_where=sa.text("dirty = 1"),
)

soft_reservation = sa.Table(
    "soft_reservation",
    metadata,
    sa.Column("order_key", sa.String(255), primary_key=True),
    sa.Column("sku", SKU, primary_key=True),
    sa.Column("channel", CODE, nullable=False),
    sa.Column("units", sa.BigInteger, nullable=False),
    sa.Column("released", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("released_at", UtcDateTime, nullable=True),
)
sa.Index(
    "ix_soft_reservation_open",
    soft_reservation.c.sku,
    postgresql_where=~soft_reservation.c.released,
    sqlite_where=sa.text("released = 0"),
)

# The low-stock fence (`channelhub.domain.fence`): one row per fenced channel while a SKU is fenced,
# counting the units that channel sold since the fence went up. No rows: the SKU is not fenced.
low_stock_fence = sa.Table(
    "low_stock_fence",
    metadata,
    sa.Column("sku", SKU, primary_key=True),
    sa.Column("channel", CODE, primary_key=True),
    sa.Column("sold_units", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("fenced_at", UtcDateTime, nullable=False),
)

INBOX_STATUSES = ("received", "processed", "failed", "ignored")

webhook_inbox = sa.Table(
    "webhook_inbox",
    metadata,
    sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    sa.Column("channel", CODE, nullable=False),
    sa.Column("dedupe_key", sa.String(255), nullable=False, comment="e.g. X-Shopify-Webhook-Id"),
    sa.Column("topic", sa.String(100), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False, comment="raw bytes, exactly as signed"),
    sa.Column("headers", sa.JSON, nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("status", sa.String(10), nullable=False, server_default="received"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("processed_at", UtcDateTime, nullable=True),
    sa.UniqueConstraint("channel", "dedupe_key"),
    sa.CheckConstraint(f"status IN {INBOX_STATUSES!r}", name="status"),
)
sa.Index("ix_webhook_inbox_status", webhook_inbox.c.status, webhook_inbox.c.id)

EXCEPTION_STATUSES = ("open", "resolved", "dismissed")

business_exception = sa.Table(
    "business_exception",
    metadata,
    sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    sa.Column("kind", sa.String(100), nullable=False, comment="e.g. cancel_after_fulfilment"),
    sa.Column("subject", sa.String(255), nullable=False, comment="what it is about, e.g. an order key"),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("allowed_actions", sa.JSON, nullable=False),
    sa.Column("status", sa.String(10), nullable=False, server_default="open"),
    sa.Column("occurrences", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("last_seen_at", UtcDateTime, nullable=False),
    sa.Column("closed_at", UtcDateTime, nullable=True),
    sa.Column("closed_by", sa.String(200), nullable=True),
    sa.Column("resolution", sa.Text, nullable=True),
    sa.CheckConstraint(f"status IN {EXCEPTION_STATUSES!r}", name="status"),
)
# One open exception per kind and subject: a retried event raises the same conflict again.
sa.Index(
    "ix_business_exception_open",
    business_exception.c.kind,
    business_exception.c.subject,
    unique=True,
    postgresql_where=business_exception.c.status == "open",
    sqlite_where=business_exception.c.status == "open",
)

order_link = sa.Table(
    "order_link",
    metadata,
    sa.Column("order_key", sa.String(255), primary_key=True, comment="channel:order id"),
    sa.Column("channel", CODE, nullable=False),
    sa.Column("channel_order_id", sa.String(255), nullable=False),
    sa.Column("odoo_order_id", sa.BigInteger, nullable=True, comment="sale.order id"),
    sa.Column("state", sa.String(30), nullable=False),
    sa.Column("source_updated_at", UtcDateTime, nullable=False, comment="channel's updated_at"),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)
sa.Index("ix_order_link_odoo", order_link.c.odoo_order_id)

sync_cursor = sa.Table(
    "sync_cursor",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

STATE_TABLES = (
    stock_position,
    channel_listing,
    soft_reservation,
    webhook_inbox,
    business_exception,
    order_link,
    sync_cursor,
)
