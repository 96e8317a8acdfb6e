"""Jinja2 rendering of the dashboard's pages and fragments (templates live in this package)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from channelhub.api.security import Principal, sees_personal_data

PACKAGE_DIR = Path(__file__).parent
STATIC_DIR = PACKAGE_DIR / "static"
STATIC_URL = "/dashboard/static"

# Pages load only what this server serves: no CDN, no inline script, no framing by other sites.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 90:
        return f"{seconds:.1f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _unix(value: float | None) -> str:
    if value is None:
        return "–"
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _ms(value: float | None) -> str:
    return "–" if value is None else _age(value / 1000.0)


def _when(value: str | None) -> str:
    """An ISO time as people read it (UTC, to the second)."""
    if not value:
        return "–"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _rule(value: Any) -> str:
    """A rule object from the explanation (`{"kind": "shared"}`) as a short phrase."""
    if isinstance(value, dict):
        return ", ".join(f"{key.replace('_', ' ')} {item}" for key, item in value.items() if item is not None)
    return str(value)


_environment = Environment(
    loader=FileSystemLoader(PACKAGE_DIR / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters.update(age=_age, unix=_unix, ms=_ms, when=_when, rule=_rule)


def render(template: str, who: Principal | None, status_code: int = 200, **values: Any) -> HTMLResponse:
    context = {
        "static": STATIC_URL,
        "who": who,
        "csrf_token": who.csrf_token if who is not None else None,
        "can_act": who is not None and who.role.value in ("operator", "admin"),
        "sees_personal_data": who is not None and sees_personal_data(who.role),
        **values,
    }
    body = _environment.get_template(template).render(context)
    return HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)
