"""Dashboard pages that steer: warehouses (hold, release, offline, online) and reconciliation
runs (start a dry run, read the diffs)."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from channelhub.api.dashboard.rendering import render
from channelhub.api.errors import ApiError
from channelhub.api.operations.context import OperationsContext
from channelhub.api.operations.routes_control import set_warehouse_audited
from channelhub.api.security import Principal, Role, record_action, require_page_role
from channelhub.service.operations import (
    UnknownWarehouse,
    WarehouseAction,
)


def controls_router(ctx: OperationsContext) -> APIRouter:
    router = APIRouter(prefix="/dashboard", include_in_schema=False)

    @router.get("/warehouses")
    def warehouses_page(who: Principal = require_page_role(Role.VIEWER)) -> HTMLResponse:
        if ctx.availability is None:
            return render(
                "message.html",
                who,
                503,
                page="warehouses",
                title="Warehouses",
                message="Availability rules are not loaded in this process.",
            )
        with ctx.engine.connect() as connection:
            current = ctx.availability.warehouses(connection)
        rows = [
            {
                "code": w.code,
                "name": w.name,
                "online": w.online,
                "on_hold": w.on_hold,
                "feeds": ctx.availability.policy.channels_fed_by(w.code),
            }
            for w in current
        ]
        return render("warehouses.html", who, page="warehouses", warehouses=rows)

    @router.post("/warehouses/{code}/{action}")
    async def warehouse_action(
        request: Request,
        code: str,
        action: WarehouseAction,
        who: Principal = require_page_role(Role.OPERATOR),
    ) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        reason = (form.get("reason") or [""])[0][:500]
        try:
            await run_in_threadpool(set_warehouse_audited, ctx, code, action, reason, who)
        except UnknownWarehouse as error:
            return render(
                "message.html", who, 404, page="warehouses", title="Unknown warehouse", message=str(error)
            )
        return RedirectResponse("/dashboard/warehouses", status_code=303)

    @router.get("/reconciliations")
    def reconciliations_page(who: Principal = require_page_role(Role.VIEWER)) -> HTMLResponse:
        runs = ctx.reconciliations.runs()
        latest = runs[0] if runs else None
        return render(
            "reconciliations.html",
            who,
            page="reconciliations",
            runs=[run.summary() for run in runs[:50]],
            latest=latest.report if latest else None,
            can_reconcile=ctx.reconcile is not None,
        )

    @router.post("/reconciliations")
    async def start_reconciliation(who: Principal = require_page_role(Role.OPERATOR)) -> Response:
        try:
            runner = ctx.need_reconcile()
        except ApiError as error:
            return render(
                "message.html",
                who,
                error.status,
                page="reconciliations",
                title="Not available",
                message=error.message,
            )
        report = await runner(None, True)  # the dashboard only looks: fixing is a CLI/API decision
        run = ctx.reconciliations.record(report, trigger=f"dashboard:{who.name}")
        await run_in_threadpool(_record, ctx, who, run.run_id)
        return RedirectResponse("/dashboard/reconciliations", status_code=303)

    return router


def _record(ctx: OperationsContext, who: Principal, run_id: int) -> None:
    with ctx.engine.begin() as connection:
        record_action(
            connection,
            ctx.clock.now(),
            who.name,
            "reconciliation.run",
            f"reconciliation:{run_id}",
            {"dry_run": True},
        )
