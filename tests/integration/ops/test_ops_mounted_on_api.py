"""The operations surface mounted on the app factory of `channelhub.api` (webhook ingress and
the availability/health routes), as the composition root does it."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from channelhub.api import ApiContext, create_api
from channelhub.api.operations import OperationsContext, install_operations
from channelhub.api.security import route_access
from channelhub.service.availability import AvailabilityService
from tests.integration.ops.ops_world import build_world, policy

# Routes of channelhub.api's own admin router, guarded by its bearer check rather than by a
# declared role (to be moved onto `require_role`): the only undeclared routes allowed.
API_BEARER_ROUTES = {("GET", "/api/v1/availability/{sku}"), ("GET", "/api/v1/health")}


def test_mounted_on_the_app_factory(tmp_path: Path) -> None:
    world = build_world(tmp_path)  # a seeded store
    api_context = ApiContext(
        engine=world.engine,
        channels={},
        erp=None,
        availability=AvailabilityService(policy()),
        api_token="sandbox-admin-token-0123456789",
        extra={"orders": None},
    )
    app = create_api(api_context)
    install_operations(app, OperationsContext.from_api_context(api_context))
    table = route_access(app)
    undeclared = {(r.method, r.path) for r in table if r.access is None}
    assert undeclared <= API_BEARER_ROUTES
    signed = {r.path for r in table if r.access == "signed"}
    assert {"/webhooks/shopify", "/webhooks/woocommerce", "/webhooks/odoo"} <= signed
    with TestClient(app) as client:
        admin = {"Authorization": "Bearer sandbox-admin-token-0123456789"}
        assert client.get("/api/v1/overview", headers=admin).json()["dead_letters"] == 3
        assert client.get("/api/v1/health", headers=admin).status_code == 200
        viewer = {"Authorization": f"Bearer {world.tokens['viewer']}"}
        assert client.get("/api/v1/overview", headers=viewer).status_code == 200
        assert client.get("/dashboard", follow_redirects=False).status_code == 303
        assert client.get("/openapi.json").json()["paths"]["/api/v1/dead-letters"]
