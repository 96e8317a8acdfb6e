"""JSON-RPC envelopes, the session-based web routes and the 19.0 JSON-2 API, byte for byte."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.odoo_emulator.conftest import API_KEY, LiveOdoo, start


def rpc(
    odoo: LiveOdoo, path: str, params: dict[str, Any], client: httpx.Client | None = None
) -> dict[str, Any]:
    sender = client or httpx.Client()
    response = sender.post(
        f"{odoo.url}{path}", json={"jsonrpc": "2.0", "method": "call", "params": params, "id": 42}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["jsonrpc"] == "2.0" and body["id"] == 42
    return body


def execute_kw(
    odoo: LiveOdoo, model: str, method: str, args: list[Any], kwargs: dict[str, Any] | None = None
) -> dict[str, Any]:
    return rpc(
        odoo,
        "/jsonrpc",
        {
            "service": "object",
            "method": "execute_kw",
            "args": [odoo.db, 2, "admin", model, method, args, kwargs or {}],
        },
    )


def test_jsonrpc_result_and_error_envelopes(odoo: LiveOdoo) -> None:
    assert (
        rpc(odoo, "/jsonrpc", {"service": "common", "method": "login", "args": [odoo.db, "admin", "admin"]})[
            "result"
        ]
        == 2
    )
    assert rpc(odoo, "/jsonrpc", {"service": "db", "method": "list", "args": []})["result"] == [odoo.db]
    assert (
        rpc(odoo, "/jsonrpc", {"service": "db", "method": "server_version", "args": []})["result"]
        == odoo.version
    )
    found = execute_kw(
        odoo, "res.partner", "search_read", [[["id", "=", 3]]], {"fields": ["name", "company_id"]}
    )
    assert found["result"] == [{"id": 3, "name": "Mitchell Admin", "company_id": False}]
    error = execute_kw(odoo, "res.partner", "read", [[999999]])["error"]
    assert error["code"] == (200 if odoo.version <= "18.0" else 0)
    assert error["message"] == "Odoo Server Error"
    data = error["data"]
    assert list(data) == ["name", "debug", "message", "arguments", "context"]
    assert data["name"] == "odoo.exceptions.MissingError"
    assert data["message"] == data["arguments"][0]
    assert data["message"].startswith("Record does not exist or has been deleted.")
    denied = rpc(
        odoo,
        "/jsonrpc",
        {
            "service": "object",
            "method": "execute_kw",
            "args": [odoo.db, 2, "x", "res.partner", "read", [[1]]],
        },
    )
    assert denied["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"
    assert denied["error"]["data"]["message"] == "Access Denied"
    assert "Traceback" not in denied["error"]["data"]["debug"]
    validation = execute_kw(
        odoo, "sale.order", "create", [{"partner_id": 3, "order_line": [[0, 0, {"product_id": 999999}]]}]
    )
    assert validation["error"]["data"]["name"] == "odoo.exceptions.ValidationError"


def test_invalid_json_is_a_plain_400(odoo: LiveOdoo) -> None:
    response = httpx.post(
        f"{odoo.url}/jsonrpc", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "Invalid JSON data" in response.text


def test_web_session_routes_as_odoorpc_uses_them(odoo: LiveOdoo) -> None:
    with httpx.Client() as client:
        info = rpc(odoo, "/web/webclient/version_info", {}, client)["result"]
        assert info["server_version"] == odoo.version
        assert rpc(odoo, "/web/database/list", {}, client)["result"] == [odoo.db]
        expired = rpc(
            odoo,
            "/web/dataset/call_kw",
            {"model": "res.partner", "method": "search_count", "args": [[]], "kwargs": {}},
            client,
        )
        assert expired["error"]["code"] == 100 and expired["error"]["message"] == "Odoo Session Expired"
        assert expired["error"]["data"]["name"] == "odoo.http.SessionExpiredException"
        refused = rpc(
            odoo, "/web/session/authenticate", {"db": odoo.db, "login": "admin", "password": "nope"}, client
        )
        assert refused["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"
        session = rpc(
            odoo, "/web/session/authenticate", {"db": odoo.db, "login": "admin", "password": "admin"}, client
        )["result"]
        assert (session["uid"], session["db"], session["username"]) == (2, odoo.db, "admin")
        assert client.cookies.get("session_id")
        counted = rpc(
            odoo,
            "/web/dataset/call_kw/res.partner/search_count",
            {"model": "res.partner", "method": "search_count", "args": [[]], "kwargs": {}},
            client,
        )
        assert counted["result"] > 0
        assert rpc(odoo, "/web/session/get_session_info", {}, client)["result"]["uid"] == 2
        assert rpc(odoo, "/web/session/destroy", {}, client)["result"] is None
        assert "error" in rpc(odoo, "/web/session/get_session_info", {}, client)


@pytest.fixture(scope="module")
def odoo19() -> Iterator[LiveOdoo]:
    yield from start("19.0", skus=10)


def json2(odoo: LiveOdoo, model: str, method: str, body: Any, key: str = API_KEY) -> httpx.Response:
    headers = {"Authorization": f"bearer {key}", "X-Odoo-Database": odoo.db}
    return httpx.post(f"{odoo.url}/json/2/{model}/{method}", json=body, headers=headers)


def test_json2_success_shapes(odoo19: LiveOdoo) -> None:
    found = json2(
        odoo19,
        "res.partner",
        "search_read",
        {"context": {"lang": "en_US"}, "domain": [["is_company", "=", True]], "fields": ["name"], "limit": 2},
    )
    assert found.status_code == 200
    assert [set(row) for row in found.json()] == [{"id", "name"}] * 2
    ids = json2(odoo19, "res.partner", "search", {"domain": [["id", "in", [1, 3]]]}).json()
    assert ids == [3, 1]  # res.partner orders by complete_name
    created = json2(
        odoo19, "res.partner", "create", {"vals_list": [{"name": "J2 One"}, {"name": "J2 Two"}]}
    ).json()
    assert len(created) == 2
    assert json2(odoo19, "res.partner", "write", {"ids": created, "vals": {"city": "Ghent"}}).json() is True
    version = httpx.get(f"{odoo19.url}/web/version").json()
    assert version == {"version_info": [19, 0, 0, "final", 0, ""], "version": "19.0"}


@pytest.mark.parametrize(
    ("model", "method", "body", "key", "status", "name"),
    [
        ("res.partner", "search", {}, "f" * 40, 401, "werkzeug.exceptions.Unauthorized"),
        ("no.model", "search", {}, API_KEY, 404, "werkzeug.exceptions.NotFound"),
        ("res.partner", "_private", {}, API_KEY, 404, "werkzeug.exceptions.NotFound"),
        ("res.partner", "search", {"ids": [1]}, API_KEY, 422, "werkzeug.exceptions.UnprocessableEntity"),
        ("res.partner", "search", {"bogus": 1}, API_KEY, 422, "werkzeug.exceptions.UnprocessableEntity"),
        ("res.partner", "read", {"ids": [999999]}, API_KEY, 404, "odoo.exceptions.MissingError"),
        (
            "sale.order",
            "create",
            {"vals_list": [{"origin": "x"}]},
            API_KEY,
            422,
            "odoo.exceptions.ValidationError",
        ),
        ("res.partner", "search", {"domain": [["nope", "=", 1]]}, API_KEY, 500, "builtins.ValueError"),
    ],
)
def test_json2_errors(
    odoo19: LiveOdoo, model: str, method: str, body: Any, key: str, status: int, name: str
) -> None:
    response = json2(odoo19, model, method, body, key)
    assert response.status_code == status
    error = response.json()
    assert set(error) == {"name", "message", "arguments", "context", "debug"}
    assert error["name"] == name
    if key != API_KEY:
        assert error["message"] == "Invalid apikey" and error["arguments"] == ["Invalid apikey", 401]
        assert response.headers["www-authenticate"] == "Bearer"


def test_json2_without_authorization_header(odoo19: LiveOdoo) -> None:
    response = httpx.post(f"{odoo19.url}/json/2/res.partner/search", json={})
    assert response.status_code == 401
    assert (
        response.json()["message"]
        == "User not authenticated, use an API Key with a Bearer Authorization header."
    )


def test_json2_only_on_19(odoo: LiveOdoo) -> None:
    response = httpx.post(
        f"{odoo.url}/json/2/res.partner/search", json={}, headers={"Authorization": f"bearer {API_KEY}"}
    )
    assert response.status_code == (200 if odoo.version == "19.0" else 404)


@pytest.mark.parametrize(
    "args",
    [
        "not a list",
        ["retail"],
        ["retail", 2, "admin", "res.partner", "search", "domain?"],
        ["retail", 2, "admin", "res.partner", "search", [[["name"]]]],
        ["retail", 2, "admin", "res.partner", "search", [[]], {"limit": "ten"}],
        ["retail", 2, "admin", "res.partner", "search", [[]], {"order": "name; drop table res_partner"}],
        ["retail", 2, "admin", "res.partner", "search", [[]], {"context": ["not", "a", "dict"]}],
        ["retail", 2, "admin", "res.partner", "read", [[1]], {"fields": "name"}],
        ["retail", 2, "admin", "res.partner", "read", [["one"]]],
        ["retail", 2, "admin", "res.partner", "create", [{"child_ids": "abc"}]],
        ["retail", 2, "admin", "res.partner", "create", [{"name": "x", "child_ids": [[9, 0, 0]]}]],
        [
            "retail",
            2,
            "admin",
            "res.partner",
            "create",
            [{"name": "x", "child_ids": [[1, 999999, {"name": "y"}]]}],
        ],
        ["retail", 2, "admin", "res.partner", "create", [{"name": "x", "parent_id": "Acme"}]],
        ["retail", 2, "admin", "res.partner", "create", ["just a string"]],
        ["retail", 2, "admin", "res.partner", "write", [[1], {"is_company": True}], {"unknown": 1}],
        ["retail", 2, "admin", "res.partner", "name_search", [], {"operator": "~~"}],
        ["retail", 2, "admin", "stock.picking", "button_validate", [[999999]]],
        ["retail", "two", "admin", "res.partner", "search", [[]]],
        ["retail", 2, "admin", None, "search", [[]]],
    ],
)
def test_bad_input_gets_an_odoo_error_never_a_crash(odoo: LiveOdoo, args: Any) -> None:
    body = rpc(odoo, "/jsonrpc", {"service": "object", "method": "execute_kw", "args": args})
    assert "result" not in body
    data = body["error"]["data"]
    assert data["name"].startswith(("builtins.", "odoo.exceptions.", "psycopg2."))
    assert data["message"]
    assert odoo.common.version()["server_serie"] == odoo.version  # still serving


def test_unknown_routes_answer_werkzeug_pages(odoo: LiveOdoo) -> None:
    missing = httpx.get(f"{odoo.url}/no/such/route")
    assert missing.status_code == 404 and "<title>404 Not Found</title>" in missing.text
    wrong_method = httpx.get(f"{odoo.url}/jsonrpc")
    assert wrong_method.status_code == 405 and "<title>405 Method Not Allowed</title>" in wrong_method.text
