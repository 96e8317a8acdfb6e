from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.integration.pricing_api.pricing_api_world import PricingApiWorld, build_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[PricingApiWorld]:
    built = build_world(tmp_path)
    try:
        yield built
    finally:
        built.engine.dispose()


@pytest.fixture
def client(world: PricingApiWorld) -> Iterator[TestClient]:
    with TestClient(world.app, base_url="http://127.0.0.1") as test_client:
        yield test_client
