"""Operations surface: dashboard users, API tokens, sessions and the operator action trail.

Revision ID: 0005_security
Revises: 0004_pricing

Column types are frozen copies of `channelhub.store.security_tables` at this revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_security"
down_revision = "0004_pricing"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_ROLE_CHECK = "role IN ('viewer', 'operator', 'price_approver', 'admin')"


def upgrade() -> None:
    op.create_table(
        "security_user",
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("last_login_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("username", name="pk_security_user"),
        sa.CheckConstraint(_ROLE_CHECK, name="ck_security_user_role"),
    )
    op.create_table(
        "security_api_token",
        sa.Column("token_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("secret_digest", sa.String(64), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("expires_at", _TIME, nullable=True),
        sa.Column("revoked_at", _TIME, nullable=True),
        sa.Column("revoked_by", sa.String(200), nullable=True),
        sa.Column("last_used_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("token_id", name="pk_security_api_token"),
        sa.CheckConstraint(_ROLE_CHECK, name="ck_security_api_token_role"),
    )
    op.create_table(
        "security_session",
        sa.Column("session_digest", sa.String(64), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("session_digest", name="pk_security_session"),
    )
    op.create_index("ix_security_session_username", "security_session", ["username"])
    op.create_table(
        "operator_action",
        sa.Column("id", _ID, nullable=False, autoincrement=True),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_operator_action"),
    )
    op.create_index("ix_operator_action_subject", "operator_action", ["subject", "id"])


def downgrade() -> None:
    op.drop_index("ix_operator_action_subject", table_name="operator_action")
    op.drop_table("operator_action")
    op.drop_index("ix_security_session_username", table_name="security_session")
    op.drop_table("security_session")
    op.drop_table("security_api_token")
    op.drop_table("security_user")
