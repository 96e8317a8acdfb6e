"""The audit hash chain: any edit, removal or reordering is found and the first bad row named."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from channelhub.domain.audit import GENESIS, AuditRecord, canonical_json, chain_next, verify_chain

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def build(count: int) -> list[AuditRecord]:
    records: list[AuditRecord] = []
    for n in range(count):
        records.append(
            chain_next(
                records[-1] if records else None,
                at=T0 + timedelta(seconds=n),
                actor=f"user{n % 3}",
                action="approved",
                subject=f"price-change:{n % 4}",
                before={"status": "a"},
                after={"price": f"{n}.99", "n": n},
            )
        )
    return records


def test_an_intact_chain_verifies_and_reports_its_head() -> None:
    records = build(5)
    report = verify_chain(records)
    assert report.ok and report.count == 5 and report.head == records[-1].row_hash
    assert records[0].prev_hash == GENESIS
    assert verify_chain([]).ok and verify_chain([]).head == GENESIS


def test_hash_is_independent_of_key_order_and_time_zone() -> None:
    assert canonical_json({"b": 1, "a": [1, {"y": 2, "x": 1}]}) == '{"a":[1,{"x":1,"y":2}],"b":1}'
    local = T0.astimezone(timezone(timedelta(hours=2)))
    first = chain_next(None, at=local, actor="a", action="x", subject="s", after={"k": 1, "j": 2})
    again = chain_next(None, at=T0, actor="a", action="x", subject="s", after={"j": 2, "k": 1})
    assert first.row_hash == again.row_hash


@given(st.integers(min_value=2, max_value=12), st.data())
def test_editing_any_row_is_named(count: int, data: st.DataObject) -> None:
    records = build(count)
    victim = data.draw(st.integers(min_value=0, max_value=count - 1))
    field = data.draw(st.sampled_from(["actor", "action", "subject", "after", "at"]))
    changes: dict[str, object] = {
        "actor": {"actor": "mallory"}, "action": {"action": "rejected"}, "subject": {"subject": "x"},
        "after": {"after": {"price": "0.01"}}, "at": {"at": records[victim].at + timedelta(seconds=1)},
    }  # fmt: skip
    records[victim] = replace(records[victim], **changes[field])  # type: ignore[arg-type]
    report = verify_chain(records)
    assert not report.ok and report.first_bad_seq == victim + 1


@given(st.integers(min_value=3, max_value=12), st.data())
def test_removing_or_swapping_rows_is_named(count: int, data: st.DataObject) -> None:
    records = build(count)
    gone = data.draw(st.integers(min_value=0, max_value=count - 2))
    removed = records[:gone] + records[gone + 1 :]
    report = verify_chain(removed)
    assert not report.ok and report.first_bad_seq == gone + 2 and "removed" in (report.problem or "")
    swapped = list(records)
    swapped[gone], swapped[gone + 1] = swapped[gone + 1], swapped[gone]
    assert verify_chain(swapped).first_bad_seq == gone + 2


def test_recomputing_one_rows_hash_still_breaks_the_next_link() -> None:
    records = build(4)
    forged = replace(records[1], actor="mallory")
    records[1] = replace(forged, row_hash=forged.expected_hash())
    report = verify_chain(records)
    assert not report.ok and report.first_bad_seq == 3 and "does not link" in (report.problem or "")
