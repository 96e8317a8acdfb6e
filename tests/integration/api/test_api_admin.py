"""The admin API: bearer token required, stable error bodies, explain JSON."""

from __future__ import annotations

from datetime import UTC, datetime

from channelhub.domain import Sku
from channelhub.service.ports import ErpStockRead, ErpStockRow
from channelhub.service.stock_capture import StockCapture
from channelhub.store.repositories import StateRepositories
from tests.integration.api.conftest import API_TOKEN, Hub

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


async def test_api_admin_requires_the_bearer_token(hub: Hub) -> None:
    for headers in ({}, {"Authorization": "Bearer not-the-token"}, {"Authorization": f"Basic {API_TOKEN}"}):
        for path in ("/api/v1/health", "/api/v1/availability/TEE-M"):
            response = await hub.http.get(path, headers=headers)
            assert response.status_code == 401, (path, headers)
            assert response.json()["error"]["code"] == "unauthorized"
            assert response.headers["www-authenticate"].startswith("Bearer")
    health = await hub.http.get("/api/v1/health", headers=AUTH)
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["channels"] == ["shopify", "woocommerce"]


async def test_api_explain_answers_with_quants_rules_and_desired_vs_acknowledged(hub: Hub) -> None:
    now = datetime.now(UTC)
    read = ErpStockRead(
        skus=("TEE-M",),
        rows=(
            ErpStockRow("TEE-M", "wh", "WH/Stock", on_hand=10, reserved=3, write_date=now),
            ErpStockRow("TEE-M", "east", "EAST/Stock", on_hand=4, hold=1, write_date=now),
        ),
    )
    with hub.engine.begin() as connection:
        StockCapture(hub.context.availability).apply(connection, read, now)
        StateRepositories.on(connection).listings.acknowledge_quantities([("shopify", Sku("TEE-M"), 8)], now)

    response = await hub.http.get("/api/v1/availability/TEE-M", params={"channel": "shopify"}, headers=AUTH)
    assert response.status_code == 200
    view = response.json()
    # shopify: wh free 7 + east free 3 = 10, minus safety 2 = 8; woocommerce: wh only = 7.
    assert (view["sku"], view["channel"], view["available_to_sell"], view["acknowledged"]) == (
        "TEE-M",
        "shopify",
        8,
        8,
    )
    assert {w["warehouse"]: w["free"] for w in view["warehouses"]} == {"wh": 7, "east": 3}
    assert view["rules"]["safety_units"] in (2, "2") and view["explanation"]

    every = (await hub.http.get("/api/v1/availability/TEE-M", headers=AUTH)).json()
    assert every["channel"] is None
    assert every["available_to_sell"] == {"shopify": 8, "woocommerce": 7}
    assert every["acknowledged"] == {"shopify": 8, "woocommerce": None}

    unknown = await hub.http.get("/api/v1/availability/TEE-M", params={"channel": "amazon"}, headers=AUTH)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_channel"
    bad = await hub.http.get("/api/v1/availability/not a sku!", headers=AUTH)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_request"


async def test_api_admin_takes_role_tokens_of_the_security_store(hub: Hub) -> None:
    from channelhub.api.security import Role, SecurityStore

    store = SecurityStore(hub.engine)
    viewer = store.create_token("dashboard-reader", Role.VIEWER, "test")
    headers = {"Authorization": f"Bearer {viewer.token}"}
    assert (await hub.http.get("/api/v1/health", headers=headers)).status_code == 200
    assert (await hub.http.get("/api/v1/availability/TEE-M", headers=headers)).status_code == 200

    assert store.revoke_token(viewer.info.token_id, "test")
    refused = await hub.http.get("/api/v1/health", headers=headers)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
