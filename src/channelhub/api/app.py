"""The FastAPI application: webhook ingress and the admin API (OpenAPI at `/docs`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from channelhub.api.admin import admin_router
from channelhub.api.auth import install_security
from channelhub.api.context import ApiContext
from channelhub.api.errors import install_error_handlers
from channelhub.api.webhooks import webhook_router

_TOPIC_HEADERS = ("x-shopify-topic", "x-wc-webhook-topic")


def create_api(context: ApiContext) -> FastAPI:
    app = FastAPI(
        title="channelhub",
        summary="Webhook ingress and admin API of channelhub",
        version="1",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    install_error_handlers(app)
    install_security(app, context)
    app.include_router(webhook_router(context))
    app.include_router(admin_router(context))
    app.state.context = context
    metrics = context.extra.get("metrics")
    if metrics is not None:
        _count_webhooks(app, metrics)
    return app


def _count_webhooks(app: FastAPI, metrics: object) -> None:
    """`channelhub_events_in{topic, channel}`: every webhook delivery the ingress accepted (2xx),
    counted where it enters, before the inbox turns it into events."""
    events_in: Callable[[str, str], None] = metrics.events_in  # type: ignore[attr-defined]

    @app.middleware("http")
    async def count(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        path = request.url.path
        if request.method == "POST" and path.startswith("/webhooks/") and response.status_code < 300:
            channel = path.removeprefix("/webhooks/").strip("/") or "unknown"
            topic = next((request.headers[h] for h in _TOPIC_HEADERS if h in request.headers), None)
            events_in(topic or "notification", channel)  # Odoo sends no topic header
        return response
