"""Wire encoding/decoding and error mapping of the three Odoo protocols, per version."""

from __future__ import annotations

import json
import random
import xmlrpc.client
from typing import Any

import httpx
import pytest

from channelhub.clock import ManualClock
from channelhub.connectors.errors import AuthenticationError, PermanentError, TransientError
from channelhub.connectors.odoo.client import OdooClient, OdooConnection, OdooResilience
from channelhub.connectors.odoo.errors import (
    OdooAccessDenied,
    OdooAccessError,
    OdooBusy,
    OdooError,
    OdooMissingError,
    OdooNotFound,
    OdooProtocolError,
    OdooServerError,
    OdooTimeout,
    OdooUnavailable,
    OdooUserError,
    OdooValidationError,
)

from .odoo_wire_fake import FakeOdoo, FakeOdooException

VERSIONS = ["16.0", "17.0", "18.0", "19.0"]
PROTOCOLS = ["jsonrpc", "xmlrpc", "json2"]


def make_client(fake: FakeOdoo, protocol: str = "jsonrpc", **resilience: Any) -> OdooClient:
    clock = ManualClock()
    connection = OdooConnection(
        url="http://odoo.test", db="retail", login="admin", secret="secret-key", protocol=protocol
    )
    return OdooClient(
        connection,
        transport=fake.transport(),
        clock=clock,
        resilience=OdooResilience.default(clock, rng=random.Random(7), **resilience),
    )


def protocol_cases() -> list[tuple[str, str]]:
    return [(v, p) for v in VERSIONS for p in PROTOCOLS if p != "json2" or v == "19.0"]


@pytest.mark.parametrize(("version", "protocol"), protocol_cases())
async def test_connect_detects_version_and_executes_kw(version: str, protocol: str) -> None:
    fake = FakeOdoo(version=version, answer=lambda m, meth, a, k: [{"id": 1, "name": "Desk"}])
    async with make_client(fake, protocol) as client:
        assert str(client.version) == version
        assert client.uid == 2
        rows = await client.execute_kw(
            "product.product", "search_read", [[("type", "=", "consu")]], {"fields": ["name"], "limit": 5}
        )
    assert rows == [{"id": 1, "name": "Desk"}]
    call = fake.calls[-1]
    assert (call.model, call.method) == ("product.product", "search_read")
    if protocol == "json2":
        assert call.kwargs == {"domain": [["type", "=", "consu"]], "fields": ["name"], "limit": 5}
        assert call.request.headers["authorization"] == "bearer secret-key"
        assert call.request.headers["x-odoo-database"] == "retail"
    else:
        assert call.args == [[["type", "=", "consu"]]]
        assert call.kwargs == {"fields": ["name"], "limit": 5}


async def test_jsonrpc_envelope_is_odoo_shaped() -> None:
    fake = FakeOdoo(answer=lambda *a: 42)
    async with make_client(fake) as client:
        await client.execute_kw("res.partner", "create", [{"name": "Ada"}])
    body = json.loads(fake.calls[-1].request.content)
    assert body["jsonrpc"] == "2.0" and body["method"] == "call"
    assert body["params"]["service"] == "object" and body["params"]["method"] == "execute_kw"
    assert body["params"]["args"] == [
        "retail",
        2,
        "secret-key",
        "res.partner",
        "create",
        [{"name": "Ada"}],
        {},
    ]


async def test_xmlrpc_body_is_standard_xmlrpc_without_nil() -> None:
    fake = FakeOdoo(answer=lambda *a: True)
    async with make_client(fake, "xmlrpc") as client:
        await client.execute_kw("res.partner", "write", [[3], {"comment": None}])
    request = fake.calls[-1].request
    assert request.url.path == "/xmlrpc/2/object"
    params, method = xmlrpc.client.loads(request.content)
    assert method == "execute_kw"
    # None cannot cross Odoo's XML-RPC (allow_none=False): Odoo's own "empty" is False.
    assert params[5] == [[3], {"comment": False}]


async def test_json2_maps_positional_arguments_to_names_and_unwraps_single_create() -> None:
    fake = FakeOdoo(version="19.0", answer=lambda model, method, a, params: [7])
    async with make_client(fake, "json2") as client:
        created = await client.execute_kw("res.partner", "create", [{"name": "Ada"}])
        await client.execute_kw("res.partner", "write", [[7], {"name": "Ada L."}])
        await client.execute_kw("sale.order", "action_confirm", [[7]], {"context": {"lang": "en_US"}})
    assert created == 7
    assert fake.calls[-3].kwargs == {"vals_list": {"name": "Ada"}}
    assert fake.calls[-2].kwargs == {"ids": [7], "vals": {"name": "Ada L."}}
    assert fake.calls[-1].kwargs == {"ids": [7], "context": {"lang": "en_US"}}


