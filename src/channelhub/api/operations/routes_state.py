"""Admin API over the domain state: overview, channel sync status per SKU, business exceptions
(list, retry, resolve, dismiss), orders and an order's timeline."""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from channelhub.api.errors import ApiError
from channelhub.api.operations.context import OperationsContext
from channelhub.api.operations.masking import Shown, shown_to
from channelhub.api.operations.overview import build_overview
from channelhub.api.operations.pagination import CURSOR, LIMIT, RowId, decode_cursor, page
from channelhub.api.operations.queues import pending_for_key
from channelhub.api.operations.state_views import (
    exception_by_id,
    exception_page,
    listing_page,
    order_timeline,
    recent_orders,
)
from channelhub.api.security import Principal, Role, record_action, require_role, sees_personal_data
from channelhub.domain import ExceptionAction, InvalidValue, UnknownChannel
from channelhub.store.repositories import ActionNotAllowed, StateRepositories
from channelhub.store.security_tables import operator_action


class Decision(BaseModel):
    note: str = Field(default="", max_length=1000, description="Why: kept with the exception.")


def _shown(value: Shown, who: Principal) -> Shown:
    return shown_to(value, sees_personal_data(who.role))


def explain_sku(ctx: OperationsContext, sku: str, channel: str | None = None) -> dict[str, Any]:
    from channelhub.service.explain import explain

    availability = ctx.need_availability()
    try:
        with ctx.engine.connect() as connection:
            return explain(connection, availability, sku, channel)
    except UnknownChannel:
        raise ApiError(404, "unknown_channel", f"no channel {channel!r}") from None
    except InvalidValue as error:
        raise ApiError(400, "invalid_request", f"not a SKU: {error}") from None


def timeline_of(ctx: OperationsContext, order_key: str) -> dict[str, Any]:
    with ctx.engine.connect() as connection:
        log_entries = pending_for_key(connection, f"order:{order_key}")
        found = order_timeline(connection, order_key, log_entries)
    if found is None:
        raise ApiError(404, "not_found", f"channelhub has no trace of order {order_key!r}")
    return found


def decide_exception(
    ctx: OperationsContext, exception_id: int, action: ExceptionAction, note: str, who: Principal
) -> dict[str, Any]:
    """Retry, resolve or dismiss an exception; 404 unknown, 409 not allowed (or not open)."""
    now = ctx.clock.now()
    subject = f"exception:{exception_id}"
    try:
        with ctx.engine.begin() as connection:
            recorded = StateRepositories.on(connection).exceptions.get(exception_id)
            if recorded is None:
                raise ApiError(404, "not_found", f"no business exception {exception_id}")
            if action is ExceptionAction.RETRY:
                _retry(connection, ctx, exception_id, subject)
            elif action is ExceptionAction.DISMISS and ctx.orders is not None and "order" in recorded.payload:
                ctx.orders.dismiss(connection, exception_id, who.name, note, now)  # releases the reservation
            else:
                StateRepositories.on(connection).exceptions.close(exception_id, action, who.name, note, now)
            record_action(connection, now, who.name, f"exception.{action.value}", subject, {"note": note})
            if "order" in recorded.payload:
                record_action(
                    connection,
                    now,
                    who.name,
                    f"exception.{action.value}",
                    f"order:{recorded.subject}",
                    {"exception_id": exception_id},
                )
            return exception_by_id(connection, exception_id) or {}
    except (ActionNotAllowed, LookupError) as error:
        raise ApiError(409, "action_not_allowed", str(error)) from None


def _retry(connection: sa.Connection, ctx: OperationsContext, exception_id: int, subject: str) -> None:
    from channelhub.engine.outbox import append
    from channelhub.service.handlers import retry_event
    from channelhub.service.orders import OrderIngestion

    order = OrderIngestion.order_to_retry(connection, exception_id)
    # Each retry gets its own event id (attempt number), so a second retry is not deduplicated away.
    earlier = connection.execute(
        sa.select(sa.func.count())
        .select_from(operator_action)
        .where(operator_action.c.subject == subject, operator_action.c.action == "exception.retry")
    ).scalar_one()
    append(connection, [retry_event(order, exception_id, int(earlier) + 1)], ctx.clock)


