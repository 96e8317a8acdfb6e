"""The admin API (viewer role; the admin token works too): why a channel shows what it shows, and the engine's health.

`GET /api/v1/availability/{sku}?channel=C`: the explain JSON of `channelhub.service.explain`
(at least `sku`, `channel`, `available_to_sell` = the desired value, `acknowledged`).
`GET /api/v1/health`: database reachable, inbox and log backlogs, publisher state.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from channelhub.api.context import ApiContext
from channelhub.api.errors import ApiError
from channelhub.api.security import Principal, Role, require_role
from channelhub.api.security.guard import document_roles
from channelhub.domain import InvalidValue, UnknownChannel
from channelhub.service.explain import explain
from channelhub.store.repositories import StateRepositories


def admin_router(context: ApiContext) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["admin"])

    @router.get("/availability/{sku}", summary="Explain the available-to-sell of a SKU")
    def availability(
        sku: str,
        channel: str | None = Query(default=None, description="One channel; every channel when absent."),
        _: Principal = require_role(Role.VIEWER),
    ) -> dict[str, Any]:
        try:
            with context.engine.connect() as connection:
                return explain(connection, context.availability, sku, channel)
        except UnknownChannel:
            known = ", ".join(context.availability.policy.channels)
            raise ApiError(404, "unknown_channel", f"no channel {channel!r} (known: {known})") from None
        except InvalidValue as error:
            raise ApiError(400, "invalid_request", f"not a SKU: {error}") from None

    @router.get("/health", summary="Engine health: database, backlogs, publisher")
    def health(_: Principal = require_role(Role.VIEWER)) -> dict[str, Any]:
        with context.engine.connect() as connection:
            counts = StateRepositories.on(connection).inbox.counts_by_status()
        body: dict[str, Any] = {
            "status": "ok",
            "time": context.clock.now().isoformat(),
            "channels": sorted(context.channels),
            "inbox": counts,
        }
        if context.health is not None:
            body.update(context.health())
        return body

    return document_roles(router)
