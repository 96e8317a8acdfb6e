"""The audit trail on the `audit_log` table: append (inside the caller's transaction), verify,
export for finance (CSV or JSON).

Appends read the last row and write the next one in the same transaction; SQLite serialises
writers (`BEGIN IMMEDIATE`) and on PostgreSQL a concurrent append collides on the primary key
and the caller's transaction fails instead of forking the chain.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from channelhub.domain.audit import AuditRecord, ChainReport, canonical_json, chain_next, verify_chain
from channelhub.store.pricing_tables import audit_log

EXPORT_COLUMNS = ("seq", "at", "actor", "action", "subject", "before", "after", "prev_hash", "row_hash")


def _record_of(row: sa.RowMapping) -> AuditRecord:
    return AuditRecord(
        seq=int(row["seq"]),
        at=datetime.fromisoformat(row["at"]),
        actor=row["actor"],
        action=row["action"],
        subject=row["subject"],
        before=json.loads(row["before"]) if row["before"] is not None else None,
        after=json.loads(row["after"]) if row["after"] is not None else None,
        prev_hash=row["prev_hash"],
        row_hash=row["row_hash"],
    )


class AuditTrail:
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def last(self) -> AuditRecord | None:
        row = (
            self._connection.execute(sa.select(audit_log).order_by(audit_log.c.seq.desc()).limit(1))
            .mappings()
            .first()
        )
        return None if row is None else _record_of(row)

    def append(
        self,
        *,
        at: datetime,
        actor: str,
        action: str,
        subject: str,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> AuditRecord:
        record = chain_next(
            self.last(), at=at, actor=actor, action=action, subject=subject, before=before, after=after
        )
        self._connection.execute(
            sa.insert(audit_log).values(
                seq=record.seq,
                at=record.content()["at"],
                actor=record.actor,
                action=record.action,
                subject=record.subject,
                before=None if record.before is None else canonical_json(record.before),
                after=None if record.after is None else canonical_json(record.after),
                prev_hash=record.prev_hash,
                row_hash=record.row_hash,
            )
        )
        return record

    def records(self, subject: str | None = None) -> Iterator[AuditRecord]:
        """Rows in storage order (by sequence number); a row whose JSON is unreadable is
        reported by `verify` rather than raised here."""
        query = sa.select(audit_log).order_by(audit_log.c.seq)
        if subject is not None:
            query = query.where(audit_log.c.subject == subject)
        for row in self._connection.execute(query).mappings():
            yield _record_of(row)

    def verify(self) -> ChainReport:
        records: list[AuditRecord] = []
        query = sa.select(audit_log).order_by(audit_log.c.seq)
        for row in self._connection.execute(query).mappings():
            try:
                records.append(_record_of(row))
            except (ValueError, TypeError) as error:
                report = verify_chain(records)
                if not report.ok:
                    return report
                seq = int(row["seq"])
                return ChainReport(False, report.count, report.head, seq, f"row {seq} is unreadable: {error}")
        return verify_chain(records)

    def export_json(self, subject: str | None = None) -> str:
        return json.dumps(
            [record.to_dict() for record in self.records(subject)], indent=2, ensure_ascii=False
        )

    def export_csv(self, subject: str | None = None) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(EXPORT_COLUMNS)
        for record in self.records(subject):
            data = record.to_dict()
            writer.writerow(
                [
                    canonical_json(data[column]) if column in ("before", "after") else data[column]
                    for column in EXPORT_COLUMNS
                ]
            )
        return buffer.getvalue()
