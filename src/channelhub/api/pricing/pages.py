"""Dashboard pages for pricing governance (`/dashboard/prices`): change sets waiting for a
decision with their blast radius, scheduled releases, one change set with approve / reject /
rollback, price history per SKU, and the audit trail with its verification.

Forms post with the session's CSRF token (checked by the role guard, as on every dashboard form);
the same rules as the API apply: the acting user is the logged-in user, the proposer cannot
decide their own change set.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from channelhub.api.errors import ApiError
from channelhub.api.operations.pagination import RowId
from channelhub.api.pricing.access import PRICING_ERRORS, PricingHandle, approver_of, pricing_api_error
from channelhub.api.pricing.rendering import render
from channelhub.api.pricing.routes import parse_status
from channelhub.api.security import Principal, Role, require_page_role
from channelhub.domain.price_changes import ChangeSetStatus

TABS = (
    ("pending_approval", "Waiting for approval"),
    ("scheduled", "Scheduled"),
    ("held", "Held"),
    ("published", "Published"),
    ("", "All"),
)
DONE = {
    "approved": "Approved.",
    "rejected": "Rejected: the proposer sees your comment.",
    "rolled_back": "Rolled back: the prior prices are back on every channel.",
    "retried": "Retried: the release ran again (see the status and the journey below).",
}


async def _form(request: Request) -> dict[str, str]:
    parsed = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


def _summary(change_set: dict[str, Any]) -> dict[str, Any]:
    """A list row: the change set plus what a reviewer looks at first."""
    changes = [float(i["change_percent"]) for i in change_set["items"] if i["change_percent"] is not None]
    releases = sorted({i["release_at"] for i in change_set["items"] if i["release_at"]})
    return {
        **change_set,
        "skus": len({i["sku"] for i in change_set["items"]}),
        "largest_change": max(changes, key=abs) if changes else None,
        "next_release": releases[0] if releases else None,
    }


def pricing_pages_router(handle: PricingHandle) -> APIRouter:
    router = APIRouter(prefix="/dashboard/prices", include_in_schema=False)

    def fail(who: Principal, error: ApiError, title: str) -> HTMLResponse:
        return render("message.html", who, error.status, title=title, message=error.message)

    @router.get("")
    def change_sets_page(
        status: str | None = Query(default="pending_approval", max_length=40),
        who: Principal = require_page_role(Role.VIEWER),
    ) -> HTMLResponse:
        try:
            wanted = parse_status(status)
            service = handle.need()
        except ApiError as error:
            return fail(who, error, "Prices")
        rows = [_summary(c.to_dict()) for c in service.governance.change_sets(wanted, 200)]
        scheduled = []
        if wanted is ChangeSetStatus.PENDING_APPROVAL:  # the review page also shows what goes out next
            scheduled = [
                _summary(c.to_dict()) for c in service.governance.change_sets(ChangeSetStatus.SCHEDULED, 20)
            ]
        return render(
            "prices.html", who, tabs=TABS, status=status or "", change_sets=rows, scheduled=scheduled
        )

    @router.get("/history")
    def find_history(
        sku: str = Query(default="", max_length=64), _: Principal = require_page_role(Role.VIEWER)
    ) -> Response:
        if not sku.strip():
            return RedirectResponse("/dashboard/prices", status_code=303)
        return RedirectResponse(f"/dashboard/prices/history/{quote(sku.strip(), safe='')}", status_code=303)

    @router.get("/history/{sku}")
    def history_page(sku: str, who: Principal = require_page_role(Role.VIEWER)) -> HTMLResponse:
        try:
            versions = handle.need().governance.history(sku[:64])
        except ApiError as error:
            return fail(who, error, f"Price history of {sku}")
        channels: dict[str, list[dict[str, Any]]] = {}
        for version in versions:
            channels.setdefault(version["channel"], []).append(version)
        return render("price_history.html", who, sku=sku, channels=channels)

    @router.get("/audit")
    def audit_page(
        subject: str | None = Query(default=None, max_length=300),
        who: Principal = require_page_role(Role.VIEWER),
    ) -> HTMLResponse:
        try:
            service = handle.need()
        except ApiError as error:
            return fail(who, error, "Audit trail")
        report = service.audit_verify().to_dict()
        rows = service.audit_trail(subject or None)
        return render("price_audit.html", who, report=report, rows=list(reversed(rows[-300:])),
                      total=len(rows), subject=subject or "")  # fmt: skip

    @router.get("/{change_set_id}")
    async def change_set_page(
        change_set_id: RowId,
        done: str | None = Query(default=None, max_length=20),
        who: Principal = require_page_role(Role.VIEWER),
    ) -> HTMLResponse:
        try:
            service = handle.need()
            change_set = (await run_in_threadpool(service.governance.get, change_set_id)).to_dict()
        except ApiError as error:
            return fail(who, error, f"Change set {change_set_id}")
        except PRICING_ERRORS as error:
            return fail(who, pricing_api_error(error), f"Change set {change_set_id}")
        preview: dict[str, Any] | None = None
        preview_error = None
        try:
            preview = await handle.call(service.governance.preview(change_set_id))
        except PRICING_ERRORS as error:  # Odoo unreachable: the page still shows the change set
            preview_error = pricing_api_error(error).message
        trail = await run_in_threadpool(service.audit_trail, f"price-change:{change_set_id}")
        user = approver_of(who, handle.bootstrap_user).user
        return render(
            "price_change.html", who, c=change_set, preview=preview, preview_error=preview_error,
            trail=trail, notice=DONE.get(done or ""), is_proposer=user == change_set["proposed_by"],
            rollback_allowed=change_set["status"] in ("scheduled", "canary", "held", "published", "reverted"),
        )  # fmt: skip

    async def decide(request: Request, change_set_id: int, who: Principal, approve: bool) -> Response:
        """Approve or reject with the form's comment (the service applies the same rules to both)."""
        comment = (await _form(request)).get("comment", "")[:2000]
        title = "Not approved" if approve else "Not rejected"
        try:
            service = handle.need()
            act = service.governance.approve if approve else service.governance.reject
            await run_in_threadpool(act, change_set_id, approver_of(who, handle.bootstrap_user), comment)
        except ApiError as error:
            return fail(who, error, title)
        except PRICING_ERRORS as error:
            return fail(who, pricing_api_error(error), title)
        if approve:
            handle.woken()
        done = "approved" if approve else "rejected"
        return RedirectResponse(f"/dashboard/prices/{change_set_id}?done={done}", status_code=303)

    @router.post("/{change_set_id}/approve")
    async def approve(
        request: Request, change_set_id: RowId, who: Principal = require_page_role(Role.PRICE_APPROVER)
    ) -> Response:
        return await decide(request, change_set_id, who, approve=True)

    @router.post("/{change_set_id}/reject")
    async def reject(
        request: Request, change_set_id: RowId, who: Principal = require_page_role(Role.PRICE_APPROVER)
    ) -> Response:
        return await decide(request, change_set_id, who, approve=False)

    @router.post("/{change_set_id}/rollback")
    async def rollback(
        request: Request, change_set_id: RowId, who: Principal = require_page_role(Role.PRICE_APPROVER)
    ) -> Response:
        reason = (await _form(request)).get("reason", "")[:2000]
        try:
            service = handle.need()
            report = await handle.call(
                service.release.rollback(change_set_id, approver_of(who, handle.bootstrap_user), reason)
            )
        except ApiError as error:
            return fail(who, error, "Not rolled back")
        except PRICING_ERRORS as error:
            return fail(who, pricing_api_error(error), "Not rolled back")
        if change_set_id not in report.rolled_back:
            problem = report.held.get(change_set_id, "a channel did not take the prior price")
            return fail(
                who,
                ApiError(502, "rollback_incomplete", f"Rollback incomplete: {problem}"),
                "Rollback incomplete",
            )
        return RedirectResponse(f"/dashboard/prices/{change_set_id}?done=rolled_back", status_code=303)

    @router.post("/{change_set_id}/retry")
    async def retry(change_set_id: RowId, who: Principal = require_page_role(Role.OPERATOR)) -> Response:
        """A held release goes back on schedule and what is due is published now."""
        try:
            service = handle.need()
            actor = approver_of(who, handle.bootstrap_user).user
            await handle.call(service.release.retry(change_set_id, actor))
        except ApiError as error:
            return fail(who, error, "Not retried")
        except PRICING_ERRORS as error:
            return fail(who, pricing_api_error(error), "Not retried")
        return RedirectResponse(f"/dashboard/prices/{change_set_id}?done=retried", status_code=303)

    return router
