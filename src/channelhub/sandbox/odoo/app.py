"""The emulator's ASGI app: Odoo's RPC routes, the web routes odoorpc uses, JSON-2 (19.0), admin routes.

``create_emulator(settings)`` builds everything and returns an `OdooEmulator` whose ``.app`` is the
ASGI app and whose ``.database`` / ``.chaos`` / ``.webhooks`` are the programmatic handles;
``create_app(settings)`` returns just the app (the emulator is at ``app.emulator``).
"""

from __future__ import annotations

import inspect
import json
import re
import secrets
import xmlrpc.client
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from channelhub.sandbox.odoo import admin, wire
from channelhub.sandbox.odoo.api import model_of
from channelhub.sandbox.odoo.chaos import HTTP_ERROR_PAGES, Chaos, ChaosSettings
from channelhub.sandbox.odoo.database import OdooDatabase
from channelhub.sandbox.odoo.dispatch import RpcServices, call_kw, is_write_method
from channelhub.sandbox.odoo.errors import (
    AccessDenied,
    AccessError,
    HttpError,
    PythonError,
    SessionExpiredException,
    UserError,
)
from channelhub.sandbox.odoo.models.base import ResUsers
from channelhub.sandbox.odoo.orm import Clock, utc_now
from channelhub.sandbox.odoo.webhooks import WebhookHub

SESSION_COOKIE = "session_id"
BEARER = re.compile(r"^bearer\s+(.+)$", re.IGNORECASE)


@dataclass
class EmulatorSettings:
    version: str = "17.0"
    db: str = "retail"
    login: str = "admin"
    password: str = "admin"
    #: generated when not given; accepted wherever the password is, and as JSON-2 bearer (19.0)
    api_key: str | None = None
    seed: int = 0
    #: number of product variants to generate (0: only base data)
    skus: int = 0
    chaos: ChaosSettings = field(default_factory=ChaosSettings)
    clock: Clock = utc_now


