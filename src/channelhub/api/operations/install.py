"""Mount the whole operations surface on an app: admin API, auth, dashboard, `/metrics`.

app = create_api(api_context)                          # webhook ingress and A's admin routes
install_operations(app, OperationsContext.from_api_context(api_context))
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from channelhub.api.errors import ApiError, install_error_handlers
from channelhub.api.operations.context import OperationsContext
from channelhub.api.operations.routes_control import control_router
from channelhub.api.operations.routes_log import log_router
from channelhub.api.operations.routes_state import state_router
from channelhub.api.security import LoginRequired, SecuritySettings, SecurityStore, security_router
from channelhub.api.security.guard import document_roles
from channelhub.metrics import ChannelhubMetrics, metrics_router


def install_operations(app: FastAPI, ctx: OperationsContext) -> SecurityStore:
    """Add the operations routes to `app`; returns the security store (users and tokens)."""
    # Imported here: the dashboard's modules import this package's read models.
    from channelhub.api.dashboard import STATIC_DIR, STATIC_URL, controls_router, dashboard_router

    if ApiError not in app.exception_handlers:
        install_error_handlers(app)
    store = SecurityStore(ctx.engine, ctx.clock)
    app.state.channelhub_security = SecuritySettings(store, ctx.bootstrap_token, ctx.secure_cookies)
    app.state.channelhub_operations = ctx
    if ctx.metrics is None:
        ctx.metrics = ChannelhubMetrics(
            ctx.engine,
            ctx.endpoints,
            ctx.publisher_snapshot,
            now=lambda: ctx.clock.now().timestamp(),
        )

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse(f"/dashboard/login?next={exc.next_path}", status_code=303)

    app.add_exception_handler(LoginRequired, login_required)
    for router in (
        log_router(ctx),
        state_router(ctx),
        control_router(ctx),
        security_router(store),
        metrics_router(ctx.metrics),
    ):
        app.include_router(document_roles(router))
    app.include_router(dashboard_router(ctx, store))
    app.include_router(controls_router(ctx))
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="dashboard-static")
    return store