async def test_json2_refuses_servers_before_19() -> None:
    fake = FakeOdoo(version="17.0")
    client = make_client(fake, "json2")
    with pytest.raises(OdooProtocolError, match="no JSON-2"):
        await client.connect()
    await client.aclose()


async def test_json2_bad_api_key_is_access_denied() -> None:
    fake = FakeOdoo(version="19.0", api_key="other")
    client = make_client(fake, "json2")
    with pytest.raises(OdooAccessDenied):
        await client.connect()
    await client.aclose()


@pytest.mark.parametrize("protocol", ["jsonrpc", "xmlrpc"])
async def test_wrong_password_raises_access_denied(protocol: str) -> None:
    fake = FakeOdoo(uid=False)
    client = make_client(fake, protocol)
    with pytest.raises(OdooAccessDenied) as caught:
        await client.connect()
    assert isinstance(caught.value, AuthenticationError) and not caught.value.transient
    await client.aclose()


ERROR_CASES = [
    ("odoo.exceptions.AccessError", "You are not allowed to access 'Product'", OdooAccessError),
    ("odoo.exceptions.UserError", "You cannot confirm an empty order", OdooUserError),
    ("odoo.exceptions.AccessDenied", "Access Denied", OdooAccessDenied),
]
# JSON-RPC and JSON-2 carry the exact class; /xmlrpc/2 folds the UserError family into code 2.
EXACT_CASES = [
    ("odoo.exceptions.ValidationError", "The barcode must be unique", OdooValidationError),
    ("odoo.exceptions.MissingError", "Record does not exist or has been deleted.", OdooMissingError),
]


def _raising(name: str, message: str) -> Any:
    def answer(*_: Any) -> Any:
        raise FakeOdooException(name, message)

    return answer


@pytest.mark.parametrize(("version", "protocol"), protocol_cases())
@pytest.mark.parametrize(("name", "message", "expected"), ERROR_CASES + EXACT_CASES)
async def test_odoo_exceptions_map_to_permanent_errors(
    version: str, protocol: str, name: str, message: str, expected: type[OdooError]
) -> None:
    fake = FakeOdoo(version=version, answer=_raising(name, message))
    async with make_client(fake, protocol) as client:
        with pytest.raises(OdooError) as caught:
            await client.execute_kw("product.product", "write", [[1], {"barcode": "x"}])
    error = caught.value
    if protocol == "xmlrpc" and name == "odoo.exceptions.ValidationError":
        assert type(error) is OdooUserError  # indistinguishable on /xmlrpc/2: still permanent
    else:
        assert isinstance(error, expected)
    assert isinstance(error, PermanentError) and not error.transient
    assert (error.model, error.method) == ("product.product", "write")
    assert message in str(error)
    assert len(fake.calls) == 1, "permanent errors are never retried"
    if protocol != "xmlrpc":
        assert error.odoo_name == name


@pytest.mark.parametrize("version", VERSIONS)
async def test_jsonrpc_error_code_follows_version(version: str) -> None:
    fake = FakeOdoo(version=version, answer=_raising("odoo.exceptions.UserError", "nope"))
    async with make_client(fake) as client:
        with pytest.raises(OdooUserError) as caught:
            await client.execute_kw("sale.order", "action_confirm", [[1]])
    assert caught.value.code == client.version.jsonrpc_error_code


@pytest.mark.parametrize(("version", "protocol"), protocol_cases())
async def test_serialization_failures_are_transient_and_retried(version: str, protocol: str) -> None:
    failures = [2]

    def answer(*_: Any) -> Any:
        if failures[0]:
            failures[0] -= 1
            raise FakeOdooException(
                "psycopg2.errors.SerializationFailure",
                "could not serialize access due to concurrent update",
            )
        return [{"id": 5}]

    fake = FakeOdoo(version=version, answer=answer)
    async with make_client(fake, protocol) as client:
        assert await client.execute_kw("stock.quant", "search_read", [[]]) == [{"id": 5}]
        assert client.stats.retries == 2
    assert len(fake.calls) == 3


async def test_generic_server_exception_is_permanent_with_debug() -> None:
    fake = FakeOdoo(answer=_raising("builtins.ValueError", "Invalid field 'colour' on model 'res.partner'"))
    async with make_client(fake, "xmlrpc") as client:
        with pytest.raises(OdooServerError) as caught:
            await client.execute_kw("res.partner", "read", [[1], ["colour"]])
    assert caught.value.odoo_name == "builtins.ValueError"
    assert "Invalid field" in caught.value.message and "Traceback" in caught.value.debug