def state_router(ctx: OperationsContext) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["operations: state"])

    @router.get("/overview", summary="Sync health per channel, backlog, exceptions, dead letters")
    def overview(_: Principal = require_role(Role.VIEWER)) -> dict[str, Any]:
        return build_overview(ctx)

    @router.get("/sync/listings", summary="Desired vs acknowledged per channel and SKU, with filters")
    def listings(
        channel: str | None = Query(default=None, max_length=64),
        sku: str | None = Query(default=None, max_length=64),
        dirty: bool | None = Query(default=None, description="Only listings out of sync (true) or in sync."),
        with_error: bool | None = Query(default=None, description="Only listings whose last publish failed."),
        limit: int = LIMIT,
        cursor: str | None = CURSOR,
        _: Principal = require_role(Role.VIEWER),
    ) -> dict[str, Any]:
        after = decode_cursor(cursor, tuple)
        if after is not None and (len(after) != 2 or not all(isinstance(part, str) for part in after)):
            raise ApiError(400, "invalid_cursor", "the cursor is not one this API returned")
        with ctx.engine.connect() as connection:
            rows = listing_page(
                connection,
                channel=channel,
                sku=sku,
                dirty=dirty,
                with_error=with_error,
                after=after,
                limit=limit,
            )
        return page(rows, limit, lambda item: [item["channel"], item["sku"]])

    @router.get("/sync/skus/{sku}", summary="A SKU on every channel: listing state and explanation")
    def sku_status(sku: str, _: Principal = require_role(Role.VIEWER)) -> dict[str, Any]:
        with ctx.engine.connect() as connection:
            rows = listing_page(
                connection, channel=None, sku=sku, dirty=None, with_error=None, after=None, limit=100
            )
        body: dict[str, Any] = {"sku": sku, "listings": rows}
        if ctx.availability is not None:
            body["explain"] = explain_sku(ctx, sku)
        elif not rows:
            raise ApiError(404, "not_found", f"no listing of SKU {sku!r}")
        return body

    @router.get("/exceptions", summary="Business exceptions, oldest first, with filters")
    def exceptions(
        status: Literal["open", "resolved", "dismissed"] | None = Query(default="open"),
        kind: str | None = Query(default=None, max_length=100),
        subject: str | None = Query(default=None, max_length=255),
        limit: int = LIMIT,
        cursor: str | None = CURSOR,
        who: Principal = require_role(Role.VIEWER),
    ) -> dict[str, Any]:
        with ctx.engine.connect() as connection:
            rows = exception_page(
                connection,
                status=status,
                kind=kind,
                subject=subject,
                after_id=decode_cursor(cursor),
                limit=limit,
            )
        return page([_shown(row, who) for row in rows], limit, lambda item: item["id"])

    @router.get("/exceptions/{exception_id}", summary="One business exception")
    def exception_detail(exception_id: RowId, who: Principal = require_role(Role.VIEWER)) -> dict[str, Any]:
        with ctx.engine.connect() as connection:
            found = exception_by_id(connection, exception_id)
        if found is None:
            raise ApiError(404, "not_found", f"no business exception {exception_id}")
        return _shown(found, who)

    @router.post("/exceptions/{exception_id}/retry", summary="Run the failed step again")
    def retry(exception_id: RowId, who: Principal = require_role(Role.OPERATOR)) -> dict[str, Any]:
        return decide_exception(ctx, exception_id, ExceptionAction.RETRY, "", who)

    @router.post("/exceptions/{exception_id}/resolve", summary="Close as fixed by hand")
    def resolve(
        exception_id: RowId, decision: Decision, who: Principal = require_role(Role.OPERATOR)
    ) -> dict[str, Any]:
        return decide_exception(ctx, exception_id, ExceptionAction.RESOLVE, decision.note, who)

    @router.post("/exceptions/{exception_id}/dismiss", summary="Close as accepted (nothing more happens)")
    def dismiss(
        exception_id: RowId, decision: Decision, who: Principal = require_role(Role.OPERATOR)
    ) -> dict[str, Any]:
        return decide_exception(ctx, exception_id, ExceptionAction.DISMISS, decision.note, who)

    @router.get("/orders", summary="Recently updated orders")
    def orders(
        limit: int = Query(default=20, ge=1, le=200), who: Principal = require_role(Role.VIEWER)
    ) -> dict[str, Any]:
        with ctx.engine.connect() as connection:
            return {"items": _shown(recent_orders(connection, limit), who)}

    @router.get("/orders/{order_key}/timeline", summary="An order across the channel, channelhub and Odoo")
    def timeline(order_key: str, who: Principal = require_role(Role.VIEWER)) -> dict[str, Any]:
        return _shown(timeline_of(ctx, order_key), who)

    return router
