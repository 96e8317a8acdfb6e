"""Who is calling, and may they use this route.

Every route declares what it needs with one dependency:

    @router.post("/dead-letters/{event_id}/replay")
    def replay(event_id: str, who: Principal = require_role(Role.OPERATOR)) -> ...

    @router.get("/live")
    def live(_: None = public_route("liveness probe")) -> ...

`route_access(app)` reads those declarations back from the app's routes, so a test can walk every
route and prove that none is unguarded.

Callers authenticate with `Authorization: Bearer <token>` (API tokens; the sandbox's configured
admin token is accepted too) or with the dashboard's session cookie. Cookie requests that change
something must carry the session's CSRF token (`X-CSRF-Token` header or `csrf_token` form
field): a cookie is sent by the browser on cross-site requests, a header or form field from
another site is not. Tokens are never logged: failures log the token id at most.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from channelhub.api.errors import ApiError
from channelhub.api.security.roles import Role, grants
from channelhub.api.security.store import SecurityStore
from channelhub.observability import get_logger

log = get_logger(__name__)

SESSION_COOKIE = "channelhub_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="channelhub"'}

Access = Role | Literal["public", "signed"]


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. `via`: token, session or bootstrap (the configured admin token)."""

    name: str
    role: Role
    via: Literal["token", "session", "bootstrap"]
    csrf_token: str | None = None


@dataclass
class SecuritySettings:
    """`bootstrap_token`: the landscape's admin token (the sandbox prints it), acting as admin.
    `secure_cookies`: None sets `Secure` on cookies when the request came over HTTPS."""

    store: SecurityStore
    bootstrap_token: str | None = None
    secure_cookies: bool | None = None
    signed_prefixes: tuple[str, ...] = ("/webhooks/",)
    public_paths: set[str] = field(default_factory=set)

    def cookie_secure(self, request: Request) -> bool:
        if self.secure_cookies is not None:
            return self.secure_cookies
        return request.url.scheme == "https"


class LoginRequired(Exception):
    """A dashboard page was asked for without a session: the browser is sent to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def settings_of(request: Request) -> SecuritySettings:
    settings: SecuritySettings | None = getattr(request.app.state, "channelhub_security", None)
    if settings is None:
        raise ApiError(503, "not_configured", "authentication is not configured on this server")
    return settings


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError(401, "unauthorized", "use 'Authorization: Bearer <token>'", headers=_CHALLENGE)
    return value.strip()


def _authenticate_sync(settings: SecuritySettings, token: str | None, cookie: str | None) -> Principal | None:
    if token is not None:
        bootstrap = settings.bootstrap_token
        if bootstrap and hmac.compare_digest(token.encode(), bootstrap.encode()):
            return Principal("bootstrap-token", Role.ADMIN, "bootstrap")
        info = settings.store.authenticate_token(token)
        if info is None:
            raise ApiError(
                401, "unauthorized", "the token is unknown, revoked or expired", headers=_CHALLENGE
            )
        return Principal(f"token:{info.token_id}:{info.name}", info.role, "token")
    if cookie:
        session = settings.store.session(cookie)
        if session is not None:
            return Principal(session.username, session.role, "session", session.csrf_token)
    return None


async def authenticate(request: Request) -> Principal | None:
    """The caller of this request, None when anonymous; a bad token is a 401 right away."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    settings = settings_of(request)
    principal = await run_in_threadpool(
        _authenticate_sync, settings, _bearer(request), request.cookies.get(SESSION_COOKIE)
    )
    request.state.principal = principal
    return principal


async def _presented_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        values = form.get(CSRF_FIELD)
        return values[0] if values else None
    return None


async def check_csrf(request: Request, expected: str) -> None:
    presented = await _presented_csrf(request)
    if presented is None or not hmac.compare_digest(presented.encode(), expected.encode()):
        log.warning("csrf_refused", path=request.url.path, method=request.method)
        raise ApiError(403, "csrf_failed", "missing or wrong CSRF token: reload the page and try again")


class RoleGuard:
    """The dependency behind `require_role`; `role` is read back by `route_access`."""

    def __init__(self, role: Role, page: bool = False) -> None:
        self.role = Role(role)
        self.page = page

    async def __call__(self, request: Request) -> Principal:
        principal = await authenticate(request)
        if principal is None:
            if self.page:
                raise LoginRequired(request.url.path)
            raise ApiError(401, "unauthorized", "authentication required", headers=_CHALLENGE)
        if not grants(principal.role, self.role):
            raise ApiError(
                403, "forbidden", f"this needs the {self.role.value} role (you have {principal.role.value})"
            )
        if principal.via == "session" and request.method not in SAFE_METHODS:
            await check_csrf(request, principal.csrf_token or "")
        return principal


class PublicAccess:
    """Marks a route as deliberately open (liveness probe, login page); `reason` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __call__(self) -> None:
        return None


def require_role(role: Role) -> Any:
    """`who: Principal = require_role(Role.OPERATOR)` on an API route (401/403 as JSON)."""
    return Depends(RoleGuard(role))


def require_page_role(role: Role) -> Any:
    """Like `require_role` for dashboard pages: an anonymous browser is sent to the login page."""
    return Depends(RoleGuard(role, page=True))


def public_route(reason: str) -> Any:
    return Depends(PublicAccess(reason))


@dataclass(frozen=True, slots=True)
class RouteAccess:
    method: str
    path: str
    access: Access | None
    """None: the route declares nothing (a bug the role-matrix test catches)."""
    page: bool = False


def _declared(dependencies: Iterable[Any]) -> tuple[Access | None, bool]:
    for dependency in dependencies:
        call = getattr(dependency, "call", None)
        if isinstance(call, RoleGuard):
            return call.role, call.page
        if isinstance(call, PublicAccess):
            return "public", False
        found = _declared(getattr(dependency, "dependencies", ()))
        if found[0] is not None:
            return found
    return None, False


def document_roles(router: APIRouter) -> APIRouter:
    """Write each route's declared access into its OpenAPI description (`x-required-role` too),
    so integrators read in /docs which token a call needs."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        access, _ = _declared(route.dependant.dependencies)
        if access is None:
            continue
        text = "Open to everybody." if access == "public" else f"Requires the `{access}` role (or higher)."
        route.description = f"{route.description}\n\n{text}".strip()
        route.openapi_extra = {**(route.openapi_extra or {}), "x-required-role": str(access)}
    return router


def _api_routes(app: FastAPI) -> Iterable[tuple[str, set[str], Any]]:
    """(path, methods, dependant) of every API route, through included routers."""
    try:  # FastAPI >= 0.130 wraps included routers; their routes come out with effective paths.
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI keeps a flat route list
        for route in app.routes:
            if isinstance(route, APIRoute):
                yield route.path, set(route.methods or ()), route.dependant
        return
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context.path or "", set(context.methods or ()), context.dependant


def route_access(app: FastAPI) -> list[RouteAccess]:
    """Every (method, path) of the app's API routes with the access it declares."""
    settings: SecuritySettings | None = getattr(app.state, "channelhub_security", None)
    signed = settings.signed_prefixes if settings else ()
    table = []
    for path, methods, dependant in _api_routes(app):
        access, page = _declared(dependant.dependencies)
        if access is None and path.startswith(signed):
            access = "signed"  # webhook ingress: guarded by the platform's signature instead
        for method in sorted(methods):
            table.append(RouteAccess(method, path, access, page))
    return table
