"""The FastAPI application: webhook ingress and the admin API (OpenAPI at `/docs`)."""

from __future__ import annotations

from fastapi import FastAPI

from channelhub.api.admin import admin_router
from channelhub.api.context import ApiContext
from channelhub.api.errors import install_error_handlers
from channelhub.api.webhooks import webhook_router


def create_api(context: ApiContext) -> FastAPI:
    app = FastAPI(
        title="channelhub",
        summary="Webhook ingress and admin API of channelhub",
        version="1",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    install_error_handlers(app)
    app.include_router(webhook_router(context))
    app.include_router(admin_router(context))
    app.state.context = context
    return app