class OdooEmulator:
    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.database = OdooDatabase(
            settings.version,
            name=settings.db,
            login=settings.login,
            password=settings.password,
            api_key=settings.api_key,
            clock=settings.clock,
        )
        if settings.skus:
            from channelhub.sandbox.odoo.seed import seed_catalog

            seed_catalog(self.database, seed=settings.seed, skus=settings.skus)
        self.services = RpcServices(self.database)
        self.chaos = Chaos(settings.chaos)
        self.webhooks = WebhookHub(self.database, self.chaos)
        self.sessions: dict[str, dict[str, Any]] = {}
        self.app = ChaosMiddleware(self._routes(), self.chaos, self)

    @property
    def version(self) -> Any:
        return self.database.version

    def _routes(self) -> Starlette:
        routes = [
            Route("/xmlrpc/2/{service}", self.xmlrpc_v2, methods=["POST"]),
            Route("/xmlrpc/{service}", self.xmlrpc_v1, methods=["POST"]),
            Route("/jsonrpc", self.jsonrpc, methods=["POST"]),
            Route("/web/webclient/version_info", self.web_version_info, methods=["POST"]),
            Route("/web/session/authenticate", self.web_authenticate, methods=["POST"]),
            Route("/web/session/get_session_info", self.web_session_info, methods=["POST"]),
            Route("/web/session/destroy", self.web_destroy, methods=["POST"]),
            Route("/web/dataset/call_kw", self.web_call_kw, methods=["POST"]),
            Route("/web/dataset/call_kw/{path:path}", self.web_call_kw, methods=["POST"]),
            Route("/web/database/list", self.web_database_list, methods=["POST"]),
            *admin.routes(self),
        ]
        if self.version.has_json2:
            routes += [
                Route("/web/version", self.web_version, methods=["GET"]),
                Route("/json/2/{model}/{method}", self.json2, methods=["POST"]),
                Route(
                    "/json/2/{rest:path}",
                    self.json2_not_found,
                    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                ),
            ]
        app = Starlette(routes=routes, exception_handlers={404: _werkzeug_page, 405: _werkzeug_page})
        app.state.emulator = self
        return app

    # -- shared call path -----------------------------------------------------------------------
    async def _chaos_before_object_call(self, model: Any, method: Any, args: Any) -> None:
        ids: frozenset[int] = frozenset()
        if isinstance(args, (list, tuple)) and args:
            first = args[0]
            if isinstance(first, int) and not isinstance(first, bool):
                ids = frozenset([first])
            elif isinstance(first, list) and all(isinstance(i, int) for i in first):
                ids = frozenset(first)
        await self.chaos.around_call(str(model), ids, is_write_method(str(method)))

    async def _object_call(self, model: Any, method: Any, args: Any, run: Callable[[], Any]) -> Any:
        """Run one model method under chaos: before it latency/faults, after it maybe a lost answer."""
        await self._chaos_before_object_call(model, method, args)
        result = run()
        if is_write_method(str(method)) and self.chaos.lose_response():
            raise LostResponse()  # committed, but the caller never hears back (gateway timeout)
        return result

    async def _dispatch(self, service: Any, method: Any, params: Any) -> Any:
        if service == "object" and isinstance(params, (list, tuple)) and len(params) >= 5:
            args = params[5] if method == "execute_kw" and len(params) > 5 else list(params[5:])
            return await self._object_call(
                params[3], params[4], args, lambda: self.services.dispatch(service, method, params)
            )
        return self.services.dispatch(service, method, params)

    # -- XML-RPC --------------------------------------------------------------------------------
    async def xmlrpc_v2(self, request: Request) -> Response:
        return await self._xmlrpc(request, wire.xmlrpc_fault_int)

    async def xmlrpc_v1(self, request: Request) -> Response:
        return await self._xmlrpc(request, wire.xmlrpc_fault_string)

    async def _xmlrpc(self, request: Request, to_fault: Any) -> Response:
        try:
            params, method = xmlrpc.client.loads(await request.body())
            result = await self._dispatch(request.path_params["service"], method, params)
        except LostResponse:
            return LostResponse.response()
        except Exception as exc:
            return wire.fault_response(to_fault(exc))
        return wire.xmlrpc_response(result)

    # -- JSON-RPC -------------------------------------------------------------------------------
    async def _json_request(self, request: Request) -> tuple[Any, dict[str, Any]] | Response:
        try:
            envelope = json.loads(await request.body())
        except ValueError:
            return wire.bad_request("Invalid JSON data")
        if not isinstance(envelope, dict):
            return wire.bad_request("Invalid JSON request")
        params = envelope.get("params") or {}
        if not isinstance(params, dict):
            return wire.bad_request("Invalid JSON request")
        return envelope.get("id"), params

    async def _json_route(self, request: Request, handler: Any) -> Response:
        parsed = await self._json_request(request)
        if isinstance(parsed, Response):
            return parsed
        request_id, params = parsed
        headers: dict[str, str] = {}
        try:
            result = await handler(request, params, headers)
        except LostResponse:
            return LostResponse.response()
        except Exception as exc:
            return wire.jsonrpc_error(request_id, exc, self.version)
        response = wire.jsonrpc_result(request_id, result)
        for name, value in headers.items():
            response.headers.append(name, value)
        return response

    async def jsonrpc(self, request: Request) -> Response:
        async def handler(request: Request, params: dict[str, Any], headers: dict[str, str]) -> Any:
            unexpected = set(params) - {"service", "method", "args"}
            if unexpected or not {"service", "method", "args"} <= set(params):
                raise PythonError(
                    "TypeError",
                    f"jsonrpc() got unexpected or missing arguments: {sorted(unexpected) or ['service', 'method', 'args']}",
                )
            return await self._dispatch(params["service"], params["method"], params["args"])

        return await self._json_route(request, handler)

    # -- web routes (session based) -------------------------------------------------------------
    async def web_version_info(self, request: Request) -> Response:
        async def handler(request: Request, params: dict[str, Any], headers: dict[str, str]) -> Any:
            return self.version.common_version()

        return await self._json_route(request, handler)

    async def web_database_list(self, request: Request) -> Response:
        async def handler(request: Request, params: dict[str, Any], headers: dict[str, str]) -> Any:
            return [self.database.name]

        return await self._json_route(request, handler)

    def _session_info(self, uid: int) -> dict[str, Any]:
        database = self.database
        user = database.model("res.users").rows[uid]
        partner = database.model("res.partner").rows[user["partner_id"]]
        with database.env() as env:
            context = model_of(env, ResUsers).context_get(env)
        return {
            "uid": uid,
            "is_system": uid == database.admin_uid,
            "is_admin": uid == database.admin_uid,
            "user_context": context,
            "db": database.name,
            "server_version": self.version.serie,
            "server_version_info": self.version.version_info,
            "support_url": "https://www.odoo.com/buy",
            "name": partner.get("name"),
            "username": user["login"],
            "partner_display_name": partner.get("complete_name") or partner.get("name"),
            "company_id": user.get("company_id") or 1,
            "partner_id": user["partner_id"],
            "user_companies": {
                "current_company": 1,
                "allowed_companies": {"1": {"id": 1, "name": "YourCompany"}},
            },
            "currencies": {"1": {"symbol": "$", "position": "before", "digits": [69, 2]}},
        }

    async def web_authenticate(self, request: Request) -> Response:
        async def handler(request: Request, params: dict[str, Any], headers: dict[str, str]) -> Any:
            if params.get("db") != self.database.name:
                raise AccessError("Database not found.")
            uid = self.database.uid_for(params.get("login"), params.get("password"))
            if uid is None:
                raise AccessDenied()
            session_id = secrets.token_hex(20)
            self.sessions[session_id] = {"uid": uid, "db": self.database.name}
            headers["set-cookie"] = (
                f"{SESSION_COOKIE}={session_id}; Max-Age=604800; HttpOnly; Path=/; SameSite=Lax"
            )
            return self._session_info(uid)

        return await self._json_route(request, handler)

    def _session_uid(self, request: Request) -> int:
        session = self.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        if session is None:
            raise SessionExpiredException()
        return int(session["uid"])

    async def web_session_info(self, request: Request) -> Response:
        async def handler(request: Request, params: dict[str, Any], headers: dict[str, str]) -> Any:
            return self._session_info(self._session_uid(request))

        return await self._json_route(request, handler)

    async def web_destroy(self, request: Request) -> Response:
        async def handler(request: Request, params: dict[str, Any], headers: dict[str, str]) -> Any:
            self.sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)
            return None

        return await self._json_route(request, handler)

    async def web_call_kw(self, request: Request) -> Response:
        async def handler(request: Request, params: dict[str, Any], headers: dict[str, str]) -> Any:
            uid = self._session_uid(request)
            model, method = params.get("model"), params.get("method")
            args, kwargs = params.get("args") or [], params.get("kwargs") or {}
            return await self._object_call(
                model,
                method,
                args,
                lambda: call_kw(self.database, uid, str(model), str(method), args, kwargs),
            )

        return await self._json_route(request, handler)

    # -- JSON-2 (19.0) --------------------------------------------------------------------------
    async def web_version(self, request: Request) -> Response:
        return wire.json_body({"version_info": self.version.version_info, "version": self.version.serie})

    async def json2_not_found(self, request: Request) -> Response:
        return wire.json2_error(
            HttpError(404, "werkzeug.exceptions.NotFound", "Did you mean POST /json/2/<model>/<method>?")
        )

    async def json2(self, request: Request) -> Response:
        # ir.http._auth_method_bearer: "bearer <key>", case-insensitive; no session fallback here
        match = BEARER.match(request.headers.get("authorization", ""))
        if match is None:
            message = "User not authenticated, use an API Key with a Bearer Authorization header."
            return wire.json2_error(HttpError(401, "werkzeug.exceptions.Unauthorized", message))
        uid = self.database.uid_for_api_key(match.group(1))
        if uid is None:
            return wire.json2_error(HttpError(401, "werkzeug.exceptions.Unauthorized", "Invalid apikey"))
        body = await request.body()
        try:
            payload = json.loads(body) if body.strip() else {}
        except ValueError as exc:
            return wire.json2_error(
                HttpError(400, "werkzeug.exceptions.BadRequest", f"could not parse the body as json: {exc}")
            )
        if not isinstance(payload, dict):
            return wire.json2_error(
                HttpError(
                    400,
                    "werkzeug.exceptions.BadRequest",
                    "could not parse the body as json: expected an object",
                )
            )
        model_name, method = request.path_params["model"], request.path_params["method"]
        model = self.database.registry.models.get(model_name)
        if model is None:
            return wire.json2_error(
                HttpError(404, "werkzeug.exceptions.NotFound", f"the model {model_name!r} does not exist")
            )
        try:
            kind, function = model.rpc_method(method)
        except (AccessError, PythonError) as exc:
            return wire.json2_error(HttpError(404, "werkzeug.exceptions.NotFound", str(exc)))
        ids = payload.pop("ids", None) or []
        if kind == "model" and ids:
            return wire.json2_error(
                HttpError(
                    422,
                    "werkzeug.exceptions.UnprocessableEntity",
                    f"cannot call {model_name}.{method} with ids",
                )
            )
        args = [ids] if kind == "records" else []
        try:  # like the controller: only a signature mismatch is the caller's fault (422)
            arguments = {k: v for k, v in payload.items() if k != "context"}
            inspect.signature(function).bind(None, *args, **arguments)
        except TypeError as exc:
            return wire.json2_error(
                HttpError(422, "werkzeug.exceptions.UnprocessableEntity", str(exc.args[0]))
            )
        try:
            result = await self._object_call(
                model_name,
                method,
                [ids],
                lambda: call_kw(
                    self.database, uid, model_name, method, args, payload, single_create_returns_id=False
                ),
            )
        except LostResponse:
            return LostResponse.response()
        except Exception as exc:
            return wire.json2_error(exc)
        return wire.json_body(result)


