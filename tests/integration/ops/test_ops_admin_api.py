"""The admin API against a real store: dead letters, exceptions, sync status, orders, warehouses,
reconciliation, endpoints, masking of personal data below operator, cursor pagination."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from channelhub.engine.reconcile import ChannelReconciliation, QuantityDiff, ReconciliationReport
from channelhub.store.security_tables import operator_action
from tests.integration.ops.ops_world import CUSTOMER_EMAIL, ORDER_KEY, OpsWorld


def test_dead_letters_list_with_filters_and_cursor(world: OpsWorld, client: TestClient) -> None:
    headers = world.bearer("operator")
    first = client.get("/api/v1/dead-letters?limit=2", headers=headers).json()
    assert [item["key"] for item in first["items"]] == ["shipment:0", "shipment:1"]
    second = client.get(f"/api/v1/dead-letters?limit=2&cursor={first['next_cursor']}", headers=headers).json()
    assert [item["key"] for item in second["items"]] == ["shipment:2"] and second["next_cursor"] is None
    by_error = client.get("/api/v1/dead-letters?error_contains=CARRIER", headers=headers).json()
    assert len(by_error["items"]) == 3
    assert client.get("/api/v1/dead-letters?topic=other", headers=headers).json()["items"] == []
    bad = client.get("/api/v1/dead-letters?cursor=not-a-cursor", headers=headers)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_cursor"


def test_a_dead_letter_shows_its_raw_payload_masked_for_viewers(world: OpsWorld, client: TestClient) -> None:
    event_id = world.dead_event_ids[0]
    full = client.get(f"/api/v1/dead-letters/{event_id}", headers=world.bearer("operator")).json()
    assert full["payload"]["customer"]["email"] == CUSTOMER_EMAIL
    masked = client.get(f"/api/v1/dead-letters/{event_id}", headers=world.bearer("viewer")).json()
    assert CUSTOMER_EMAIL not in str(masked) and "Jane Doe" not in str(masked)
    assert masked["payload"]["shipment"] == 0
    assert client.get("/api/v1/dead-letters/nope", headers=world.bearer("viewer")).status_code == 404


def test_replay_one_then_it_is_handled(world: OpsWorld, client: TestClient) -> None:
    world.partner_fixed["fixed"] = True
    event_id = world.dead_event_ids[0]
    replayed = client.post(f"/api/v1/dead-letters/{event_id}/replay", headers=world.bearer("operator"))
    assert replayed.json() == {"event_id": event_id, "status": "replayed"}
    assert world.run_worker() == 1
    remaining = client.get("/api/v1/dead-letters", headers=world.bearer("viewer")).json()["items"]
    assert event_id not in {item["event_id"] for item in remaining} and len(remaining) == 2
    with world.engine.connect() as connection:
        trail = connection.execute(sa.select(operator_action.c.action, operator_action.c.subject)).all()
    assert ("dead_letter.replay", f"event:{event_id}") in [tuple(row) for row in trail]


def test_replay_by_filter_needs_a_filter_or_all(world: OpsWorld, client: TestClient) -> None:
    headers = world.bearer("operator")
    refused = client.post("/api/v1/dead-letters/replay", json={}, headers=headers)
    assert refused.status_code == 400
    by_key = client.post("/api/v1/dead-letters/replay", json={"key": "shipment:1"}, headers=headers)
    assert by_key.json() == {"replayed": 1}
    everything = client.post("/api/v1/dead-letters/replay", json={"all": True}, headers=headers)
    assert everything.json() == {"replayed": 2}
    assert client.get("/api/v1/dead-letters", headers=headers).json()["items"] == []


def test_discard_needs_a_reason_and_keeps_the_event_in_the_trail(world: OpsWorld, client: TestClient) -> None:
    event_id = world.dead_event_ids[2]
    headers = world.bearer("operator")
    assert (
        client.post(f"/api/v1/dead-letters/{event_id}/discard", json={}, headers=headers).status_code == 422
    )
    done = client.post(
        f"/api/v1/dead-letters/{event_id}/discard", json={"reason": "carrier retired"}, headers=headers
    )
    assert done.json()["status"] == "discarded"
    assert client.get(f"/api/v1/dead-letters/{event_id}", headers=headers).status_code == 404
    trail = world.store.actions(f"event:{event_id}")
    assert trail[0]["action"] == "dead_letter.discard"
    assert trail[0]["details"]["reason"] == "carrier retired"
    assert trail[0]["details"]["event"]["payload"]["shipment"] == 2


def test_exceptions_retry_appends_a_sync_and_dismiss_closes(world: OpsWorld, client: TestClient) -> None:
    headers = world.bearer("operator")
    listed = client.get("/api/v1/exceptions", headers=headers).json()["items"]
    assert [item["id"] for item in listed] == [world.exception_id]
    masked = client.get("/api/v1/exceptions", headers=world.bearer("viewer")).json()
    assert CUSTOMER_EMAIL not in str(masked)
    retried = client.post(f"/api/v1/exceptions/{world.exception_id}/retry", headers=headers)
    assert retried.status_code == 200 and retried.json()["status"] == "open"
    timeline = client.get(f"/api/v1/orders/{ORDER_KEY}/timeline", headers=headers).json()
    assert [entry["topic"] for entry in timeline["log"]] == ["erp.order.sync.v1"]
    second = client.post(f"/api/v1/exceptions/{world.exception_id}/retry", headers=headers)
    assert second.status_code == 200
    timeline = client.get(f"/api/v1/orders/{ORDER_KEY}/timeline", headers=headers).json()
    assert len(timeline["log"]) == 2  # each retry is its own event, not deduplicated away
    resolve = client.post(
        f"/api/v1/exceptions/{world.exception_id}/resolve", json={"note": "x"}, headers=headers
    )
    assert resolve.status_code == 409  # this kind allows retry and dismiss only
    dismissed = client.post(
        f"/api/v1/exceptions/{world.exception_id}/dismiss", json={"note": "customer called"}, headers=headers
    )
    assert dismissed.json()["status"] == "dismissed" and dismissed.json()["resolution"] == "customer called"
    assert client.get("/api/v1/exceptions", headers=headers).json()["items"] == []
    closed = client.get("/api/v1/exceptions?status=dismissed", headers=headers).json()["items"]
    assert closed[0]["closed_by"].startswith("token:")
    again = client.post(f"/api/v1/exceptions/{world.exception_id}/dismiss", json={}, headers=headers)
    assert again.status_code == 409
    assert client.post("/api/v1/exceptions/424242/retry", headers=headers).status_code == 404


def test_sync_status_per_sku_and_listing_pages(world: OpsWorld, client: TestClient) -> None:
    headers = world.bearer("viewer")
    sku = client.get("/api/v1/sync/skus/TEE-M", headers=headers).json()
    shop = next(item for item in sku["listings"] if item["channel"] == "shop")
    assert shop["oversell_risk"] is True and shop["acknowledged_quantity"] == shop["desired_quantity"] + 3
    assert sku["explain"]["sku"] == "TEE-M" and {c["channel"] for c in sku["explain"]["channels"]} == {
        "shop",
        "web",
    }
    seen, cursor = [], None
    while True:
        query = "/api/v1/sync/listings?limit=1" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(query, headers=headers).json()
        seen.extend((item["channel"], item["sku"]) for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 4
    failing = client.get("/api/v1/sync/listings?with_error=true", headers=headers).json()["items"]
    assert [(item["channel"], item["sku"]) for item in failing] == [("web", "CAP-1")]
    dirty = client.get("/api/v1/sync/listings?dirty=true&channel=web", headers=headers).json()["items"]
    assert [item["sku"] for item in dirty] == ["CAP-1"]


def test_overview_counts_what_needs_attention(world: OpsWorld, client: TestClient) -> None:
    overview = client.get("/api/v1/overview", headers=world.bearer("viewer")).json()
    assert overview["dead_letters"] == 3
    assert overview["exceptions_by_reason"] == {"order_mapping_gap": 1}
    assert overview["orders_waiting"]["placed"] == 1
    assert overview["oversell_risk"] == 2  # shop TEE-M shows 3 too many, web CAP-1 one
    assert overview["open_circuits"] == ["shop:graphql"]
    channels = {c["channel"]: c for c in overview["channels"]}
    assert channels["web"]["status"] == "failing" and channels["web"]["with_errors"] == 1


def test_warehouse_hold_recomputes_and_is_recorded(world: OpsWorld, client: TestClient) -> None:
    headers = world.bearer("operator")
    before = client.get("/api/v1/sync/skus/TEE-M", headers=headers).json()["explain"]["available_to_sell"]
    held = client.post("/api/v1/warehouses/east/hold", json={"reason": "stock take"}, headers=headers)
    assert held.json() == {
        "warehouse": "east",
        "online": True,
        "on_hold": True,
        "changed": True,
        "channels": ["shop"],
    }
    after = client.get("/api/v1/sync/skus/TEE-M", headers=headers).json()["explain"]["available_to_sell"]
    assert after["shop"] == before["shop"] - 5 and after["web"] == before["web"]
    listed = client.get("/api/v1/warehouses", headers=headers).json()["items"]
    assert next(w for w in listed if w["warehouse"] == "east")["on_hold"] is True
    assert client.post("/api/v1/warehouses/east/explode", json={}, headers=headers).status_code == 422
    assert client.post("/api/v1/warehouses/nowhere/hold", json={}, headers=headers).status_code == 404


def test_reconciliation_runs_are_recorded_with_diffs(world: OpsWorld, client: TestClient) -> None:
    headers = world.bearer("operator")
    assert client.post("/api/v1/reconciliations", json={}, headers=headers).status_code == 503
    calls: list[tuple[str | None, bool]] = []

    async def runner(channel: str | None, dry_run: bool) -> ReconciliationReport:
        calls.append((channel, dry_run))
        result = ChannelReconciliation("shop", checked=2, matching=1)
        result.diffs.append(QuantityDiff("shop", "TEE-M", 14, 20, 17))
        now = datetime.now(UTC)
        return ReconciliationReport(dry_run, now, now, (result,))

    world.ctx.reconcile = runner
    started = client.post("/api/v1/reconciliations", json={"channel": "shop"}, headers=headers)
    assert started.status_code == 201 and calls == [("shop", True)]
    run_id = started.json()["run_id"]
    assert started.json()["drift"] == 1
    listed = client.get("/api/v1/reconciliations", headers=world.bearer("viewer")).json()["items"]
    assert [run["run_id"] for run in listed] == [run_id]
    detail: dict[str, Any] = client.get(
        f"/api/v1/reconciliations/{run_id}?kind=drift", headers=headers
    ).json()
    assert detail["diffs"] == [
        {
            "channel": "shop",
            "sku": "TEE-M",
            "desired": 14,
            "channel_value": 20,
            "acknowledged": 17,
            "kind": "drift",
        }
    ]
    assert (
        client.post("/api/v1/reconciliations", json={"channel": "mars"}, headers=headers).status_code == 404
    )


def test_endpoints_show_circuit_and_limiter_state(world: OpsWorld, client: TestClient) -> None:
    items = client.get("/api/v1/endpoints", headers=world.bearer("viewer")).json()["items"]
    assert items[0]["endpoint"] == "shop:graphql" and items[0]["circuit_state"] == "open"
    assert items[0]["rate_limiter"]["capacity"] == 40


def test_readiness_and_liveness_are_open(world: OpsWorld, client: TestClient) -> None:
    assert client.get("/api/v1/live").json() == {"status": "ok"}
    assert client.get("/api/v1/ready").json()["checks"]["database"] == "ok"
    world.ctx.readiness = lambda: {"ready": False, "worker": "stopped"}
    not_ready = client.get("/api/v1/ready")
    assert not_ready.status_code == 503 and not_ready.json()["error"]["code"] == "not_ready"


def test_errors_have_one_stable_shape(world: OpsWorld, client: TestClient) -> None:
    for response in (
        client.get("/api/v1/overview"),
        client.get("/api/v1/exceptions/abc", headers=world.bearer("viewer")),
        client.get("/api/v1/dead-letters/zzz", headers=world.bearer("viewer")),
        client.post("/api/v1/tokens", json={"role": "pope"}, headers=world.bearer("admin")),
    ):
        error = response.json()["error"]
        assert set(error) >= {"code", "message"} and response.status_code >= 400


class RacingPublisher:
    """Stands in for the publisher: its first snapshot races an append on another thread."""

    def __init__(self) -> None:
        self.calls = 0

    def snapshot(self) -> dict[str, dict[str, Any]]:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("deque mutated during iteration")
        return {"shop": {"propagation_p50_ms": 120.0, "propagation_p99_ms": 900.0, "backing_off_s": 0.0}}


def test_overview_shows_publisher_latency_even_when_a_snapshot_races(
    world: OpsWorld, client: TestClient
) -> None:
    world.ctx.publisher = RacingPublisher()  # type: ignore[assignment]
    overview = client.get("/api/v1/overview", headers=world.bearer("viewer")).json()
    assert overview["propagation_p99_ms"] == 900.0
    shop = next(c for c in overview["channels"] if c["channel"] == "shop")
    assert shop["propagation_p50_ms"] == 120.0
    scraped = client.get("/metrics", headers=world.bearer("viewer")).text
    assert 'channelhub_propagation_p99_seconds{channel="shop"} 0.9' in scraped
