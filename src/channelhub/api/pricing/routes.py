"""The pricing admin API (issue 8 §9): change sets, decisions, rollback, history, audit.

Roles: `viewer` reads (change sets, preview, history, audit, verify, export); `price_approver`
approves, rejects and rolls back (a rollback puts a previous price back on every channel: it is a
price decision, so it needs the same authority as an approval); `operator` retries a held release
and triggers a capture (operational actions that decide no price). `admin` may do all of it.
The acting user always comes from the authenticated caller; the proposer of a change set gets
403 when approving or rejecting it (maker-checker).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from channelhub.api.errors import ApiError
from channelhub.api.operations.pagination import RowId
from channelhub.api.pricing.access import PRICING_ERRORS, PricingHandle, approver_of, pricing_api_error
from channelhub.api.security import Principal, Role, require_role
from channelhub.domain.price_changes import ChangeSetStatus

SKU_PATTERN = r"^\S{1,64}$"


class DecisionRequest(BaseModel):
    comment: str = Field(default="", max_length=2000, description="Why (shown in the audit trail).")


class RejectRequest(BaseModel):
    comment: str = Field(min_length=1, max_length=2000, description="Why: the proposer must learn it.")


class RollbackRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="Why the prior prices come back.")


def parse_status(status: str | None) -> ChangeSetStatus | None:
    if status is None or status == "":
        return None
    try:
        return ChangeSetStatus(status)
    except ValueError:
        known = ", ".join(s.value for s in ChangeSetStatus)
        raise ApiError(400, "invalid_request", f"unknown status {status!r} (one of: {known})") from None


def pricing_router(handle: PricingHandle) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["pricing"])

    # -- change sets ---------------------------------------------------------------------------

    @router.get("/price-changes", summary="Change sets, newest first (filter by status)")
    def list_changes(
        status: str | None = Query(default=None, max_length=40, description="e.g. pending_approval"),
        limit: int = Query(default=100, ge=1, le=500),
        _: Principal = require_role(Role.VIEWER),
    ) -> dict[str, Any]:
        wanted = parse_status(status)
        found = handle.need().governance.change_sets(wanted, limit)
        return {"items": [change_set.to_dict() for change_set in found], "count": len(found)}

    @router.get("/price-changes/{change_set_id}", summary="One change set with its items and decisions")
    def get_change(change_set_id: RowId, _: Principal = require_role(Role.VIEWER)) -> dict[str, Any]:
        try:
            return handle.need().governance.get(change_set_id).to_dict()
        except PRICING_ERRORS as error:
            raise pricing_api_error(error) from None

    @router.get("/price-changes/{change_set_id}/preview", summary="Blast radius: revenue and margin at stake")
    async def preview(
        change_set_id: RowId,
        days: int | None = Query(default=None, ge=1, le=365, description="Horizon (pricing file's default)."),
        _: Principal = require_role(Role.VIEWER),
    ) -> dict[str, Any]:
        service = handle.need()
        try:
            return await handle.call(service.governance.preview(change_set_id, days))
        except PRICING_ERRORS as error:
            raise pricing_api_error(error) from None

    @router.get("/price-changes/{change_set_id}/audit", summary="The audit trail of one change set")
    def change_audit(change_set_id: RowId, _: Principal = require_role(Role.VIEWER)) -> dict[str, Any]:
        service = handle.need()
        try:
            service.governance.get(change_set_id)
        except PRICING_ERRORS as error:
            raise pricing_api_error(error) from None
        return {"items": service.audit_trail(f"price-change:{change_set_id}")}

    @router.post("/price-changes/{change_set_id}/approve", summary="Approve (not the proposer)")
    def approve(
        change_set_id: RowId,
        request: DecisionRequest | None = None,
        who: Principal = require_role(Role.PRICE_APPROVER),
    ) -> dict[str, Any]:
        service = handle.need()
        comment = request.comment if request is not None else ""
        try:
            decided = service.governance.approve(
                change_set_id, approver_of(who, handle.bootstrap_user), comment
            )
        except PRICING_ERRORS as error:
            raise pricing_api_error(error) from None
        handle.woken()  # release now, not at the next tick
        return decided.to_dict()

    @router.post("/price-changes/{change_set_id}/reject", summary="Reject with a comment (not the proposer)")
    def reject(
        change_set_id: RowId, request: RejectRequest, who: Principal = require_role(Role.PRICE_APPROVER)
    ) -> dict[str, Any]:
        service = handle.need()
        try:
            decided = service.governance.reject(
                change_set_id, approver_of(who, handle.bootstrap_user), request.comment
            )
        except PRICING_ERRORS as error:
            raise pricing_api_error(error) from None
        return decided.to_dict()

    @router.post("/price-changes/{change_set_id}/rollback", summary="Restore the prior prices everywhere")
    async def rollback(
        change_set_id: RowId, request: RollbackRequest, who: Principal = require_role(Role.PRICE_APPROVER)
    ) -> dict[str, Any]:
        service = handle.need()
        actor = approver_of(who, handle.bootstrap_user)
        try:
            report = await handle.call(service.release.rollback(change_set_id, actor, request.reason))
            after = await run_in_threadpool(service.governance.get, change_set_id)
        except PRICING_ERRORS as error:
            raise pricing_api_error(error) from None
        if change_set_id not in report.rolled_back:
            # Not silently "rolled back": some channel kept the new price; a business exception is open.
            problem = (
                report.held.get(change_set_id)
                or after.hold_reason
                or "a channel did not take the prior price"
            )
            raise ApiError(502, "rollback_incomplete", f"change set {change_set_id}: {problem}")
        return {**after.to_dict(), "report": report.to_dict()}

    @router.post("/price-changes/{change_set_id}/retry", summary="Retry a held release (operator)")
    async def retry(change_set_id: RowId, who: Principal = require_role(Role.OPERATOR)) -> dict[str, Any]:
        service = handle.need()
        actor = approver_of(who, handle.bootstrap_user).user
        try:
            report = await handle.call(service.release.retry(change_set_id, actor))
            after = await run_in_threadpool(service.governance.get, change_set_id)
        except PRICING_ERRORS as error:
            raise pricing_api_error(error) from None
        return {**after.to_dict(), "report": report.to_dict()}

    @router.post("/price-changes/capture", summary="Read Odoo pricelist changes now (operator)")
    async def capture(_: Principal = require_role(Role.OPERATOR)) -> dict[str, Any]:
        service = handle.need()
        try:
            created = await handle.call(service.capture.poll())
        except PRICING_ERRORS as error:
            raise pricing_api_error(error) from None
        return {"items": [change_set.to_dict() for change_set in created], "count": len(created)}

    # -- history and audit ---------------------------------------------------------------------

    @router.get("/prices/{sku}/history", summary="Price versions of a SKU per channel")
    def history(
        sku: str,
        channel: str | None = Query(default=None, max_length=64),
        _: Principal = require_role(Role.VIEWER),
    ) -> dict[str, Any]:
        if not sku or len(sku) > 64 or any(c.isspace() for c in sku):
            raise ApiError(400, "invalid_request", "a SKU is 1-64 characters without spaces")
        return {"sku": sku, "channel": channel, "versions": handle.need().governance.history(sku, channel)}

    @router.get("/audit", summary="Audit trail rows (the newest `limit`, in chain order)")
    def audit(
        subject: str | None = Query(default=None, max_length=300, description="e.g. price-change:7"),
        limit: int = Query(default=200, ge=1, le=5000),
        _: Principal = require_role(Role.VIEWER),
    ) -> dict[str, Any]:
        rows = handle.need().audit_trail(subject)
        return {"items": rows[-limit:], "total": len(rows)}

    @router.get("/audit/verify", summary="Verify the hash chain; names the first bad row")
    def verify(_: Principal = require_role(Role.VIEWER)) -> dict[str, Any]:
        return handle.need().audit_verify().to_dict()

    @router.get("/audit/export", summary="Export the audit trail for finance (CSV or JSON)")
    def export(
        format: str = Query(default="json", pattern="^(json|csv)$"),
        subject: str | None = Query(default=None, max_length=300),
        _: Principal = require_role(Role.VIEWER),
    ) -> Response:
        body = handle.need().audit_export(format, subject)
        media = "text/csv; charset=utf-8" if format == "csv" else "application/json"
        filename = f"channelhub-audit.{format}"
        return Response(
            body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
        )

    return router
