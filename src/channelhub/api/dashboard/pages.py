"""The dashboard: overview, drill-downs (SKU explanation, order timeline, dead letter with
replay, business exceptions) and login. Server-rendered; `static/live.js` refreshes the parts
marked `data-live-src` every few seconds (no build step, no external script)."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs, quote

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from channelhub.api.dashboard.login_throttle import LoginThrottle
from channelhub.api.dashboard.rendering import SECURITY_HEADERS, render
from channelhub.api.errors import ApiError
from channelhub.api.operations.context import OperationsContext
from channelhub.api.operations.masking import Shown, shown_to
from channelhub.api.operations.overview import build_overview
from channelhub.api.operations.pagination import RowId, decode_cursor, page
from channelhub.api.operations.queues import DeadLetterQuery, dead_letter, dead_letter_page
from channelhub.api.operations.routes_log import replay_dead_letter
from channelhub.api.operations.routes_state import decide_exception, explain_sku, timeline_of
from channelhub.api.operations.state_views import exception_page, recent_orders
from channelhub.api.security import (
    SESSION_COOKIE,
    Principal,
    Role,
    SecurityStore,
    public_route,
    record_action,
    require_page_role,
    sees_personal_data,
)
from channelhub.api.security.guard import settings_of
from channelhub.domain import ExceptionAction
from channelhub.engine.dead_letters import DeadLetterFilter, replay
from channelhub.store.log_tables import log_event

LOGIN_CSRF_COOKIE = "channelhub_login_csrf"


def _shown(value: Shown, who: Principal) -> Shown:
    return shown_to(value, sees_personal_data(who.role))


def _safe_next(path: str | None) -> str:
    # Only paths of this dashboard: an open redirect would let a link send people elsewhere.
    if path and path.startswith("/dashboard") and not path.startswith("//"):
        return path
    return "/dashboard"


async def _form(request: Request) -> dict[str, str]:
    parsed = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


def _event_status(ctx: OperationsContext, event_id: str) -> dict[str, Any]:
    with ctx.engine.connect() as connection:
        row = connection.execute(
            sa.select(log_event.c.status, log_event.c.attempts, log_event.c.last_error).where(
                log_event.c.event_id == event_id
            )
        ).first()
    if row is None:
        return {
            "state": "handled",
            "label": "Handled",
            "detail": "the event went through and was acknowledged",
        }
    if row.status == "dead":
        return {"state": "dead", "label": "Dead letter", "detail": row.last_error or ""}
    detail = "waiting for a worker" if row.attempts == 0 else f"retrying after {row.attempts} failed attempts"
    return {"state": "pending", "label": "Queued", "detail": detail}


def dashboard_router(ctx: OperationsContext, store: SecurityStore) -> APIRouter:
    router = APIRouter(prefix="/dashboard", include_in_schema=False)
    throttle = LoginThrottle(ctx.clock)

    # -- login -------------------------------------------------------------------------------

    @router.get("/login")
    def login_page(
        request: Request, next: str | None = Query(default=None), _: None = public_route("login form")
    ) -> HTMLResponse:
        token = secrets.token_urlsafe(24)
        response = render("login.html", None, next=_safe_next(next), login_csrf=token, error=None)
        _set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
        return response

    @router.post("/login")
    async def login(request: Request, _: None = public_route("login form submission")) -> Response:
        form = await _form(request)
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        # Double-submit check: another site can post this form but cannot read our cookie.
        if not expected or not secrets.compare_digest(form.get("login_csrf", ""), expected):
            return render(
                "login.html",
                None,
                403,
                next="/dashboard",
                login_csrf=expected,
                error="The form expired. Please try again.",
            )
        username = form.get("username", "").strip().lower()[:100]
        wait_s = throttle.wait_s(username)
        if wait_s > 0:
            return render(
                "login.html",
                None,
                429,
                next=_safe_next(form.get("next")),
                login_csrf=expected,
                error=f"Too many failed attempts. Try again in {max(1, round(wait_s / 60))} min.",
            )
        created = await run_in_threadpool(store.login, username, form.get("password", ""))
        if created is None:
            throttle.failed(username)
            return render(
                "login.html",
                None,
                401,
                next=_safe_next(form.get("next")),
                login_csrf=expected,
                error="Wrong username or password.",
            )
        throttle.succeeded(username)
        response = RedirectResponse(_safe_next(form.get("next")), status_code=303, headers=SECURITY_HEADERS)
        _set_cookie(request, response, SESSION_COOKIE, created.session_id, max_age=12 * 3600)
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/dashboard")
        return response

    @router.post("/logout")
    def logout(request: Request, _: Principal = require_page_role(Role.VIEWER)) -> Response:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            store.logout(cookie)
        response = RedirectResponse("/dashboard/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # -- overview ----------------------------------------------------------------------------

    @router.get("")
    def overview(who: Principal = require_page_role(Role.VIEWER)) -> HTMLResponse:
        return render("overview.html", who, page="overview", o=build_overview(ctx), orders=_orders(who))

    @router.get("/fragments/overview")
    def overview_fragment(who: Principal = require_page_role(Role.VIEWER)) -> HTMLResponse:
        return render("_overview.html", who, o=build_overview(ctx), orders=_orders(who))

    def _orders(who: Principal) -> list[dict[str, Any]]:
        with ctx.engine.connect() as connection:
            return _shown(recent_orders(connection, 8), who)

    # -- SKUs --------------------------------------------------------------------------------

    @router.get("/skus")
    def find_sku(
        sku: str = Query(default="", max_length=64), _: Principal = require_page_role(Role.VIEWER)
    ) -> Response:
        if not sku.strip():
            return RedirectResponse("/dashboard", status_code=303)
        return RedirectResponse(f"/dashboard/skus/{quote(sku.strip(), safe='')}", status_code=303)

    @router.get("/skus/{sku}")
    def sku_page(sku: str, who: Principal = require_page_role(Role.VIEWER)) -> HTMLResponse:
        try:
            explained = explain_sku(ctx, sku)
        except ApiError as error:
            return render(
                "message.html", who, error.status, page="skus", title=f"SKU {sku}", message=error.message
            )
        return render("sku.html", who, page="skus", sku=sku, e=explained)

    # -- orders ------------------------------------------------------------------------------

    @router.get("/orders")
    def orders_page(who: Principal = require_page_role(Role.VIEWER)) -> HTMLResponse:
        with ctx.engine.connect() as connection:
            orders = _shown(recent_orders(connection, 100), who)
        return render("orders.html", who, page="orders", orders=orders)

    @router.get("/orders/{order_key}")
    def order_page(order_key: str, who: Principal = require_page_role(Role.VIEWER)) -> HTMLResponse:
        try:
            timeline = _shown(timeline_of(ctx, order_key), who)
        except ApiError as error:
            return render(
                "message.html",
                who,
                error.status,
                page="orders",
                title=f"Order {order_key}",
                message=error.message,
            )
        return render("order.html", who, page="orders", t=timeline)

    # -- dead letters ------------------------------------------------------------------------

    @router.get("/dead-letters")
    def dead_letters_page(
        topic: str | None = Query(default=None, max_length=200),
        cursor: str | None = Query(default=None, max_length=500),
        replayed: int | None = Query(default=None, ge=0, le=10**9),
        who: Principal = require_page_role(Role.VIEWER),
    ) -> HTMLResponse:
        with ctx.engine.connect() as connection:
            rows = dead_letter_page(
                connection, DeadLetterQuery(topic=topic or None), decode_cursor(cursor), 50
            )
        listing = page(_shown(rows, who), 50, lambda item: item["seq"])
        return render(
            "dead_letters.html",
            who,
            page="dead-letters",
            listing=listing,
            topic=topic or "",
            replayed=replayed,
        )

    @router.get("/dead-letters/{event_id}")
    def dead_letter_page_detail(
        event_id: str, replayed: bool = Query(default=False), who: Principal = require_page_role(Role.VIEWER)
    ) -> HTMLResponse:
        with ctx.engine.connect() as connection:
            found = dead_letter(connection, event_id)
        return render(
            "dead_letter.html",
            who,
            page="dead-letters",
            event_id=event_id,
            letter=None if found is None else _shown(found, who),
            replayed=replayed,
            status=_event_status(ctx, event_id),
        )

    @router.get("/fragments/event/{event_id}")
    def event_status_fragment(event_id: str, who: Principal = require_page_role(Role.VIEWER)) -> HTMLResponse:
        return render("_event_status.html", who, status=_event_status(ctx, event_id))

    @router.post("/dead-letters/replay")
    async def replay_matching(
        request: Request, who: Principal = require_page_role(Role.OPERATOR)
    ) -> Response:
        topic = (await _form(request)).get("topic", "").strip()[:200] or None
        count = await run_in_threadpool(_replay_topic, ctx, topic, who)
        target = f"/dashboard/dead-letters?replayed={count}" + (f"&topic={quote(topic)}" if topic else "")
        return RedirectResponse(target, status_code=303)

    @router.post("/dead-letters/{event_id}/replay")
    def replay(event_id: str, who: Principal = require_page_role(Role.OPERATOR)) -> Response:
        if not replay_dead_letter(ctx, event_id, who):
            return render(
                "message.html",
                who,
                404,
                page="dead-letters",
                title="Nothing to replay",
                message=f"There is no dead letter {event_id} (already replayed or discarded?).",
            )
        return RedirectResponse(
            f"/dashboard/dead-letters/{quote(event_id, safe='')}?replayed=true", status_code=303
        )

    # -- business exceptions -----------------------------------------------------------------

    @router.get("/exceptions")
    def exceptions_page(who: Principal = require_page_role(Role.VIEWER)) -> HTMLResponse:
        with ctx.engine.connect() as connection:
            rows = exception_page(
                connection, status="open", kind=None, subject=None, after_id=None, limit=200
            )
        return render("exceptions.html", who, page="exceptions", exceptions=_shown(rows[:200], who))

    @router.post("/exceptions/{exception_id}/{action}")
    async def decide(
        request: Request,
        exception_id: RowId,
        action: ExceptionAction,
        who: Principal = require_page_role(Role.OPERATOR),
    ) -> Response:
        note = (await _form(request)).get("note", "")[:1000]
        try:
            await run_in_threadpool(decide_exception, ctx, exception_id, action, note, who)
        except ApiError as error:
            return render(
                "message.html", who, error.status, page="exceptions", title="Not done", message=error.message
            )
        return RedirectResponse("/dashboard/exceptions", status_code=303)

    return router


def _replay_topic(ctx: OperationsContext, topic: str | None, who: Principal) -> int:
    with ctx.engine.begin() as connection:
        count = replay(connection, DeadLetterFilter(topic=topic), ctx.clock)
        record_action(
            connection,
            ctx.clock.now(),
            who.name,
            "dead_letter.replay_matching",
            "dead-letters",
            {"topic": topic, "all": topic is None, "replayed": count},
        )
    return count


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/" if name == SESSION_COOKIE else "/dashboard",
        httponly=True,
        samesite="strict",
        secure=settings_of(request).cookie_secure(request),
    )