async def _werkzeug_page(request: Request, exc: Exception) -> Response:
    """Unknown routes and methods answer with werkzeug's HTML error pages, as Odoo does."""
    status = getattr(exc, "status_code", 404)
    return Response(wire.werkzeug_page(status), status_code=status, media_type="text/html")


class LostResponse(Exception):
    """Chaos: the call committed but its answer is replaced by a gateway timeout."""

    @staticmethod
    def response() -> Response:
        return Response(HTTP_ERROR_PAGES[504], status_code=504, media_type="text/html")


class ChaosMiddleware:
    """HTTP-level chaos: outages and saturation answer 503, injected errors 500/502/504."""

    def __init__(self, app: ASGIApp, chaos: Chaos, emulator: OdooEmulator) -> None:
        self.app = app
        self.chaos = chaos
        #: the programmatic handle, reachable from the ASGI app create_app returns
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        chaos = self.chaos
        status = 503 if chaos.in_outage() or chaos.saturated() else chaos.draw_http_error()
        if status is not None:
            response = Response(HTTP_ERROR_PAGES[status], status_code=status, media_type="text/html")
            await response(scope, receive, send)
            return
        chaos.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            chaos.in_flight -= 1


def create_emulator(settings: EmulatorSettings | None = None) -> OdooEmulator:
    return OdooEmulator(settings or EmulatorSettings())


def create_app(settings: EmulatorSettings | None = None) -> ChaosMiddleware:
    """The ASGI app; its ``.emulator`` attribute is the `OdooEmulator` (database, chaos, webhooks)."""
    return create_emulator(settings).app


__all__ = ["EmulatorSettings", "OdooEmulator", "UserError", "create_app", "create_emulator"]
