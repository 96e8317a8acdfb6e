"""Business exceptions: conflicts a person or a rule must decide, never silently dropped.

There is at most one *open* exception per kind and subject: when a retried event raises the same
conflict again, the open one counts another occurrence instead of piling up duplicates. Closing
one (resolve or dismiss) must be among its allowed actions and is recorded with who and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from channelhub.domain import BusinessException, ExceptionAction
from channelhub.store.repositories._sql import insert_for
from channelhub.store.state_tables import business_exception as table

ExceptionStatus = Literal["open", "resolved", "dismissed"]
_CLOSING = {ExceptionAction.RESOLVE: "resolved", ExceptionAction.DISMISS: "dismissed"}


class ActionNotAllowed(ValueError):
    """The exception does not allow this action, or it is not open any more."""


@dataclass(frozen=True, slots=True)
class RecordedException:
    id: int
    kind: str
    subject: str
    reason: str
    payload: dict[str, Any]
    allowed_actions: tuple[ExceptionAction, ...]
    status: ExceptionStatus
    occurrences: int
    created_at: datetime
    last_seen_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    resolution: str | None


class BusinessExceptionRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def record(
        self,
        kind: str,
        subject: str,
        reason: str,
        allowed_actions: Iterable[ExceptionAction],
        at: datetime,
        payload: Mapping[str, Any] | None = None,
    ) -> int:
        """Open an exception, or count another occurrence of the open one; returns its id."""
        insert = insert_for(self._connection, table)
        new = insert.excluded
        statement = insert.on_conflict_do_update(
            index_elements=[table.c.kind, table.c.subject],
            index_where=table.c.status == "open",
            set_={
                "occurrences": table.c.occurrences + 1,
                "last_seen_at": new.last_seen_at,
                "reason": new.reason,
                "payload": new.payload,
                "allowed_actions": new.allowed_actions,
            },
        ).returning(table.c.id)
        params = {
            "kind": kind,
            "subject": subject,
            "reason": reason,
            "payload": dict(payload or {}),
            "allowed_actions": [ExceptionAction(action).value for action in allowed_actions],
            "status": "open",
            "occurrences": 1,
            "created_at": at,
            "last_seen_at": at,
        }
        return int(self._connection.execute(statement, params).scalar_one())

    def record_order_exception(
        self, exception: BusinessException, at: datetime, payload: Mapping[str, Any] | None = None
    ) -> int:
        """Record a domain `BusinessException` (its code is the kind, its order key the subject)."""
        return self.record(
            exception.code, exception.order_key, exception.reason, exception.allowed_actions, at, payload
        )

    def get(self, exception_id: int) -> RecordedException | None:
        row = self._connection.execute(sa.select(table).where(table.c.id == exception_id)).first()
        return None if row is None else _recorded(row)

    def open(
        self, kind: str | None = None, subject: str | None = None, limit: int = 100
    ) -> list[RecordedException]:
        """Open exceptions, oldest first."""
        query = sa.select(table).where(table.c.status == "open")
        if kind is not None:
            query = query.where(table.c.kind == kind)
        if subject is not None:
            query = query.where(table.c.subject == subject)
        rows = self._connection.execute(query.order_by(table.c.created_at, table.c.id).limit(limit))
        return [_recorded(row) for row in rows]

    def count_open(self) -> int:
        query = sa.select(sa.func.count()).select_from(table).where(table.c.status == "open")
        return int(self._connection.execute(query).scalar_one())

    def close(self, exception_id: int, action: ExceptionAction, by: str, note: str, at: datetime) -> None:
        """Resolve or dismiss an open exception; `ActionNotAllowed` when that is not an option."""
        current = self.get(exception_id)
        if current is None or current.status != "open":
            raise ActionNotAllowed(f"exception {exception_id} is not open")
        if action not in _CLOSING or action not in current.allowed_actions:
            allowed = ", ".join(a.value for a in current.allowed_actions)
            raise ActionNotAllowed(f"exception {exception_id} allows {allowed}, not {action.value}")
        # Guarded on status so two operators closing at once cannot both succeed.
        closed = self._connection.execute(
            sa.update(table)
            .where(table.c.id == exception_id, table.c.status == "open")
            .values(status=_CLOSING[action], closed_at=at, closed_by=by, resolution=note)
        ).rowcount
        if closed != 1:
            raise ActionNotAllowed(f"exception {exception_id} was closed meanwhile")


def _recorded(row: sa.Row[Any]) -> RecordedException:
    return RecordedException(
        id=int(row.id),
        kind=row.kind,
        subject=row.subject,
        reason=row.reason,
        payload=dict(row.payload),
        allowed_actions=tuple(ExceptionAction(action) for action in row.allowed_actions),
        status=row.status,
        occurrences=row.occurrences,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        resolution=row.resolution,
    )
