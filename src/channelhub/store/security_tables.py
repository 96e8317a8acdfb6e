"""Tables of the operations surface (created by Alembic revision `0005_security`).

- `security_user`: people who log in to the dashboard (scrypt password hash, one role).
- `security_api_token`: API tokens. Only a SHA-256 digest of the secret is stored; the secret is
  shown once when the token is created. Revoked and expired tokens stay for the audit trail.
- `security_session`: dashboard sessions. The cookie carries a random session id; the table keeps
  its digest (a stolen database does not yield usable cookies) and the session's CSRF token.
- `operator_action`: who did what through the API, dashboard or CLI (replay, discard, retry,
  token creation, ...), with the details needed to undo or explain it.
"""

from __future__ import annotations

import sqlalchemy as sa

from channelhub.store.db import metadata
from channelhub.store.state_tables import UtcDateTime

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

ROLES = ("viewer", "operator", "price_approver", "admin")

security_user = sa.Table(
    "security_user",
    metadata,
    sa.Column("username", sa.String(100), primary_key=True),
    sa.Column("password_hash", sa.String(300), nullable=False, comment="scrypt$n$r$p$salt$digest"),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("last_login_at", UtcDateTime, nullable=True),
    sa.CheckConstraint(f"role IN {ROLES!r}", name="role"),
)

security_api_token = sa.Table(
    "security_api_token",
    metadata,
    sa.Column("token_id", sa.String(32), primary_key=True, comment="public part, shown in listings"),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("secret_digest", sa.String(64), nullable=False, comment="sha256 hex of the secret"),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=True),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
    sa.Column("revoked_by", sa.String(200), nullable=True),
    sa.Column("last_used_at", UtcDateTime, nullable=True),
    sa.CheckConstraint(f"role IN {ROLES!r}", name="role"),
)

security_session = sa.Table(
    "security_session",
    metadata,
    sa.Column("session_digest", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(100), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
)
sa.Index("ix_security_session_username", security_session.c.username)

operator_action = sa.Table(
    "operator_action",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(100), nullable=False, comment="e.g. dead_letter.replay"),
    sa.Column("subject", sa.String(300), nullable=False, comment="what it was done to"),
    sa.Column("details", sa.JSON, nullable=False),
)
sa.Index("ix_operator_action_subject", operator_action.c.subject, operator_action.c.id)

SECURITY_TABLES = (security_user, security_api_token, security_session, operator_action)
