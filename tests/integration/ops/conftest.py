from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.integration.ops.ops_world import OpsWorld, build_world


@pytest.fixture
def world(tmp_path: object) -> OpsWorld:
    return build_world(tmp_path)  # type: ignore[arg-type]


@pytest.fixture
def client(world: OpsWorld) -> Iterator[TestClient]:
    with TestClient(world.app, base_url="http://127.0.0.1") as test_client:
        yield test_client


@pytest.fixture(scope="module")
def shared_world(tmp_path_factory: pytest.TempPathFactory) -> OpsWorld:
    """One world for a whole module whose tests change nothing."""
    return build_world(tmp_path_factory.mktemp("ops"))


@pytest.fixture(scope="module")
def shared_client(shared_world: OpsWorld) -> Iterator[TestClient]:
    with TestClient(shared_world.app, base_url="http://127.0.0.1") as test_client:
        yield test_client
