"""The pricing dashboard pages: review with preview, approve with the session's CSRF token,
the proposer kept from deciding, rollback, history per SKU, and the audit view with its verdict."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from fastapi.testclient import TestClient

from channelhub.store.pricing_tables import audit_log
from tests.integration.pricing_api.pricing_api_world import PricingApiWorld, login


def test_an_approver_reviews_approves_and_rolls_back_in_the_dashboard(
    world: PricingApiWorld, client: TestClient
) -> None:
    cut = world.propose({"A-1": "50.00"})
    csrf = login(client, "alice")
    listing = client.get("/dashboard/prices")
    assert f'data-change-set="{cut.id}"' in listing.text and "Waiting for approval" in listing.text
    assert 'href="/dashboard/static/app.css"' in listing.text  # the dashboard's own look
    page = client.get(f"/dashboard/prices/{cut.id}")
    assert page.status_code == 200
    assert "-50.00 %" in page.text and 'data-action="approve"' in page.text
    assert "Revenue Δ (7 d)" in page.text and "-1,750.00" in page.text  # the blast radius

    refused = client.post(f"/dashboard/prices/{cut.id}/approve", data={"comment": "no token"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    approved = client.post(
        f"/dashboard/prices/{cut.id}/approve",
        data={"csrf_token": csrf, "comment": "spring"},
        follow_redirects=False,
    )
    assert approved.status_code == 303 and approved.headers["location"].endswith("?done=approved")
    assert world.service.governance.get(cut.id).status.value == "scheduled" and world.wakes == [1]
    scheduled = client.get("/dashboard/prices")
    assert "Scheduled releases" in scheduled.text and f'data-change-set="{cut.id}"' in scheduled.text

    world.release_due()
    world.clock.advance(60)
    rolled = client.post(
        f"/dashboard/prices/{cut.id}/rollback",
        data={"csrf_token": csrf, "reason": "wrong week"},
        follow_redirects=False,
    )
    assert rolled.status_code == 303
    assert world.shop.prices["A-1"] == Decimal("100.00")
    detail = client.get(rolled.headers["location"])
    assert 'data-status="rolled_back"' in detail.text and "wrong week" in detail.text

    history = client.get("/dashboard/prices/history?sku=A-1", follow_redirects=True)
    assert history.status_code == 200 and 'data-channel="shop"' in history.text and "rollback" in history.text


def test_the_proposer_sees_no_buttons_and_cannot_post_a_decision(
    world: PricingApiWorld, client: TestClient
) -> None:
    cut = world.propose({"A-1": "50.00"})
    csrf = login(client, "carol")
    page = client.get(f"/dashboard/prices/{cut.id}")
    assert "You proposed this change set" in page.text and 'data-action="approve"' not in page.text
    forced = client.post(f"/dashboard/prices/{cut.id}/approve", data={"csrf_token": csrf})
    assert forced.status_code == 403 and "carol proposed this change set" in forced.text
    assert world.service.governance.get(cut.id).status.value == "pending_approval"


def test_a_viewer_sees_change_sets_but_no_decisions(world: PricingApiWorld, client: TestClient) -> None:
    cut = world.propose({"A-1": "50.00"})
    headers = world.bearer("vera")
    page = client.get(f"/dashboard/prices/{cut.id}", headers=headers)
    assert page.status_code == 200 and "Approving needs the price approver role" in page.text
    assert client.post(f"/dashboard/prices/{cut.id}/approve", headers=headers).status_code == 403
    assert client.get("/dashboard/prices", follow_redirects=False).status_code == 303  # anonymous: log in


def test_the_audit_view_shows_whether_the_chain_holds(world: PricingApiWorld, client: TestClient) -> None:
    world.propose({"A-1": "50.00"})
    headers = world.bearer("vera")
    intact = client.get("/dashboard/prices/audit", headers=headers)
    assert 'data-verify="ok"' in intact.text and "price-change:1" in intact.text
    with world.engine.begin() as connection:
        connection.execute(sa.delete(audit_log).where(audit_log.c.seq == 1))  # the first row goes
    broken = client.get("/dashboard/prices/audit", headers=headers)
    assert 'data-verify="broken"' in broken.text and "Row 2" in broken.text
