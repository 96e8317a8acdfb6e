"""Tables of pricing governance (created by Alembic revision `0004_pricing`), on the store's
`metadata`. Same conventions as `state_tables`: UTC times, money as exact decimal text.

- `price_change_set` / `price_change_item`: a change set and its SKU × channel price changes, with
  the policy's decision per item and the release state per item;
- `price_approval`: each approve/reject with the person and the comment (maker-checker);
- `price_version`: the price history per SKU × channel, one row per published version;
- `audit_log`: the hash-chained audit trail (`channelhub.domain.audit`). Its time is kept as the
  exact ISO text that was hashed, so no driver round trip can change what verification sees.
"""

from __future__ import annotations

import sqlalchemy as sa

from channelhub.store.db import metadata
from channelhub.store.state_tables import CODE, SKU, DecimalText, UtcDateTime

CURRENCY = sa.String(3)

price_change_set = sa.Table(
    "price_change_set",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source_key", sa.String(200), nullable=False, unique=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("pricelist", sa.String(64), nullable=True),
    sa.Column("proposed_by", sa.String(255), nullable=False),
    sa.Column("proposed_at", UtcDateTime, nullable=False),
    sa.Column("effective_from", UtcDateTime, nullable=True),
    sa.Column("effective_until", UtcDateTime, nullable=True),
    sa.Column("rule", sa.String(64), nullable=False),
    sa.Column("reason", sa.String(1000), nullable=False),
    sa.Column("approvals_required", sa.Integer, nullable=False, server_default="1"),
    sa.Column("revenue_at_risk", DecimalText, nullable=False, server_default="0"),
    sa.Column("canary", sa.JSON, nullable=True),
    sa.Column("canary_until", UtcDateTime, nullable=True),
    sa.Column("hold_reason", sa.String(2000), nullable=False, server_default=""),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_price_change_set_status", "status"),
)

price_change_item = sa.Table(
    "price_change_item",
    metadata,
    sa.Column(
        "change_set_id",
        sa.Integer,
        sa.ForeignKey("price_change_set.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("sku", SKU, primary_key=True),
    sa.Column("channel", CODE, primary_key=True),
    sa.Column("currency", CURRENCY, nullable=False),
    sa.Column("old_price", DecimalText, nullable=True),
    sa.Column("new_price", DecimalText, nullable=False),
    sa.Column("source_price", DecimalText, nullable=True),
    sa.Column("cost", DecimalText, nullable=True),
    sa.Column("map_floor", DecimalText, nullable=True),
    sa.Column("verdict", sa.String(20), nullable=False),
    sa.Column("rule", sa.String(64), nullable=False),
    sa.Column("reason", sa.String(1000), nullable=False),
    sa.Column("release_at", UtcDateTime, nullable=True),
    sa.Column("state", sa.String(20), nullable=False, server_default="pending"),
    sa.Column("canary", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("published_at", UtcDateTime, nullable=True),
    # Where the price came from (`product.pricelist.item:<id>@<write_date>`): a re-delivered
    # source row is recognised and not proposed twice.
    sa.Column("source_ref", sa.String(120), nullable=True),
    sa.Index("ix_price_change_item_source_ref", "source_ref"),
)

price_approval = sa.Table(
    "price_approval",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "change_set_id", sa.Integer, sa.ForeignKey("price_change_set.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("user", sa.String(255), nullable=False),
    sa.Column("decision", sa.String(10), nullable=False),
    sa.Column("comment", sa.String(2000), nullable=False, server_default=""),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("change_set_id", "user", "decision"),
)

price_version = sa.Table(
    "price_version",
    metadata,
    sa.Column("sku", SKU, primary_key=True),
    sa.Column("channel", CODE, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("amount", DecimalText, nullable=False),
    sa.Column("currency", CURRENCY, nullable=False),
    sa.Column("change_set_id", sa.Integer, nullable=True),
    sa.Column("cause", sa.String(20), nullable=False),  # baseline | release | revert | rollback
    sa.Column("recorded_at", UtcDateTime, nullable=False),
    sa.Column("verified", sa.Boolean, nullable=False, server_default=sa.false()),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(255), nullable=False),
    sa.Column("before", sa.Text, nullable=True),
    sa.Column("after", sa.Text, nullable=True),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("row_hash", sa.String(64), nullable=False),
    sa.Index("ix_audit_log_subject", "subject"),
)

PRICING_TABLES = (price_change_set, price_change_item, price_approval, price_version, audit_log)