@pytest.mark.parametrize("protocol", ["jsonrpc", "xmlrpc"])
@pytest.mark.parametrize(
    ("status", "expected", "may_have_applied"),
    [
        (500, OdooUnavailable, False),
        (502, OdooUnavailable, True),
        (503, OdooBusy, False),
        (504, OdooUnavailable, True),
    ],
)
async def test_http_failures_are_transient(
    protocol: str, status: int, expected: type[OdooError], may_have_applied: bool
) -> None:
    fake = FakeOdoo(answer=lambda *a: 3)
    async with make_client(fake, protocol, max_attempts=1) as client:
        fake.http_failures = [status]
        with pytest.raises(expected) as caught:
            await client.execute_kw("res.partner", "search_count", [[]])
    assert isinstance(caught.value, TransientError)
    assert caught.value.status == status and caught.value.may_have_applied is may_have_applied
    if status == 503:
        assert caught.value.retry_after == 1.0


async def test_json2_http_statuses_map_by_body_name() -> None:
    fake = FakeOdoo(version="19.0", answer=_raising("odoo.exceptions.MissingError", "Record does not exist"))
    async with make_client(fake, "json2") as client:
        with pytest.raises(OdooMissingError) as caught:
            await client.execute_kw("sale.order", "read", [[999]])
    assert caught.value.status == 404


async def test_unknown_json2_route_is_not_found() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/web/version":
            return httpx.Response(200, json={"version_info": [19, 0, 0, "final", 0, ""], "version": "19.0"})
        if request.url.path.endswith("context_get"):
            return httpx.Response(200, json={"uid": 2})
        return httpx.Response(
            404,
            json={"name": "werkzeug.exceptions.NotFound", "message": "the model 'x.y' does not exist",
                  "arguments": ["the model 'x.y' does not exist", 404], "context": {}, "debug": ""},
        )  # fmt: skip

    clock = ManualClock()
    connection = OdooConnection("http://odoo.test", "retail", "admin", "k", protocol="json2")
    async with OdooClient(connection, transport=httpx.MockTransport(handler), clock=clock) as client:
        with pytest.raises(OdooNotFound, match="does not exist"):
            await client.execute_kw("x.y", "search", [[]])


async def test_transient_errors_are_retried_until_success_and_permanent_are_not() -> None:
    fake = FakeOdoo(answer=lambda *a: 11)
    async with make_client(fake) as client:
        fake.http_failures = [503, 502, 500]
        assert await client.execute_kw("res.partner", "search_count", [[]]) == 11
        assert client.stats.retries == 3


async def test_non_idempotent_calls_are_not_retried_after_ambiguous_failures() -> None:
    fake = FakeOdoo(answer=lambda *a: [1, 2])
    async with make_client(fake) as client:
        fake.http_failures = [503]  # busy: nothing happened, safe to retry
        assert await client.create_many("res.partner", [{"name": "a"}, {"name": "b"}]) == [1, 2]
        fake.http_failures = [504]  # the proxy gave up: the create may have happened
        with pytest.raises(OdooUnavailable) as caught:
            await client.create_many("res.partner", [{"name": "c"}])
    assert caught.value.may_have_applied


async def test_timeouts_become_odoo_timeouts() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    connection = OdooConnection("http://odoo.test", "retail", "admin", "k")
    clock = ManualClock()
    client = OdooClient(
        connection,
        transport=httpx.MockTransport(handler),
        clock=clock,
        resilience=OdooResilience.default(clock, max_attempts=2),
    )
    with pytest.raises(OdooTimeout) as caught:
        await client.detect_version()
    assert caught.value.transient and caught.value.may_have_applied
    assert client.stats.retries == 1
    await client.aclose()


async def test_garbage_answers_are_protocol_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>maintenance</html>")

    connection = OdooConnection("http://odoo.test", "retail", "admin", "k", protocol="xmlrpc")
    client = OdooClient(connection, transport=httpx.MockTransport(handler), clock=ManualClock())
    with pytest.raises(OdooProtocolError, match="cannot be decoded"):
        await client.connect()
    await client.aclose()


async def test_search_read_pages_by_id_not_offset() -> None:
    records = [{"id": i, "name": f"P{i}"} for i in range(1, 26)]

    def answer(model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        domain = args[0]
        after = next((term[2] for term in domain if term[0] == "id" and term[1] == ">"), 0)
        assert "offset" not in kwargs and kwargs["order"] == "id asc"
        return [r for r in records if r["id"] > after][: kwargs["limit"]]

    fake = FakeOdoo(answer=answer)
    async with make_client(fake) as client:
        pages = [
            page async for page in client.search_read_pages("product.product", [], ["name"], page_size=10)
        ]
    assert [len(page) for page in pages] == [10, 10, 5]
    assert [row["id"] for page in pages for row in page] == list(range(1, 26))
    assert fake.calls[1].args[0] == [["id", ">", 10]]
