"""Every pricing route x every role (and anonymous), the way the operations role matrix walks its
routes: each route declares its access, nobody gets more than their role grants."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from channelhub.api import ApiContext, create_api
from channelhub.api.operations import OperationsContext, install_operations
from channelhub.api.pricing import install_pricing
from channelhub.api.security import Role, RouteAccess, grants, route_access
from channelhub.domain import AllocationRules
from channelhub.service.availability import AvailabilityPolicy, AvailabilityService
from tests.integration.pricing_api.pricing_api_world import PricingApiWorld, build_world

PRICING_PREFIXES = ("/api/v1/price-changes", "/api/v1/prices/", "/api/v1/audit", "/dashboard/prices")
SAMPLES = {"change_set_id": "999999", "sku": "NO-SUCH-SKU"}
EXPECTED = {
    ("GET", "/api/v1/price-changes"): Role.VIEWER,
    ("GET", "/api/v1/price-changes/{change_set_id}"): Role.VIEWER,
    ("GET", "/api/v1/price-changes/{change_set_id}/preview"): Role.VIEWER,
    ("GET", "/api/v1/price-changes/{change_set_id}/audit"): Role.VIEWER,
    ("POST", "/api/v1/price-changes/{change_set_id}/approve"): Role.PRICE_APPROVER,
    ("POST", "/api/v1/price-changes/{change_set_id}/reject"): Role.PRICE_APPROVER,
    ("POST", "/api/v1/price-changes/{change_set_id}/rollback"): Role.PRICE_APPROVER,
    ("POST", "/api/v1/price-changes/{change_set_id}/retry"): Role.OPERATOR,
    ("POST", "/api/v1/price-changes/capture"): Role.OPERATOR,
    ("GET", "/api/v1/prices/{sku}/history"): Role.VIEWER,
    ("GET", "/api/v1/audit"): Role.VIEWER,
    ("GET", "/api/v1/audit/verify"): Role.VIEWER,
    ("GET", "/api/v1/audit/export"): Role.VIEWER,
}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PricingApiWorld, TestClient]]:
    world = build_world(tmp_path_factory.mktemp("pricing-roles"))
    with TestClient(world.app, base_url="http://127.0.0.1") as client:
        yield world, client
    world.engine.dispose()


def pricing_routes(world: PricingApiWorld) -> list[RouteAccess]:
    return [r for r in route_access(world.app) if r.path.startswith(PRICING_PREFIXES)]


def call(client: TestClient, route: RouteAccess, headers: dict[str, str]) -> int:
    path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: SAMPLES[m.group(1)], route.path)
    body: dict[str, str] | None = {} if route.method == "POST" else None
    response = client.request(route.method, path, headers=headers, json=body, follow_redirects=False)
    status: int = response.status_code
    return status


def test_every_pricing_route_declares_the_documented_role(shared: tuple[PricingApiWorld, TestClient]) -> None:
    table = pricing_routes(shared[0])
    assert [r for r in table if r.access is None or r.access == "public"] == []
    api = {(r.method, r.path): r.access for r in table if not r.page}
    assert api == EXPECTED
    pages = {(r.method, r.path): r.access for r in table if r.page}
    assert len(pages) == 9
    assert pages[("POST", "/dashboard/prices/{change_set_id}/retry")] == Role.OPERATOR
    decisions = {
        access for (method, path), access in pages.items() if method == "POST" and "retry" not in path
    }
    assert decisions == {Role.PRICE_APPROVER}
    assert {access for (method, _), access in pages.items() if method == "GET"} == {Role.VIEWER}


def test_anonymous_callers_are_refused(shared: tuple[PricingApiWorld, TestClient]) -> None:
    world, client = shared
    for route in pricing_routes(world):
        assert call(client, route, {}) == (303 if route.page else 401), (route.method, route.path)


@pytest.mark.parametrize("user", ["vera", "oscar", "alice", "bootstrap"])
def test_each_role_gets_exactly_what_it_is_granted(
    shared: tuple[PricingApiWorld, TestClient], user: str
) -> None:
    world, client = shared
    held = {
        "vera": Role.VIEWER,
        "oscar": Role.OPERATOR,
        "alice": Role.PRICE_APPROVER,
        "bootstrap": Role.ADMIN,
    }[user]
    checked = 0
    for route in pricing_routes(world):
        assert isinstance(route.access, Role)
        status = call(client, route, world.bearer(user))
        if grants(held, route.access):
            assert status not in (401, 403, 500), (user, route.method, route.path, status)
        else:
            assert status == 403, (user, route.method, route.path, status)
        checked += 1
    assert checked == len(EXPECTED) + 9


def test_mounted_on_the_app_factory_next_to_the_operations_surface(tmp_path: Path) -> None:
    """As the composition root mounts it: `create_api` + `install_operations` + `install_pricing`."""
    world = build_world(tmp_path)
    try:
        api_context = ApiContext(
            engine=world.engine,
            channels={},
            erp=None,
            availability=AvailabilityService(AvailabilityPolicy(AllocationRules(channels=()), ())),
            api_token="sandbox-admin-token-0123456789",
        )
        app = create_api(api_context)
        install_operations(app, OperationsContext.from_api_context(api_context))
        install_pricing(app, world.service, bootstrap_user="carol")
        mounted = {
            (r.method, r.path): r.access for r in route_access(app) if r.path.startswith(PRICING_PREFIXES)
        }
        assert {key: mounted[key] for key in EXPECTED} == EXPECTED
        cut = world.propose({"A-1": "50.00"})
        with TestClient(app) as client:
            admin = {"Authorization": "Bearer sandbox-admin-token-0123456789"}
            assert (
                client.get(f"/api/v1/price-changes/{cut.id}", headers=admin).json()["status"]
                == "pending_approval"
            )
            assert (
                client.post(f"/api/v1/price-changes/{cut.id}/approve", json={}, headers=admin).status_code
                == 403
            )
            assert client.get("/openapi.json").json()["paths"][
                "/api/v1/price-changes/{change_set_id}/approve"
            ]
    finally:
        world.engine.dispose()
