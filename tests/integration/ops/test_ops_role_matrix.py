"""Every route x every role (and anonymous): nothing is unguarded, nobody gets more than their role."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from channelhub.api.security import Role, grants, route_access
from tests.integration.ops.ops_world import OpsWorld, build_world

# Routes that are open on purpose, and why. Anything else open is a bug.
PUBLIC = {
    ("GET", "/api/v1/live"),  # liveness probe
    ("GET", "/api/v1/ready"),  # readiness probe
    ("GET", "/dashboard/login"),
    ("POST", "/dashboard/login"),  # protected by its own double-submit CSRF check
}

# Path parameters are filled with values that exist nowhere, so allowed calls change nothing.
SAMPLES = {
    "event_id": "no-such-event",
    "exception_id": "999999",
    "token_id": "nosuchtoken",
    "username": "nobody",
    "sku": "NO-SUCH-SKU",
    "order_key": "shop:no-such-order",
    "run_id": "999",
    "code": "nowhere",
    "change_set_id": "999999",
}


@pytest.fixture(scope="module")
def shared_world(tmp_path_factory: pytest.TempPathFactory) -> OpsWorld:
    """The operations world with the pricing routes too: every route of the app is walked."""
    return build_world(tmp_path_factory.mktemp("roles"), pricing=True)


def concrete(path: str) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "action":
            return "dismiss" if "exceptions" in path else "hold"
        return SAMPLES[name]

    return re.sub(r"\{(\w+)(?::\w+)?\}", fill, path)


def call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> int:
    body: dict[str, object] | None = {} if method in ("POST", "PUT", "PATCH") else None
    response = client.request(method, concrete(path), headers=headers, json=body, follow_redirects=False)
    status: int = response.status_code
    return status


def test_every_route_declares_its_access(shared_world: OpsWorld) -> None:
    table = route_access(shared_world.app)
    assert len(table) > 30
    undeclared = [(r.method, r.path) for r in table if r.access is None]
    assert undeclared == []
    public = {(r.method, r.path) for r in table if r.access == "public"}
    assert public == PUBLIC
    declared = {(r.method, r.path): r.access for r in table}
    # The explain and health routes of `create_api` are walked like the rest, as viewer routes.
    assert declared[("GET", "/api/v1/availability/{sku}")] == Role.VIEWER
    assert declared[("GET", "/api/v1/health")] == Role.VIEWER
    assert declared[("POST", "/api/v1/price-changes/{change_set_id}/approve")] == Role.PRICE_APPROVER


def test_anonymous_is_refused_everywhere(shared_world: OpsWorld, shared_client: TestClient) -> None:
    for route in route_access(shared_world.app):
        if (route.method, route.path) in PUBLIC:
            continue
        status = call(shared_client, route.method, route.path, {})
        if route.page:
            assert status == 303, (route.method, route.path, status)
        else:
            assert status == 401, (route.method, route.path, status)


def test_a_wrong_or_malformed_token_is_refused(shared_world: OpsWorld, shared_client: TestClient) -> None:
    for header in ("Bearer chub_abc_wrong", "Bearer nonsense", "Basic dXNlcjpwdw==", "Bearer "):
        response = shared_client.get("/api/v1/overview", headers={"Authorization": header})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("held", list(Role))
def test_each_role_gets_exactly_what_it_is_granted(
    shared_world: OpsWorld, shared_client: TestClient, held: Role
) -> None:
    headers = shared_world.bearer(held.value)
    checked = 0
    for route in route_access(shared_world.app):
        if not isinstance(route.access, Role):  # public, signed or undeclared: tested above
            continue
        status = call(shared_client, route.method, route.path, headers)
        if grants(held, route.access):
            assert status not in (401, 403), (held, route.method, route.path, status)
        else:
            assert status == 403, (held, route.method, route.path, status)
        checked += 1
    assert checked > 30


def test_roles_are_not_ranks() -> None:
    assert grants(Role.ADMIN, Role.PRICE_APPROVER)
    assert grants(Role.PRICE_APPROVER, Role.VIEWER)
    assert not grants(Role.PRICE_APPROVER, Role.OPERATOR)
    assert not grants(Role.OPERATOR, Role.PRICE_APPROVER)
    assert not grants(Role.OPERATOR, Role.ADMIN)
    assert not grants(Role.VIEWER, Role.OPERATOR)
