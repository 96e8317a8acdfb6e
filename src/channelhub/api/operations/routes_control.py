"""Admin API for steering: reconciliation runs and their diffs, circuit breakers and rate
limiters per endpoint, warehouse hold/release/offline/online."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from channelhub.api.errors import ApiError
from channelhub.api.operations.context import OperationsContext
from channelhub.api.operations.pagination import RowId
from channelhub.api.security import Principal, Role, record_action, require_role
from channelhub.service.operations import (
    AvailabilityOperations,
    UnknownWarehouse,
    WarehouseAction,
    WarehouseChange,
)


class ReconcileRequest(BaseModel):
    channel: str | None = Field(default=None, max_length=64, description="None: every channel.")
    dry_run: bool = Field(default=True, description="Only report differences; change nothing.")


class WarehouseRequest(BaseModel):
    reason: str = Field(default="", max_length=500)


def control_router(ctx: OperationsContext) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["operations: control"])

    @router.get("/reconciliations", summary="Recent reconciliation runs, newest first")
    def runs(
        limit: int = Query(default=50, ge=1, le=200), _: Principal = require_role(Role.VIEWER)
    ) -> dict[str, Any]:
        return {"items": [run.summary() for run in ctx.reconciliations.runs()[:limit]]}

    @router.get("/reconciliations/{run_id}", summary="One run with its diffs")
    def run_detail(
        run_id: RowId,
        kind: str | None = Query(default=None, pattern="^(drift|pending|missing)$"),
        _: Principal = require_role(Role.VIEWER),
    ) -> dict[str, Any]:
        run = ctx.reconciliations.get(run_id)
        if run is None:
            raise ApiError(404, "not_found", f"no reconciliation run {run_id} (only recent runs are kept)")
        diffs = [d for d in run.report.get("diffs", []) if kind is None or d.get("kind") == kind]
        return {**run.summary(), "channels": run.report.get("channels", []), "diffs": diffs}

    @router.post("/reconciliations", status_code=201, summary="Reconcile now (dry run by default)")
    async def start(
        request: ReconcileRequest, who: Principal = require_role(Role.OPERATOR)
    ) -> dict[str, Any]:
        from channelhub.engine.reconcile import ReconciliationError

        runner = ctx.need_reconcile()
        if request.channel is not None and ctx.channels and request.channel not in ctx.channels:
            raise ApiError(404, "unknown_channel", f"no channel {request.channel!r}")
        try:
            report = await runner(request.channel, request.dry_run)
        except ReconciliationError as error:
            raise ApiError(400, "invalid_request", str(error)) from None
        run = ctx.reconciliations.record(report, trigger=f"api:{who.name}")
        with ctx.engine.begin() as connection:
            record_action(
                connection,
                ctx.clock.now(),
                who.name,
                "reconciliation.run",
                f"reconciliation:{run.run_id}",
                request.model_dump(),
            )
        return {**run.summary(), "diffs": run.report.get("diffs", [])}

    @router.get("/endpoints", summary="Circuit breaker, rate limiter and concurrency state per endpoint")
    def endpoints(_: Principal = require_role(Role.VIEWER)) -> dict[str, Any]:
        return {"items": ctx.endpoints.snapshots()}

    @router.get("/warehouses", summary="Warehouses: online, on hold, which channels they feed")
    def warehouses(_: Principal = require_role(Role.VIEWER)) -> dict[str, Any]:
        availability = ctx.need_availability()
        with ctx.engine.connect() as connection:
            current = availability.warehouses(connection)
        return {
            "items": [
                {
                    "warehouse": w.code,
                    "name": w.name,
                    "online": w.online,
                    "on_hold": w.on_hold,
                    "feeds": list(availability.policy.channels_fed_by(w.code)),
                }
                for w in current
            ]
        }

    @router.post("/warehouses/{code}/{action}", summary="Hold, release, take offline or bring online")
    def warehouse_action(
        code: str,
        action: WarehouseAction,
        request: WarehouseRequest,
        who: Principal = require_role(Role.OPERATOR),
    ) -> dict[str, Any]:
        try:
            change = set_warehouse_audited(ctx, code, action, request.reason, who)
        except UnknownWarehouse as error:
            raise ApiError(404, "not_found", str(error)) from None
        return {
            "warehouse": change.warehouse.code,
            "online": change.warehouse.online,
            "on_hold": change.warehouse.on_hold,
            "changed": change.changed,
            "channels": list(change.channels),
        }

    return router


def set_warehouse_audited(
    ctx: OperationsContext, code: str, action: WarehouseAction, reason: str, who: Principal
) -> WarehouseChange:
    """A warehouse action by an operator (API or dashboard): the status and the audit record in
    one transaction, the SKUs recomputed in steps after it, the publisher woken after each step so
    the new desired quantities go out now, not at its next sweep."""
    now = ctx.clock.now()
    publisher = ctx.publisher

    def audit(connection: sa.Connection, change: WarehouseChange) -> None:
        record_action(
            connection,
            now,
            who.name,
            f"warehouse.{action.value}",
            f"warehouse:{code}",
            {"reason": reason, "changed": change.changed},
        )

    return AvailabilityOperations(ctx.need_availability()).set_warehouse_in_steps(
        ctx.engine,
        code,
        action,
        now,
        reason=reason,
        by=who.name,
        first=audit,
        after_step=None if publisher is None else publisher.wake,
    )
