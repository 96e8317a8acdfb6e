"""The hash-chained audit log's rules (DESIGN §4): how a row is hashed and how a chain is verified.

Each row's hash is sha256 over the canonical JSON of the row (sequence number, time, actor,
action, subject, before, after) together with the previous row's hash; the first row chains to
`GENESIS`. Editing a row changes its hash; removing or reordering rows breaks the sequence and
the link to the previous hash. `verify_chain` names the first row where that happens.

Removing rows at the *end* leaves a valid, shorter chain: compare the head (`ChainReport.head`,
`count`) with one recorded elsewhere (an export, a finance report) to detect it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from channelhub.domain.errors import InvalidValue

GENESIS = "0" * 64


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 text: one text per value, whatever the dict order."""
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One step: who did what to which subject, when, and the state before and after."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    prev_hash: str
    row_hash: str

    def content(self) -> dict[str, Any]:
        if self.at.tzinfo is None:
            raise InvalidValue("audit times must be timezone-aware")
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "before": self.before,
            "after": self.after,
        }

    def expected_hash(self) -> str:
        return row_hash(self.content(), self.prev_hash)

    def to_dict(self) -> dict[str, Any]:
        return {**_plain(self.content()), "prev_hash": self.prev_hash, "row_hash": self.row_hash}


def row_hash(content: Mapping[str, Any], prev_hash: str) -> str:
    return hashlib.sha256(f"{canonical_json(content)}\n{prev_hash}".encode()).hexdigest()


def chain_next(
    prev: AuditRecord | None,
    *,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditRecord:
    """The record that follows `prev` (None: the first record), with its hash."""
    if not actor or not action:
        raise InvalidValue("an audit record needs an actor and an action")
    if at.tzinfo is None:
        raise InvalidValue("audit times must be timezone-aware")
    at = at.astimezone(UTC)  # one text per moment, so the hash survives any storage round trip
    seq = 1 if prev is None else prev.seq + 1
    prev_hash = GENESIS if prev is None else prev.row_hash
    draft = AuditRecord(seq, at, actor, action, subject, _plain(before), _plain(after), prev_hash, "")
    return AuditRecord(
        seq, at, actor, action, subject, draft.before, draft.after, prev_hash, draft.expected_hash()
    )


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    count: int
    head: str  # the last good row's hash (GENESIS for an empty log)
    first_bad_seq: int | None = None
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "count": self.count,
            "head": self.head,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
        }


def verify_chain(records: Iterable[AuditRecord]) -> ChainReport:
    """Check `records` in storage order; the report names the first row that does not fit."""
    expected_seq, prev_hash, count = 1, GENESIS, 0
    for record in records:
        if record.seq != expected_seq:
            problem = (
                f"row {record.seq} found where row {expected_seq} belongs "
                f"({'removed' if record.seq > expected_seq else 'reordered or duplicated'} rows)"
            )
            return ChainReport(False, count, prev_hash, record.seq, problem)
        if record.prev_hash != prev_hash:
            return ChainReport(
                False,
                count,
                prev_hash,
                record.seq,
                f"row {record.seq} does not link to row {expected_seq - 1}",
            )
        if record.expected_hash() != record.row_hash:
            return ChainReport(
                False, count, prev_hash, record.seq, f"row {record.seq} was changed after it was written"
            )
        expected_seq, prev_hash, count = expected_seq + 1, record.row_hash, count + 1
    return ChainReport(True, count, prev_hash)
