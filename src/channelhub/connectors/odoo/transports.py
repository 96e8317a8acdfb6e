"""The three wire protocols of Odoo behind one interface.

- `JsonRpcTransport`: POST /jsonrpc, `{"jsonrpc":"2.0","method":"call","params":{service, method,
  args}}`; errors arrive with HTTP 200 as an `error` object (the default: cheapest to encode).
- `XmlRpcTransport`: POST /xmlrpc/2/common|object, marshalled with the standard library
  (`xmlrpc.client.dumps/loads`) but sent through httpx, so it shares timeouts, pooling and the
  async event loop with the rest of the connector; errors are `Fault`s.
- `Json2Transport` (19.0+): POST /json/2/<model>/<method> with `Authorization: bearer <API key>`,
  named parameters only, real HTTP statuses and a bare error object.

Every transport turns network failures, HTTP statuses and Odoo error payloads into `OdooError`s
here, at the boundary; nothing above sees httpx or xmlrpc exceptions.
"""

from __future__ import annotations

import itertools
import json
import xmlrpc.client
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol
from xml.parsers.expat import ExpatError

import httpx

from channelhub.connectors.odoo.errors import (
    OdooAccessDenied,
    OdooError,
    OdooProtocolError,
    OdooTimeout,
    OdooUnavailable,
    from_error_object,
    from_fault,
    from_http_status,
)

PROTOCOLS = ("jsonrpc", "xmlrpc", "json2")


class RpcTransport(Protocol):
    """What the client needs from a wire protocol."""

    protocol: str

    async def version(self) -> dict[str, Any]: ...

    async def authenticate(self, db: str, login: str, secret: str) -> int | None: ...

    async def execute_kw(
        self,
        db: str,
        uid: int,
        secret: str,
        model: str,
        method: str,
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
    ) -> Any: ...


def to_wire(value: Any, *, none_as_false: bool = False) -> Any:
    """Plain values Odoo understands: Decimal → float, datetimes → UTC strings, tuples → lists.

    XML-RPC cannot carry None (Odoo marshals with allow_none=False), Odoo's own convention for
    "empty" is False.
    """
    if value is None:
        return False if none_as_false else None
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): to_wire(item, none_as_false=none_as_false) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_wire(item, none_as_false=none_as_false) for item in value]
    raise OdooProtocolError(f"cannot send a {type(value).__name__} to Odoo: {value!r}")


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    try:
        return max(0.0, float(raw)) if raw else None
    except ValueError:
        return None


class _HttpTransport:
    protocol = ""

    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")

    async def _send(
        self, method: str, path: str, *, model: str = "", rpc_method: str = "", **request: Any
    ) -> httpx.Response:
        context: dict[str, Any] = {"model": model, "method": rpc_method}
        try:
            return await self._http.request(method, f"{self._base_url}{path}", **request)
        except httpx.TimeoutException as exc:
            raise OdooTimeout(
                f"no answer from Odoo in time ({type(exc).__name__})", may_have_applied=True, **context
            ) from exc
        except httpx.ConnectError as exc:
            raise OdooUnavailable(f"cannot connect to Odoo: {exc}", **context) from exc
        except httpx.TransportError as exc:
            # The request may have reached Odoo before the connection broke.
            raise OdooUnavailable(
                f"connection to Odoo failed: {exc}", may_have_applied=True, **context
            ) from exc

    @staticmethod
    def _http_error(response: httpx.Response, *, model: str, method: str) -> OdooError:
        snippet = response.text[:200].strip()
        return from_http_status(
            response.status_code,
            f"HTTP {response.status_code} {response.reason_phrase}" + (f": {snippet}" if snippet else ""),
            retry_after=_retry_after(response),
            model=model,
            method=method,
        )


