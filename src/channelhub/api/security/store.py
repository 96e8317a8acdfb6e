"""Users, API tokens, dashboard sessions and the operator action trail, in the channelhub database.

Every method opens its own short transaction on the engine; `record_action` also works inside a
caller's transaction, so an operator's change and its trail entry commit together.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from channelhub.api.security.credentials import (
    DECOY_PASSWORD_HASH,
    check_password,
    digest,
    hash_password,
    new_token,
    same_digest,
    split_token,
)
from channelhub.api.security.roles import Role
from channelhub.clock import SYSTEM_CLOCK, Clock
from channelhub.store.security_tables import (
    operator_action,
    security_api_token,
    security_session,
    security_user,
)

SESSION_LIFETIME = timedelta(hours=12)
_USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-@")


class SecurityError(ValueError):
    """A user or token request that cannot be carried out (unknown user, bad name, ...)."""


@dataclass(frozen=True, slots=True)
class TokenInfo:
    token_id: str
    name: str
    role: Role
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def to_dict(self, now: datetime) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "token_id": self.token_id,
            "name": self.name,
            "role": self.role.value,
            "status": self.status(now),
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "expires_at": iso(self.expires_at),
            "revoked_at": iso(self.revoked_at),
            "last_used_at": iso(self.last_used_at),
        }


@dataclass(frozen=True, slots=True)
class CreatedToken:
    info: TokenInfo
    token: str
    """The full token: shown once, never stored."""


@dataclass(frozen=True, slots=True)
class UserInfo:
    username: str
    role: Role
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True, slots=True)
class DashboardSession:
    username: str
    role: Role
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class NewSession:
    session_id: str
    """Goes into the cookie; only its digest is stored."""
    session: DashboardSession


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not 1 <= len(name) <= 100 or not set(name) <= _USERNAME_CHARS:
        raise SecurityError(f"username {username!r}: use 1-100 of a-z 0-9 . _ - @")
    return name


def record_action(
    connection: sa.Connection,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Append to the operator action trail inside the caller's transaction."""
    connection.execute(
        operator_action.insert().values(
            at=at, actor=actor[:200], action=action, subject=subject[:300], details=dict(details or {})
        )
    )


