"""Every dashboard page renders for a logged-in person, masks personal data below operator,
and offers actions only to those who may take them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.integration.ops.ops_world import CUSTOMER_EMAIL, ORDER_KEY, PASSWORD, OpsWorld
from tests.integration.ops.test_ops_auth import login


def test_pages_render_for_an_operator(world: OpsWorld, client: TestClient) -> None:
    login(client, "olivia")
    event_id = world.dead_event_ids[0]
    for path, expected in (
        ("/dashboard", "Channels"),
        ("/dashboard/fragments/overview", "Recent orders"),
        ("/dashboard/skus/TEE-M", "SKU TEE-M on shop"),
        ("/dashboard/orders", ORDER_KEY),
        (f"/dashboard/orders/{ORDER_KEY}", "order_mapping_gap"),
        ("/dashboard/dead-letters", "ops.flaky.v1"),
        (f"/dashboard/dead-letters/{event_id}", CUSTOMER_EMAIL),
        (f"/dashboard/fragments/event/{event_id}", 'data-event-state="dead"'),
        ("/dashboard/exceptions", "line l1 has no SKU"),
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert expected in response.text, path
        assert "default-src 'self'" in response.headers["content-security-policy"]
    page = client.get(f"/dashboard/dead-letters/{event_id}").text
    assert 'data-action="replay"' in page
    assert "/dashboard/exceptions/" in client.get("/dashboard/exceptions").text  # decision forms


def test_a_viewer_sees_masked_data_and_no_action_buttons(world: OpsWorld, client: TestClient) -> None:
    csrf = login(client, "vic")
    event_id = world.dead_event_ids[0]
    page = client.get(f"/dashboard/dead-letters/{event_id}").text
    assert CUSTOMER_EMAIL not in page and "Jane Doe" not in page
    assert 'data-action="replay"' not in page and "needs the operator role" in page
    assert "/retry" not in client.get("/dashboard/exceptions").text
    refused = client.post(f"/dashboard/dead-letters/{event_id}/replay", data={"csrf_token": csrf})
    assert refused.status_code == 403


def test_unknown_things_get_a_friendly_page(world: OpsWorld, client: TestClient) -> None:
    login(client, "olivia")
    assert client.get("/dashboard/orders/shop:404").status_code == 404
    assert "no trace of order" in client.get("/dashboard/orders/shop:404").text
    assert client.get("/dashboard/skus/%20").status_code in (400, 404)
    gone = client.post("/dashboard/dead-letters/nope/replay", data={"csrf_token": _csrf(client)})
    assert gone.status_code == 404 and "Nothing to replay" in gone.text
    assert (
        client.get("/dashboard/skus?sku=TEE-M", follow_redirects=False).headers["location"]
        == "/dashboard/skus/TEE-M"
    )


def test_exception_decisions_from_the_dashboard(world: OpsWorld, client: TestClient) -> None:
    login(client, "olivia")
    csrf = _csrf(client)
    done = client.post(
        f"/dashboard/exceptions/{world.exception_id}/dismiss",
        data={"csrf_token": csrf, "note": "customer cancelled by phone"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "No open exceptions" in client.get("/dashboard/exceptions").text
    again = client.post(f"/dashboard/exceptions/{world.exception_id}/dismiss", data={"csrf_token": csrf})
    assert again.status_code == 409


def test_login_redirects_back_but_never_off_site(world: OpsWorld, client: TestClient) -> None:
    assert (
        client.get("/dashboard/orders", follow_redirects=False)
        .headers["location"]
        .endswith("next=/dashboard/orders")
    )
    form = client.get("/dashboard/login?next=https://evil.example/").text
    assert 'name="next" value="/dashboard"' in form


def _csrf(client: TestClient) -> str:
    return client.get("/dashboard").text.split('name="csrf_token" value="')[1].split('"')[0]


def test_warehouse_controls_hold_and_release(world: OpsWorld, client: TestClient) -> None:
    login(client, "olivia")
    csrf = _csrf(client)
    page = client.get("/dashboard/warehouses").text
    assert 'data-warehouse="east"' in page and 'data-action="hold"' in page
    held = client.post(
        "/dashboard/warehouses/east/hold",
        data={"csrf_token": csrf, "reason": "stock take"},
        follow_redirects=False,
    )
    assert held.status_code == 303
    page = client.get("/dashboard/warehouses").text
    assert "on hold" in page and 'data-action="release"' in page
    assert world.store.actions("warehouse:east")[0]["details"] == {"reason": "stock take", "changed": True}
    assert client.post("/dashboard/warehouses/nowhere/hold", data={"csrf_token": csrf}).status_code == 404


def test_reconciliation_page_runs_a_dry_run(world: OpsWorld, client: TestClient) -> None:
    from datetime import UTC, datetime

    from channelhub.engine.reconcile import ChannelReconciliation, QuantityDiff, ReconciliationReport

    login(client, "olivia")
    assert "No reconciliation has run" in client.get("/dashboard/reconciliations").text
    dry_runs: list[bool] = []

    async def runner(channel: str | None, dry_run: bool) -> ReconciliationReport:
        dry_runs.append(dry_run)
        result = ChannelReconciliation("shop", checked=1)
        result.diffs.append(QuantityDiff("shop", "TEE-M", 14, 20, 17))
        now = datetime.now(UTC)
        return ReconciliationReport(dry_run, now, now, (result,))

    world.ctx.reconcile = runner
    started = client.post(
        "/dashboard/reconciliations", data={"csrf_token": _csrf(client)}, follow_redirects=False
    )
    assert started.status_code == 303 and dry_runs == [True]
    page = client.get("/dashboard/reconciliations").text
    assert "Differences in the latest run" in page and "drift" in page


def test_active_alerts_show_on_the_overview(world: OpsWorld, client: TestClient) -> None:
    from channelhub.alerts import AlertDispatcher, AlertRules, Observation

    world.ctx.alerts = AlertDispatcher(AlertRules(webhook_url=None, propagation_p99_above_s=1.0))
    world.ctx.alerts.process(Observation(propagation_p99_s={"shop": 4.0}))
    login(client, "olivia")
    assert "shop: p99 propagation 4.0s" in client.get("/dashboard/fragments/overview").text


def test_replay_every_dead_letter_of_a_topic(world: OpsWorld, client: TestClient) -> None:
    login(client, "olivia")
    done = client.post(
        "/dashboard/dead-letters/replay", data={"csrf_token": _csrf(client), "topic": "ops.flaky.v1"}
    )
    assert done.status_code == 200 and "Replayed 3 dead letters" in done.text
    assert world.store.actions("dead-letters")[0]["details"]["replayed"] == 3


def test_password_guessing_is_throttled(world: OpsWorld, client: TestClient) -> None:
    form = client.get("/dashboard/login").text
    login_csrf = form.split('name="login_csrf" value="')[1].split('"')[0]
    for _ in range(5):
        wrong = {"username": "olivia", "password": "guess-guess-guess", "login_csrf": login_csrf}
        assert client.post("/dashboard/login", data=wrong).status_code == 401
    right = {"username": "olivia", "password": PASSWORD, "login_csrf": login_csrf}
    blocked = client.post("/dashboard/login", data=right)
    assert blocked.status_code == 429 and "Too many failed attempts" in blocked.text
    other = {"username": "vic", "password": PASSWORD, "login_csrf": login_csrf}
    assert client.post("/dashboard/login", data=other, follow_redirects=False).status_code == 303


def test_absurd_ids_are_refused_not_crashing(world: OpsWorld, client: TestClient) -> None:
    login(client, "olivia")
    huge = client.post(f"/dashboard/exceptions/{2**70}/dismiss", data={"csrf_token": _csrf(client)})
    assert huge.status_code == 422


def test_odd_path_values_never_break_a_page(world: OpsWorld, client: TestClient) -> None:
    from urllib.parse import quote

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    login(client, "vic")

    @given(st.text(min_size=1, max_size=80))
    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def visit(value: str) -> None:
        segment = quote(value, safe="")
        for path in (
            f"/dashboard/skus/{segment}",
            f"/dashboard/orders/{segment}",
            f"/dashboard/dead-letters/{segment}",
        ):
            assert client.get(path).status_code < 500, path

    visit()