class _ServiceTransport(_HttpTransport, ABC):
    """The two classic protocols: one `call(service, method, args)` to the `common`/`object`
    services; they differ only in how that call is encoded."""

    @abstractmethod
    async def call(self, service: str, method: str, args: Sequence[Any], *, model: str = "") -> Any:
        """Send one service call and return its result, or raise an `OdooError`."""

    @staticmethod
    def _rpc_method(service: str, method: str, args: Sequence[Any]) -> str:
        """The ORM method an `object.execute_kw` call runs (for error context), else `method`."""
        return str(args[4]) if service == "object" and len(args) > 4 else method

    async def version(self) -> dict[str, Any]:
        result = await self.call("common", "version", [])
        if not isinstance(result, dict):
            raise OdooProtocolError(f"common.version() returned {result!r}")
        return result

    async def authenticate(self, db: str, login: str, secret: str) -> int | None:
        uid = await self.call("common", "authenticate", [db, login, secret, {}])
        return uid if isinstance(uid, int) and not isinstance(uid, bool) and uid > 0 else None

    async def execute_kw(
        self,
        db: str,
        uid: int,
        secret: str,
        model: str,
        method: str,
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
    ) -> Any:
        return await self.call(
            "object", "execute_kw", [db, uid, secret, model, method, list(args), dict(kwargs)], model=model
        )


class JsonRpcTransport(_ServiceTransport):
    protocol = "jsonrpc"

    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        super().__init__(http, base_url)
        self._ids = itertools.count(1)

    async def call(self, service: str, method: str, args: Sequence[Any], *, model: str = "") -> Any:
        rpc_method = self._rpc_method(service, method, args)
        envelope = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": to_wire(list(args))},
            "id": next(self._ids),
        }
        response = await self._send("POST", "/jsonrpc", json=envelope, model=model, rpc_method=rpc_method)
        if response.status_code != 200:
            raise self._http_error(response, model=model, method=rpc_method)
        try:
            body = response.json()
        except ValueError as exc:
            raise OdooProtocolError(
                f"JSON-RPC answer is not JSON: {response.text[:200]!r}", model=model, method=rpc_method
            ) from exc
        if not isinstance(body, Mapping):
            raise OdooProtocolError("JSON-RPC answer is not an object", model=model, method=rpc_method)
        if body.get("error") is not None:
            error = body["error"]
            if not isinstance(error, Mapping):
                raise OdooProtocolError(
                    f"malformed JSON-RPC error: {error!r}", model=model, method=rpc_method
                )
            raise from_error_object(error, model=model, method=rpc_method)
        if "result" not in body:
            raise OdooProtocolError(
                "JSON-RPC answer has neither result nor error", model=model, method=rpc_method
            )
        return body["result"]


class XmlRpcTransport(_ServiceTransport):
    protocol = "xmlrpc"

    async def call(self, service: str, method: str, args: Sequence[Any], *, model: str = "") -> Any:
        rpc_method = self._rpc_method(service, method, args)
        payload = xmlrpc.client.dumps(
            tuple(to_wire(list(args), none_as_false=True)), method, allow_none=False
        )
        response = await self._send(
            "POST",
            f"/xmlrpc/2/{service}",
            content=payload.encode("utf-8"),
            headers={"Content-Type": "text/xml"},
            model=model,
            rpc_method=rpc_method,
        )
        if response.status_code != 200:
            raise self._http_error(response, model=model, method=rpc_method)
        try:
            (result,), _ = xmlrpc.client.loads(response.content, use_builtin_types=True)
        except xmlrpc.client.Fault as fault:
            raise from_fault(fault, model=model, method=rpc_method) from None
        except (ValueError, TypeError, IndexError, xmlrpc.client.ResponseError, ExpatError) as exc:
            raise OdooProtocolError(
                f"XML-RPC answer cannot be decoded: {type(exc).__name__}: {exc}",
                model=model,
                method=rpc_method,
            ) from exc
        return result


# JSON-2 only takes named parameters; these are the names of the positional parameters of the ORM
# methods the connector uses (after `ids` for record methods).
_PARAMETER_NAMES: dict[str, tuple[str, ...]] = {
    "search": ("domain", "offset", "limit", "order"),
    "search_read": ("domain", "fields", "offset", "limit", "order"),
    "search_count": ("domain", "limit"),
    "read": ("fields", "load"),
    "create": ("vals_list",),
    "write": ("vals",),
    "fields_get": ("allfields", "attributes"),
    "name_search": ("name", "domain", "operator", "limit"),
    "default_get": ("fields_list",),
    "check_access_rights": ("operation", "raise_exception"),
    "context_get": (),
}
# `@api.model` methods: no `ids`, the first positional argument is a real parameter.
_MODEL_METHODS = frozenset(
    {"search", "search_read", "search_count", "create", "fields_get", "name_search", "default_get",
     "check_access_rights", "context_get", "name_create"}
)  # fmt: skip