def _token(row: Any) -> TokenInfo:
    return TokenInfo(
        token_id=row.token_id,
        name=row.name,
        role=Role(row.role),
        created_at=row.created_at,
        created_by=row.created_by,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


class SecurityStore:
    def __init__(self, engine: Engine, clock: Clock = SYSTEM_CLOCK) -> None:
        self.engine = engine
        self.clock = clock

    # -- API tokens ----------------------------------------------------------------------------

    def create_token(
        self, name: str, role: Role, created_by: str, expires_in: timedelta | None = None
    ) -> CreatedToken:
        if not name.strip() or len(name) > 200:
            raise SecurityError("a token needs a name of 1-200 characters (who or what uses it)")
        if expires_in is not None and expires_in <= timedelta(0):
            raise SecurityError("a token's lifetime must be positive")
        now = self.clock.now()
        token_id, secret, token = new_token()
        expires_at = None if expires_in is None else now + expires_in
        values: dict[str, Any] = {
            "token_id": token_id,
            "name": name.strip(),
            "role": Role(role).value,
            "secret_digest": digest(secret),
            "created_at": now,
            "created_by": created_by,
            "expires_at": expires_at,
        }
        with self.engine.begin() as connection:
            connection.execute(security_api_token.insert().values(values))
            record_action(
                connection, now, created_by, "token.create", f"token:{token_id}", {"role": values["role"]}
            )
        info = TokenInfo(token_id, name.strip(), Role(role), now, created_by, expires_at, None, None)
        return CreatedToken(info, token)

    def tokens(self) -> list[TokenInfo]:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(security_api_token).order_by(security_api_token.c.created_at))
            return [_token(row) for row in rows]

    def revoke_token(self, token_id: str, by: str) -> bool:
        """Revoke a token; False when no active token has this id."""
        now = self.clock.now()
        table = security_api_token
        with self.engine.begin() as connection:
            revoked = connection.execute(
                sa.update(table)
                .where(table.c.token_id == token_id, table.c.revoked_at.is_(None))
                .values(revoked_at=now, revoked_by=by)
            ).rowcount
            if revoked:
                record_action(connection, now, by, "token.revoke", f"token:{token_id}")
        return revoked == 1

    def authenticate_token(self, presented: str) -> TokenInfo | None:
        """The active token presented, or None (unknown, wrong secret, revoked or expired)."""
        parts = split_token(presented)
        if parts is None:
            return None
        table = security_api_token
        now = self.clock.now()
        with self.engine.begin() as connection:
            row = connection.execute(sa.select(table).where(table.c.token_id == parts.token_id)).first()
            if row is None or not same_digest(parts.secret, row.secret_digest):
                return None
            info = _token(row)
            if info.status(now) != "active":
                return None
            # Minute resolution: a busy integration does not write on every request.
            if info.last_used_at is None or now - info.last_used_at > timedelta(minutes=1):
                connection.execute(
                    sa.update(table).where(table.c.token_id == info.token_id).values(last_used_at=now)
                )
        return info

    # -- users ---------------------------------------------------------------------------------

    def create_user(self, username: str, password: str, role: Role, by: str = "cli") -> UserInfo:
        name = check_username(username)
        now = self.clock.now()
        password_hash = hash_password(password)
        with self.engine.begin() as connection:
            exists = connection.execute(
                sa.select(security_user.c.username).where(security_user.c.username == name)
            ).first()
            if exists is not None:
                raise SecurityError(f"user {name!r} exists already")
            connection.execute(
                security_user.insert().values(
                    username=name, password_hash=password_hash, role=Role(role).value, created_at=now
                )
            )
            record_action(connection, now, by, "user.create", f"user:{name}", {"role": Role(role).value})
        return UserInfo(name, Role(role), False, now, None)

    def ensure_user(self, username: str, password: str, role: Role, by: str = "sandbox") -> UserInfo:
        """Create the user, or reset an existing one's password and role and enable it: what the
        sandbox needs to print working credentials on every start."""
        name = check_username(username)
        now = self.clock.now()
        password_hash = hash_password(password)
        with self.engine.begin() as connection:
            updated = connection.execute(
                sa.update(security_user)
                .where(security_user.c.username == name)
                .values(password_hash=password_hash, role=Role(role).value, disabled=False)
            ).rowcount
            if not updated:
                connection.execute(
                    security_user.insert().values(
                        username=name, password_hash=password_hash, role=Role(role).value, created_at=now
                    )
                )
            record_action(connection, now, by, "user.ensure", f"user:{name}", {"role": Role(role).value})
        return UserInfo(name, Role(role), False, now, None)

    def users(self) -> list[UserInfo]:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(security_user).order_by(security_user.c.username))
            return [
                UserInfo(r.username, Role(r.role), bool(r.disabled), r.created_at, r.last_login_at)
                for r in rows
            ]

    def set_user_disabled(self, username: str, disabled: bool, by: str) -> bool:
        name = check_username(username)
        now = self.clock.now()
        with self.engine.begin() as connection:
            changed = connection.execute(
                sa.update(security_user).where(security_user.c.username == name).values(disabled=disabled)
            ).rowcount
            if disabled:  # a disabled user's open sessions end now
                connection.execute(sa.delete(security_session).where(security_session.c.username == name))
            if changed:
                action = "user.disable" if disabled else "user.enable"
                record_action(connection, now, by, action, f"user:{name}")
        return changed == 1

    # -- dashboard sessions --------------------------------------------------------------------

    def login(self, username: str, password: str) -> NewSession | None:
        """A new session when the password is right and the user enabled; None otherwise."""
        try:
            name = check_username(username)
        except SecurityError:
            name = ""
        now = self.clock.now()
        with self.engine.begin() as connection:
            row = connection.execute(sa.select(security_user).where(security_user.c.username == name)).first()
            matches = check_password(password, row.password_hash if row else DECOY_PASSWORD_HASH)
            if row is None or not matches or row.disabled:
                return None
            # Expired sessions are useless: dropped here so the table stays the size of who is logged in.
            connection.execute(sa.delete(security_session).where(security_session.c.expires_at <= now))
            session_id = secrets.token_urlsafe(32)
            session = DashboardSession(
                name, Role(row.role), secrets.token_urlsafe(24), now + SESSION_LIFETIME
            )
            connection.execute(
                security_session.insert().values(
                    session_digest=digest(session_id),
                    username=name,
                    csrf_token=session.csrf_token,
                    created_at=now,
                    expires_at=session.expires_at,
                )
            )
            connection.execute(
                sa.update(security_user).where(security_user.c.username == name).values(last_login_at=now)
            )
            record_action(connection, now, name, "session.login", f"user:{name}")
        return NewSession(session_id, session)

    def session(self, session_id: str) -> DashboardSession | None:
        """The live session of a cookie value, with its user's current role."""
        query = (
            sa.select(security_session, security_user.c.role, security_user.c.disabled)
            .join(security_user, security_user.c.username == security_session.c.username)
            .where(security_session.c.session_digest == digest(session_id))
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None or row.disabled or row.expires_at <= self.clock.now():
            return None
        return DashboardSession(row.username, Role(row.role), row.csrf_token, row.expires_at)

    def logout(self, session_id: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                sa.delete(security_session).where(security_session.c.session_digest == digest(session_id))
            )

    # -- trail ---------------------------------------------------------------------------------

    def actions(self, subject: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        query = sa.select(operator_action).order_by(operator_action.c.id.desc()).limit(limit)
        if subject is not None:
            query = query.where(operator_action.c.subject == subject)
        with self.engine.connect() as connection:
            return [
                {
                    "id": row.id,
                    "at": row.at.isoformat(),
                    "actor": row.actor,
                    "action": row.action,
                    "subject": row.subject,
                    "details": row.details,
                }
                for row in connection.execute(query)
            ]
