"""Rendering of the pricing pages: this package's templates extend the dashboard's `base.html`
(one loader searches both directories), with the dashboard's security headers and static files."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from channelhub.api.dashboard.rendering import PACKAGE_DIR as DASHBOARD_DIR
from channelhub.api.dashboard.rendering import SECURITY_HEADERS, STATIC_URL
from channelhub.api.security import Principal, Role, grants

TEMPLATES = Path(__file__).parent / "templates"

# Badge classes of the dashboard's stylesheet, by change set status (green, blue, amber, red).
STATUS_BADGE = {
    "pending_approval": "lagging",
    "scheduled": "syncing",
    "canary": "syncing",
    "published": "in_sync",
    "held": "failing",
    "rejected": "failing",
    "rolled_back": "lagging",
    "reverted": "syncing",
}


def _when(value: str | datetime | None) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        parsed = value
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _money(value: str | Decimal | None) -> str:
    if value is None or value == "":
        return "–"
    try:
        return f"{Decimal(str(value)):,.2f}"
    except InvalidOperation:
        return str(value)


def _label(value: str | None) -> str:
    return "–" if not value else value.replace("_", " ")


_environment = Environment(
    loader=ChoiceLoader([FileSystemLoader(TEMPLATES), FileSystemLoader(DASHBOARD_DIR / "templates")]),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters.update(when=_when, money=_money, label=_label)
_environment.globals.update(status_badge=STATUS_BADGE)


def render(template: str, who: Principal | None, status_code: int = 200, **values: Any) -> HTMLResponse:
    context = {
        "static": STATIC_URL,
        "who": who,
        "csrf_token": who.csrf_token if who is not None else None,
        "page": "prices",
        "can_decide": who is not None and grants(who.role, Role.PRICE_APPROVER),
        "can_act": who is not None and grants(who.role, Role.OPERATOR),
        **values,
    }
    body = _environment.get_template(template).render(context)
    return HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)
