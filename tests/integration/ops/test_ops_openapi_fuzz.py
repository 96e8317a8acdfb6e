"""schemathesis fuzzing of the operations API's OpenAPI document: no request, however odd, may
produce a server error. Bounded examples per operation keep it at a few seconds."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from channelhub.engine.reconcile import ReconciliationReport
from tests.integration.ops.ops_world import OpsWorld, build_world

EXAMPLES_PER_OPERATION = 4


@pytest.fixture(scope="module")
def fuzz_world(tmp_path_factory: pytest.TempPathFactory) -> OpsWorld:
    world = build_world(tmp_path_factory.mktemp("fuzz"))

    async def reconcile_nothing(channel: str | None, dry_run: bool) -> ReconciliationReport:
        now = datetime.now(UTC)
        return ReconciliationReport(dry_run, now, now, ())

    # A configured process: 503 `not_configured` is a deliberate answer, not what we hunt for.
    world.ctx.reconcile = reconcile_nothing
    return world


def test_no_server_errors(fuzz_world: OpsWorld) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_world.app)
    headers = fuzz_world.bearer("admin")  # as an admin, so every route is exercised past authentication
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: Any) -> None:
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}"
                )

        exercise()
    assert operations > 30
    assert failures == []


def test_schema_lists_the_operations(fuzz_world: OpsWorld, tmp_path: Path) -> None:
    document = fuzz_world.app.openapi()
    paths = set(document["paths"])
    assert {"/api/v1/dead-letters", "/api/v1/exceptions/{exception_id}/retry", "/metrics"} <= paths
    assert not any(path.startswith("/dashboard") for path in paths)  # pages are not API
    replay = document["paths"]["/api/v1/dead-letters/{event_id}/replay"]["post"]
    assert replay["x-required-role"] == "operator" and "`operator` role" in replay["description"]
