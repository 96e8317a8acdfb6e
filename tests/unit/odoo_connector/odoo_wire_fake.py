"""A fake Odoo speaking the three wire protocols through `httpx.MockTransport`.

`answer(model, method, args, kwargs)` decides what the server returns; raising `FakeOdooException`
makes the fake answer with the error shape each protocol and version uses.
"""

from __future__ import annotations

import json
import xmlrpc.client
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

_FAULT_CODES = {
    "odoo.exceptions.UserError": 2,
    "odoo.exceptions.ValidationError": 2,
    "odoo.exceptions.MissingError": 2,
    "odoo.exceptions.RedirectWarning": 2,
    "odoo.exceptions.AccessDenied": 3,
    "odoo.exceptions.AccessError": 4,
}
_JSON2_STATUS = {
    "odoo.exceptions.UserError": 422,
    "odoo.exceptions.ValidationError": 422,
    "odoo.exceptions.MissingError": 404,
    "odoo.exceptions.AccessDenied": 403,
    "odoo.exceptions.AccessError": 403,
}


class FakeHttpFailure(Exception):
    """Raised by an `answer` to make the fake reply with a bare HTTP error (e.g. after committing)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class FakeOdooException(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


@dataclass
class Call:
    protocol: str
    model: str
    method: str
    args: list[Any]
    kwargs: dict[str, Any]
    request: httpx.Request


@dataclass
class FakeOdoo:
    version: str = "17.0"
    answer: Callable[[str, str, list[Any], dict[str, Any]], Any] = lambda model, method, args, kwargs: True
    uid: int | bool = 2
    api_key: str = "secret-key"
    calls: list[Call] = field(default_factory=list)
    http_failures: list[int] = field(default_factory=list)  # statuses to answer before real answers

    @property
    def version_info(self) -> list[Any]:
        major, minor = (int(part) for part in self.version.split("."))
        return [major, minor, 0, "final", 0, ""]

    def version_payload(self) -> dict[str, Any]:
        return {
            "server_version": self.version,
            "server_version_info": self.version_info,
            "server_serie": self.version,
            "protocol_version": 1,
        }

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def _traceback(self, exc: FakeOdooException) -> str:
        return f'Traceback (most recent call last):\n  File "x.py", line 1\n{exc.name}: {exc.message}\n'

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.http_failures:
            status = self.http_failures.pop(0)
            return httpx.Response(status, text=f"<html>{status}</html>", headers={"Retry-After": "1"})
        try:
            return self._route(request)
        except FakeHttpFailure as failure:
            return httpx.Response(failure.status, text=f"<html>{failure.status}</html>")

    def _route(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/jsonrpc":
            return self._jsonrpc(request)
        if path.startswith("/xmlrpc/2/"):
            return self._xmlrpc(request, path.rsplit("/", 1)[-1])
        if path == "/web/version":
            return httpx.Response(200, json={"version_info": self.version_info, "version": self.version})
        if path.startswith("/json/2/"):
            return self._json2(request, path)
        return httpx.Response(404, text="not found")

    def _dispatch(
        self, protocol: str, service: str, method: str, args: list[Any], request: httpx.Request
    ) -> Any:
        if service == "common":
            if method == "version":
                return self.version_payload()
            if method in ("authenticate", "login"):
                return self.uid
            raise FakeOdooException("builtins.Exception", f"Method not found: {method}")
        model, rpc_method, rpc_args = args[3], args[4], args[5]
        rpc_kwargs = args[6] if len(args) > 6 else {}
        self.calls.append(Call(protocol, model, rpc_method, rpc_args, rpc_kwargs, request))
        return self.answer(model, rpc_method, rpc_args, rpc_kwargs)

    def _jsonrpc(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        params = body["params"]
        try:
            result = self._dispatch("jsonrpc", params["service"], params["method"], params["args"], request)
        except FakeOdooException as exc:
            code = 0 if self.version_info[0] >= 19 else 200
            error = {
                "code": code,
                "message": "Odoo Server Error",
                "data": {
                    "name": exc.name,
                    "debug": self._traceback(exc),
                    "message": exc.message,
                    "arguments": [exc.message],
                    "context": {},
                },
            }
            return httpx.Response(200, json={"jsonrpc": "2.0", "id": body["id"], "error": error})
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": body["id"], "result": result})

    def _xmlrpc(self, request: httpx.Request, service: str) -> httpx.Response:
        args, method = xmlrpc.client.loads(request.content)
        try:
            result = self._dispatch("xmlrpc", service, method, list(args), request)
            payload = xmlrpc.client.dumps((result,), methodresponse=True, allow_none=False)
        except FakeOdooException as exc:
            code = _FAULT_CODES.get(exc.name, 1)
            text = exc.message if code != 1 else self._traceback(exc)
            payload = xmlrpc.client.dumps(xmlrpc.client.Fault(code, text), methodresponse=True)
        return httpx.Response(200, content=payload.encode(), headers={"Content-Type": "text/xml"})

    def _json2(self, request: httpx.Request, path: str) -> httpx.Response:
        _, _, _, model, method = path.split("/")
        if request.headers.get("authorization") != f"bearer {self.api_key}":
            body = {"name": "werkzeug.exceptions.Unauthorized", "message": "Invalid apikey",
                    "arguments": ["Invalid apikey", 401], "context": {}, "debug": ""}  # fmt: skip
            return httpx.Response(401, json=body)
        params = json.loads(request.content)
        if method == "context_get":  # the JSON-2 login step, not a business call
            return httpx.Response(200, json={"lang": "en_US", "tz": "UTC", "uid": self.uid})
        self.calls.append(Call("json2", model, method, [], params, request))
        try:
            result = self.answer(model, method, [], params)
        except FakeOdooException as exc:
            status = _JSON2_STATUS.get(exc.name, 500)
            body = {"name": exc.name, "message": exc.message, "arguments": [exc.message],
                    "context": {}, "debug": self._traceback(exc)}  # fmt: skip
            return httpx.Response(status, json=body)
        return httpx.Response(200, json=result)