def json2_body(model: str, method: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON-2 request body for an `execute_kw`-style call."""
    positional = list(args)
    body: dict[str, Any] = {}
    if method not in _MODEL_METHODS:
        ids = positional.pop(0) if positional else []
        body["ids"] = [ids] if isinstance(ids, int) else list(ids)
    names = _PARAMETER_NAMES.get(method, ())
    if len(positional) > len(names):
        raise OdooProtocolError(
            f"JSON-2 needs named parameters: give {model}.{method} its extra arguments as keywords",
            model=model,
            method=method,
        )
    body.update(zip(names, positional, strict=False))
    for key, value in kwargs.items():
        if key in body:
            raise OdooProtocolError(f"parameter {key!r} given twice", model=model, method=method)
        body[key] = value
    return body


class Json2Transport(_HttpTransport):
    """Odoo 19's JSON-2 API; the API key is the only credential (no login step)."""

    protocol = "json2"

    def __init__(self, http: httpx.AsyncClient, base_url: str, *, user_agent: str = "channelhub") -> None:
        super().__init__(http, base_url)
        self._user_agent = user_agent

    async def version(self) -> dict[str, Any]:
        response = await self._send("GET", "/web/version", rpc_method="version")
        if response.status_code != 200:
            raise self._http_error(response, model="", method="version")
        try:
            body = response.json()
        except ValueError as exc:
            raise OdooProtocolError(f"/web/version is not JSON: {response.text[:200]!r}") from exc
        if not isinstance(body, dict):
            raise OdooProtocolError(f"/web/version returned {body!r}")
        return body

    async def authenticate(self, db: str, login: str, secret: str) -> int | None:
        try:
            context = await self.execute_kw(db, 0, secret, "res.users", "context_get", [], {})
        except OdooAccessDenied:
            return None
        uid = context.get("uid") if isinstance(context, Mapping) else None
        if isinstance(uid, int) and not isinstance(uid, bool) and uid > 0:
            return uid
        users = await self.execute_kw(
            db, 0, secret, "res.users", "search", [[("login", "=", login)]], {"limit": 1}
        )
        return users[0] if users else None

    async def execute_kw(
        self,
        db: str,
        uid: int,
        secret: str,
        model: str,
        method: str,
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
    ) -> Any:
        body = json2_body(model, method, args, kwargs)
        single_create = method == "create" and bool(args) and isinstance(args[0], Mapping)
        headers = {
            "Authorization": f"bearer {secret}",
            "X-Odoo-Database": db,
            "User-Agent": self._user_agent,
        }
        response = await self._send(
            "POST",
            f"/json/2/{model}/{method}",
            content=json.dumps(to_wire(body)).encode("utf-8"),
            headers={**headers, "Content-Type": "application/json"},
            model=model,
            rpc_method=method,
        )
        if response.status_code == 200:
            try:
                result = response.json()
            except ValueError as exc:
                raise OdooProtocolError(
                    f"JSON-2 answer is not JSON: {response.text[:200]!r}", model=model, method=method
                ) from exc
            # JSON-2 returns recordsets as id lists: keep execute_kw's "one dict in, one id out".
            if single_create and isinstance(result, list) and len(result) == 1:
                return result[0]
            return result
        try:
            error = response.json()
        except ValueError:
            error = None
        if isinstance(error, Mapping) and ("name" in error or "message" in error):
            raise from_error_object(error, model=model, method=method, status=response.status_code)
        raise self._http_error(response, model=model, method=method)


def make_transport(protocol: str, http: httpx.AsyncClient, base_url: str) -> RpcTransport:
    if protocol == "jsonrpc":
        return JsonRpcTransport(http, base_url)
    if protocol == "xmlrpc":
        return XmlRpcTransport(http, base_url)
    if protocol == "json2":
        return Json2Transport(http, base_url)
    raise ValueError(f"unknown Odoo protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
