"""API tokens (hashed, shown once, revocable, expiring), dashboard sessions, CSRF, and no token in logs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from channelhub.api.security import SESSION_COOKIE, Role, SecurityStore
from channelhub.clock import ManualClock
from channelhub.observability import configure_logging
from channelhub.store.security_tables import security_api_token, security_session
from tests.integration.ops.ops_world import PASSWORD, OpsWorld


def _secret_part(value: str) -> str:
    """The secret of an API token (after `chub_<id>_`); any other secret whole."""
    if value.startswith("chub_") and value.count("_") >= 2:
        return value.split("_", 2)[2]
    return value


def login(client: TestClient, username: str = "olivia", password: str = PASSWORD) -> str:
    """Log in through the form like a browser; returns the session's CSRF token."""
    form = client.get("/dashboard/login")
    assert form.status_code == 200
    login_csrf = form.text.split('name="login_csrf" value="')[1].split('"')[0]
    response = client.post(
        "/dashboard/login",
        data={"username": username, "password": password, "login_csrf": login_csrf, "next": "/dashboard"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = client.get("/dashboard")
    assert page.status_code == 200
    return page.text.split('name="csrf_token" value="')[1].split('"')[0]


def test_a_token_is_shown_once_and_stored_only_as_a_digest(world: OpsWorld, client: TestClient) -> None:
    created = client.post(
        "/api/v1/tokens", json={"name": "erp bot", "role": "operator"}, headers=world.bearer("admin")
    )
    assert created.status_code == 201
    token = created.json()["token"]
    token_id = created.json()["token_id"]
    assert token.startswith(f"chub_{token_id}_")
    listed = client.get("/api/v1/tokens", headers=world.bearer("admin")).json()["items"]
    assert token_id in {item["token_id"] for item in listed}
    assert token not in str(listed) and _secret_part(token) not in str(listed)
    with world.engine.connect() as connection:
        stored = connection.execute(sa.select(security_api_token)).all()
    assert all(_secret_part(token) not in str(tuple(row)) for row in stored)
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["role"] == "operator" and me["sees_personal_data"] is True


def test_a_revoked_token_is_refused_at_once(world: OpsWorld, client: TestClient) -> None:
    created = world.store.create_token("temp", Role.VIEWER, "test")
    headers = {"Authorization": f"Bearer {created.token}"}
    assert client.get("/api/v1/overview", headers=headers).status_code == 200
    revoked = client.delete(f"/api/v1/tokens/{created.info.token_id}", headers=world.bearer("admin"))
    assert revoked.status_code == 200
    assert client.get("/api/v1/overview", headers=headers).status_code == 401
    again = client.delete(f"/api/v1/tokens/{created.info.token_id}", headers=world.bearer("admin"))
    assert again.status_code == 404


def test_a_token_with_a_right_id_but_wrong_secret_is_refused(world: OpsWorld, client: TestClient) -> None:
    token = world.tokens["admin"]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_tokens_expire(world: OpsWorld) -> None:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    store = SecurityStore(world.engine, clock)
    created = store.create_token("short lived", Role.VIEWER, "test", expires_in=timedelta(days=1))
    assert store.authenticate_token(created.token) is not None
    clock.advance(86_401)
    assert store.authenticate_token(created.token) is None
    info = next(t for t in store.tokens() if t.token_id == created.info.token_id)
    assert info.status(clock.now()) == "expired"


def test_bootstrap_token_acts_as_admin(world: OpsWorld, client: TestClient) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer sandbox-admin-token-0123456789"})
    assert response.json()["role"] == "admin"


def test_login_sets_a_hardened_session_cookie(world: OpsWorld, client: TestClient) -> None:
    form = client.get("/dashboard/login")
    login_csrf = form.text.split('name="login_csrf" value="')[1].split('"')[0]
    response = client.post(
        "/dashboard/login",
        data={"username": "olivia", "password": PASSWORD, "login_csrf": login_csrf},
        follow_redirects=False,
    )
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and SESSION_COOKIE in v)
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    session_id = cookie.split("=", 1)[1].split(";")[0]
    with world.engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(sa.select(security_session))]
    assert rows and all(session_id not in str(row) for row in rows)


def test_secure_flag_is_set_over_https(world: OpsWorld) -> None:
    with TestClient(world.app, base_url="https://127.0.0.1") as client:
        form = client.get("/dashboard/login")
        assert "secure" in form.headers["set-cookie"].lower()


