"""The pricing admin API over HTTP: JSON shapes, maker-checker with the authenticated caller,
reject, rollback, preview, history, audit verify and export, and the stable error bodies."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from channelhub.store.pricing_tables import audit_log
from tests.integration.pricing_api.pricing_api_world import PricingApiWorld, build_world


def test_list_filter_and_get_have_the_documented_shape(world: PricingApiWorld, client: TestClient) -> None:
    cut = world.propose({"A-1": "50.00"})
    listed = client.get("/api/v1/price-changes?status=pending_approval", headers=world.bearer("vera"))
    assert listed.status_code == 200
    [found] = listed.json()["items"]
    assert found["id"] == cut.id and found["status"] == "pending_approval"
    assert (
        client.get("/api/v1/price-changes?status=scheduled", headers=world.bearer("vera")).json()["items"]
        == []
    )
    one = client.get(f"/api/v1/price-changes/{cut.id}", headers=world.bearer("vera")).json()
    assert {(i["sku"], i["channel"], i["old_price"], i["new_price"]) for i in one["items"]} == {
        ("A-1", "shop", "100.00", "50.00"),
        ("A-1", "web", "100.00", "50.00"),
    }
    assert one["decision"]["rule"] == "drop_above_threshold" and one["proposed_by"] == "carol"

    bad = client.get("/api/v1/price-changes?status=approved-ish", headers=world.bearer("vera"))
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_request"
    assert "pending_approval" in bad.json()["error"]["message"]
    missing = client.get("/api/v1/price-changes/999", headers=world.bearer("vera"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_maker_checker_holds_over_http(world: PricingApiWorld, client: TestClient) -> None:
    cut = world.propose({"A-1": "50.00"})
    url = f"/api/v1/price-changes/{cut.id}/approve"
    assert client.post(url, json={"comment": "fine"}).status_code == 401
    own = client.post(url, json={"comment": "trust me"}, headers=world.bearer("carol"))
    assert own.status_code == 403 and own.json()["error"]["code"] == "approval_refused"
    assert "carol" in own.json()["error"]["message"]
    # A body cannot say who approves: the caller is the token's user.
    spoofed = client.post(url, json={"comment": "ok", "user": "alice"}, headers=world.bearer("carol"))
    assert spoofed.status_code == 403
    for role_user in ("vera", "oscar"):
        refused = client.post(url, json={}, headers=world.bearer(role_user))
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert world.service.governance.get(cut.id).status.value == "pending_approval"

    approved = client.post(url, json={"comment": "spring sale"}, headers=world.bearer("alice"))
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "scheduled"
    assert [(a["user"], a["decision"], a["comment"]) for a in body["approvals"]] == [
        ("alice", "approve", "spring sale")
    ]
    assert world.wakes == [1]  # the release tick was woken
    again = client.post(url, json={}, headers=world.bearer("bob"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"

    assert world.release_due() == [cut.id]
    assert world.shop.prices["A-1"] == world.web.prices["A-1"] == Decimal("50.00")


def test_reject_needs_a_comment_and_records_it(world: PricingApiWorld, client: TestClient) -> None:
    cut = world.propose({"A-1": "50.00"})
    url = f"/api/v1/price-changes/{cut.id}/reject"
    assert client.post(url, json={}, headers=world.bearer("alice")).status_code == 422
    assert client.post(url, json={"comment": "no"}, headers=world.bearer("carol")).status_code == 403
    rejected = client.post(url, json={"comment": "margin too thin for spring"}, headers=world.bearer("alice"))
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["approvals"][0]["comment"] == "margin too thin for spring"
    trail = client.get(f"/api/v1/price-changes/{cut.id}/audit", headers=world.bearer("vera")).json()["items"]
    assert [row["action"] for row in trail] == ["proposed", "decided", "rejected"]
    assert trail[-1]["actor"] == "alice"
    assert world.release_due() == [] and world.shop.prices["A-1"] == Decimal("100.00")


def test_rollback_restores_prior_prices_and_needs_a_price_approver(
    world: PricingApiWorld, client: TestClient
) -> None:
    cut = world.propose({"A-1": "50.00"})
    url = f"/api/v1/price-changes/{cut.id}/rollback"
    pending = client.post(url, json={"reason": "too early"}, headers=world.bearer("alice"))
    assert pending.status_code == 409  # nothing was approved: there is nothing to roll back
    client.post(f"/api/v1/price-changes/{cut.id}/approve", json={}, headers=world.bearer("alice"))
    world.release_due()
    assert world.web.prices["A-1"] == Decimal("50.00")

    assert client.post(url, json={"reason": "x"}, headers=world.bearer("oscar")).status_code == 403
    assert client.post(url, json={}, headers=world.bearer("bob")).status_code == 422
    world.clock.advance(60)
    rolled = client.post(url, json={"reason": "wrong promotion"}, headers=world.bearer("bob"))
    assert rolled.status_code == 200, rolled.text
    assert rolled.json()["status"] == "rolled_back"
    assert rolled.json()["report"]["rolled_back"] == {str(cut.id): "wrong promotion"}
    assert world.shop.prices["A-1"] == world.web.prices["A-1"] == Decimal("100.00")

    history = client.get("/api/v1/prices/A-1/history?channel=web", headers=world.bearer("vera")).json()
    assert [(v["cause"], v["price"]) for v in history["versions"]] == [
        ("baseline", "100.00"), ("release", "50.00"), ("rollback", "100.00"),
    ]  # fmt: skip
    assert all(v["verified"] for v in history["versions"])


def test_a_rollback_a_channel_refuses_is_reported_not_hidden(
    world: PricingApiWorld, client: TestClient
) -> None:
    cut = world.propose({"A-1": "50.00"})
    client.post(f"/api/v1/price-changes/{cut.id}/approve", json={}, headers=world.bearer("alice"))
    world.release_due()
    world.web.refuse.add("A-1")
    rolled = client.post(
        f"/api/v1/price-changes/{cut.id}/rollback", json={"reason": "oops"}, headers=world.bearer("alice")
    )
    assert rolled.status_code == 502 and rolled.json()["error"]["code"] == "rollback_incomplete"
    assert "web" in rolled.json()["error"]["message"]
    assert (
        client.get(f"/api/v1/price-changes/{cut.id}", headers=world.bearer("vera")).json()["status"]
        != "rolled_back"
    )


def test_preview_shows_the_blast_radius(world: PricingApiWorld, client: TestClient) -> None:
    cut = world.propose({"A-1": "50.00", "A-2": "76.00"})
    preview = client.get(f"/api/v1/price-changes/{cut.id}/preview?days=7", headers=world.bearer("vera"))
    assert preview.status_code == 200
    body = preview.json()
    # 5 units a day of A-1 (3 shop + 2 web) over 7 days, 50.00 less each; A-2 sells nothing.
    assert body["revenue_delta"] == "-1750.00" and body["skus"] == 2 and body["channels"] == ["shop", "web"]
    assert (
        client.get(f"/api/v1/price-changes/{cut.id}/preview?days=0", headers=world.bearer("vera")).status_code
        == 422
    )


def test_audit_verify_names_a_tampered_row_and_exports_for_finance(
    world: PricingApiWorld, client: TestClient
) -> None:
    cut = world.propose({"A-1": "50.00"})
    client.post(
        f"/api/v1/price-changes/{cut.id}/approve", json={"comment": "ok"}, headers=world.bearer("alice")
    )
    intact = client.get("/api/v1/audit/verify", headers=world.bearer("vera")).json()
    assert intact["ok"] is True and intact["count"] >= 4

    exported = client.get("/api/v1/audit/export?format=csv", headers=world.bearer("vera"))
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == intact["count"] and rows[-1]["row_hash"] == intact["head"]
    as_json = json.loads(client.get("/api/v1/audit/export?format=json", headers=world.bearer("vera")).text)
    assert [row["seq"] for row in as_json] == list(range(1, intact["count"] + 1))
    assert client.get("/api/v1/audit/export?format=xml", headers=world.bearer("vera")).status_code == 422

    with world.engine.begin() as connection:
        connection.execute(sa.update(audit_log).where(audit_log.c.seq == 3).values(actor="mallory"))
    broken = client.get("/api/v1/audit/verify", headers=world.bearer("vera")).json()
    assert broken["ok"] is False and broken["first_bad_seq"] == 3 and "row 3" in broken["problem"]


def test_the_admin_token_acts_as_the_configured_user(tmp_path: Path) -> None:
    """The sandbox's admin token belongs to the person who edits Odoo's pricelists."""
    world = build_world(tmp_path, bootstrap_user="carol")
    try:
        own = world.propose({"A-1": "50.00"}, proposed_by="carol")
        other = world.propose({"A-2": "60.00"}, proposed_by="dave")
        with TestClient(world.app) as client:
            refused = client.post(
                f"/api/v1/price-changes/{own.id}/approve", json={}, headers=world.bearer("bootstrap")
            )
            assert refused.status_code == 403
            accepted = client.post(
                f"/api/v1/price-changes/{other.id}/approve", json={}, headers=world.bearer("bootstrap")
            )
            assert accepted.status_code == 200 and accepted.json()["approvals"][0]["user"] == "carol"
    finally:
        world.engine.dispose()


def test_without_a_pricing_service_the_routes_say_so(tmp_path: Path) -> None:
    world = build_world(tmp_path, with_service=False)
    try:
        with TestClient(world.app) as client:
            reply = client.get("/api/v1/price-changes", headers=world.bearer("vera"))
            assert reply.status_code == 503 and reply.json()["error"]["code"] == "not_configured"
            world.handle.service = world.service  # built later by the composition root
            assert client.get("/api/v1/price-changes", headers=world.bearer("vera")).status_code == 200
    finally:
        world.engine.dispose()


def test_a_held_release_is_retried_by_an_operator(world: PricingApiWorld, client: TestClient) -> None:
    cut = world.propose({"A-1": "50.00"})
    client.post(f"/api/v1/price-changes/{cut.id}/approve", json={}, headers=world.bearer("alice"))
    world.web.refuse.add("A-1")
    assert world.release_due() == []
    held = client.get(f"/api/v1/price-changes/{cut.id}", headers=world.bearer("vera")).json()
    assert held["status"] == "held" and "web" in held["hold_reason"]
    assert world.web.prices["A-1"] == Decimal("100.00")  # nothing half-published on web

    page = client.get(f"/dashboard/prices/{cut.id}", headers=world.bearer("oscar")).text
    assert 'data-status="held"' in page and 'data-action="retry"' in page
    url = f"/api/v1/price-changes/{cut.id}/retry"
    assert (
        client.post(url, headers=world.bearer("alice")).status_code == 403
    )  # deciding prices is not operating
    world.web.refuse.clear()
    retried = client.post(url, headers=world.bearer("oscar"))
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "published" and retried.json()["report"]["published"] == [cut.id]
    assert world.shop.prices["A-1"] == world.web.prices["A-1"] == Decimal("50.00")
    trail = client.get(f"/api/v1/audit?subject=price-change:{cut.id}", headers=world.bearer("vera")).json()
    assert any(row["action"] == "retried" and row["actor"] == "oscar" for row in trail["items"])
