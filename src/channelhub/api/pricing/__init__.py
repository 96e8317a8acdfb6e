"""Pricing governance on the admin API and the dashboard (issue 8 §9).

    store = install_operations(app, ops_context)         # roles, sessions, dashboard first
    handle = install_pricing(app, service)              # or install_pricing(app) and set later:
    handle.service = service; handle.run = LoopRunner(main_loop); handle.wake = ticker.wake

Routes (role needed): `GET /api/v1/price-changes?status=` `GET /api/v1/price-changes/{id}`
`GET …/{id}/preview` `GET …/{id}/audit` (viewer); `POST …/{id}/approve` `POST …/{id}/reject`
`POST …/{id}/rollback` (price_approver); `POST …/{id}/retry` `POST /api/v1/price-changes/capture`
(operator); `GET /api/v1/prices/{sku}/history` `GET /api/v1/audit` `GET /api/v1/audit/verify`
`GET /api/v1/audit/export?format=csv|json` (viewer); pages under `/dashboard/prices`.
"""

from __future__ import annotations

from fastapi import FastAPI

from channelhub.api.errors import ApiError, install_error_handlers
from channelhub.api.pricing.access import (
    DEFAULT_BOOTSTRAP_USER,
    LoopRunner,
    PricingHandle,
    acting_user,
    approver_of,
    pricing_api_error,
)
from channelhub.api.pricing.pages import pricing_pages_router
from channelhub.api.pricing.routes import pricing_router
from channelhub.service.pricing import PricingService


def install_pricing(
    app: FastAPI,
    service: PricingService | PricingHandle | None = None,
    *,
    bootstrap_user: str | None = None,
) -> PricingHandle:
    """Mount the pricing API and dashboard pages on `app` (after `install_operations`, whose
    security settings authenticate the callers). Returns the handle the routes read the service
    from, so the composition root can build the service after the app."""
    if ApiError not in app.exception_handlers:
        install_error_handlers(app)
    handle = service if isinstance(service, PricingHandle) else PricingHandle(service)
    if bootstrap_user is not None:
        handle.bootstrap_user = bootstrap_user
    app.state.channelhub_pricing = handle
    app.include_router(pricing_router(handle))
    app.include_router(pricing_pages_router(handle))
    return handle


__all__ = [
    "DEFAULT_BOOTSTRAP_USER",
    "LoopRunner",
    "PricingHandle",
    "acting_user",
    "approver_of",
    "install_pricing",
    "pricing_api_error",
    "pricing_pages_router",
    "pricing_router",
]
