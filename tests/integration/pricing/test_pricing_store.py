"""The pricing tables: the migration matches the declared tables, and the journey works on
PostgreSQL too (same code, other backend)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from channelhub.service.pricing import ChangeSetStatus, PricelistChange, SourcePrice
from channelhub.store.db import isolated_schema, metadata
from channelhub.store.pricing_tables import PRICING_TABLES, audit_log
from tests.integration.pricing.conftest import Desk, build_desk, d

NAMES = {table.name for table in PRICING_TABLES}


@pytest.fixture(params=["sqlite", "postgresql"])
def any_desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desk]:
    url = f"sqlite:///{tmp_path}/pricing.db"
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
    with isolated_schema(url, prefix="pricing") as schema:
        desk = build_desk(url, schema=schema)
        try:
            yield desk
        finally:
            desk.engine.dispose()


def _table_of(difference: object) -> str | None:
    entry = difference[0] if isinstance(difference, list) else difference
    assert isinstance(entry, tuple)
    for item in entry[1:]:
        if isinstance(item, sa.Table):
            return item.name
        if isinstance(item, sa.Index | sa.UniqueConstraint | sa.Column) and item.table is not None:
            return item.table.name
        if isinstance(item, str) and item in NAMES:
            return item
    return None


def test_migration_matches_the_declared_pricing_tables(any_desk: Desk) -> None:
    with any_desk.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = [diff for diff in compare_metadata(context, metadata) if _table_of(diff) in NAMES]
    assert differences == []


async def test_journey_and_tamper_detection_on_each_backend(any_desk: Desk) -> None:
    service = any_desk.service
    any_desk.source.push(
        PricelistChange(1, (SourcePrice("A-1", d("50"), "EUR", ref="item:1@t1"),), "t1", "maria")
    )
    [created] = await service.capture.poll()
    service.governance.approve(created.id, service.context.approver("alice"), "ok")
    assert (await service.release.run_due()).published == [created.id]
    assert service.governance.get(created.id).status is ChangeSetStatus.PUBLISHED
    assert service.audit_verify().ok and service.audit_verify().count == 10
    with any_desk.engine.begin() as connection:
        connection.execute(sa.delete(audit_log).where(audit_log.c.seq == 3))
    report = service.audit_verify()
    assert not report.ok and report.first_bad_seq == 4 and "removed" in (report.problem or "")