def test_wrong_password_and_missing_login_csrf_are_refused(world: OpsWorld, client: TestClient) -> None:
    form = client.get("/dashboard/login")
    login_csrf = form.text.split('name="login_csrf" value="')[1].split('"')[0]
    wrong = client.post(
        "/dashboard/login",
        data={"username": "olivia", "password": "nope-nope-nope", "login_csrf": login_csrf},
    )
    assert wrong.status_code == 401 and "Wrong username or password" in wrong.text
    forged = client.post(
        "/dashboard/login", data={"username": "olivia", "password": PASSWORD, "login_csrf": "x"}
    )
    assert forged.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_cookie_requests_that_change_something_need_the_csrf_token(
    world: OpsWorld, client: TestClient
) -> None:
    csrf = login(client)
    event_id = world.dead_event_ids[0]
    refused = client.post(f"/api/v1/dead-letters/{event_id}/replay")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    accepted = client.post(f"/api/v1/dead-letters/{event_id}/replay", headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 200
    form = client.post(
        f"/dashboard/dead-letters/{world.dead_event_ids[1]}/replay",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert form.status_code == 303


def test_logout_ends_the_session(world: OpsWorld, client: TestClient) -> None:
    csrf = login(client)
    response = client.post("/dashboard/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    client.cookies.clear()
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_a_disabled_user_loses_their_session(world: OpsWorld, client: TestClient) -> None:
    login(client, "vic")
    assert client.get("/dashboard").status_code == 200
    assert client.post("/api/v1/users/vic/disable", headers=world.bearer("admin")).status_code == 200
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_a_viewer_session_cannot_replay(world: OpsWorld, client: TestClient) -> None:
    csrf = login(client, "vic")
    response = client.post(
        f"/api/v1/dead-letters/{world.dead_event_ids[0]}/replay", headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"


def test_users_are_created_by_admins_with_good_passwords(world: OpsWorld, client: TestClient) -> None:
    admin = world.bearer("admin")
    short = client.post(
        "/api/v1/users", json={"username": "sam", "password": "short", "role": "viewer"}, headers=admin
    )
    assert short.status_code == 422
    ok = client.post(
        "/api/v1/users",
        json={"username": "Sam", "password": "long-enough-pw", "role": "viewer"},
        headers=admin,
    )
    assert ok.status_code == 201 and ok.json()["username"] == "sam"
    again = client.post(
        "/api/v1/users",
        json={"username": "sam", "password": "long-enough-pw", "role": "viewer"},
        headers=admin,
    )
    assert again.status_code == 409


def test_tokens_never_appear_in_logs(
    world: OpsWorld, client: TestClient, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    configure_logging("DEBUG")
    caplog.set_level(logging.DEBUG)
    created = client.post(
        "/api/v1/tokens", json={"name": "ci", "role": "viewer"}, headers=world.bearer("admin")
    )
    secret_token = created.json()["token"]
    revoked = world.store.create_token("gone", Role.VIEWER, "test")
    world.store.revoke_token(revoked.info.token_id, "test")
    for token in (secret_token, revoked.token, world.tokens["admin"], "chub_deadbeef_not-a-real-secret"):
        client.get("/api/v1/overview", headers={"Authorization": f"Bearer {token}"})
        client.get("/no-such-path", headers={"Authorization": f"Bearer {token}"})
    csrf = login(client)
    client.post(f"/api/v1/dead-letters/{world.dead_event_ids[0]}/replay", headers={"X-CSRF-Token": "wrong"})
    captured = capfd.readouterr()
    logged = caplog.text + captured.out + captured.err
    assert "csrf_refused" in logged  # the logs were captured at all
    for secret in (secret_token, revoked.token, world.tokens["admin"], csrf, PASSWORD):
        assert secret not in logged
        assert _secret_part(secret) not in logged
    logging.getLogger().handlers = [
        h for h in logging.getLogger().handlers if not getattr(h, "_channelhub", False)
    ]


def test_sessions_expire_and_are_cleaned_up(world: OpsWorld) -> None:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    store = SecurityStore(world.engine, clock)
    first = store.login("olivia", PASSWORD)
    assert first is not None and store.session(first.session_id) is not None
    clock.advance(13 * 3600)
    assert store.session(first.session_id) is None
    assert store.login("olivia", PASSWORD) is not None
    with world.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(security_session)).scalar_one() == 1


def test_ensure_user_creates_or_resets(world: OpsWorld) -> None:
    world.store.ensure_user("demo", "first-password-1", Role.OPERATOR)
    assert world.store.login("demo", "first-password-1") is not None
    world.store.set_user_disabled("demo", True, "test")
    world.store.ensure_user("demo", "second-password-2", Role.VIEWER)
    assert world.store.login("demo", "first-password-1") is None
    session = world.store.login("demo", "second-password-2")
    assert session is not None and session.session.role is Role.VIEWER
