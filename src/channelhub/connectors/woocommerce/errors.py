"""WooCommerce answers → `channelhub.connectors.errors`, with `transient` telling the truth.

    429 (host limit)                       ThrottledError(retry_after from Retry-After)
    5xx without a WordPress error code,
    HTML pages, timeouts, refused sockets   UnavailableError (transient)
    5xx *with* a WooCommerce error code    ValidationFailed: WooCommerce wraps business refusals
                                           (e.g. `woocommerce_rest_cannot_create_order_refund`) in 500
    401 / 403                              AuthenticationError
    404, or `*_invalid_id`                 NotFoundError (an update of an unknown id answers 400)
    other 4xx                              ValidationFailed (incl. 413 batch too large)

The WordPress error code stays available as `error.details["code"]`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from channelhub.connectors.errors import (
    AuthenticationError,
    ConnectorError,
    NotFoundError,
    ThrottledError,
    UnavailableError,
    ValidationFailed,
)

SYSTEM = "woocommerce"
GENERIC_SERVER_CODES = {"internal_server_error", "rate_limit_exceeded", ""}


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` as delay-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def wp_code(body: Any) -> str:
    return str(body.get("code", "")) if isinstance(body, dict) else ""


def error_from_response(status: int, body: Any, retry_after: str | None, operation: str) -> ConnectorError:
    code = wp_code(body)
    message = str(body.get("message")) if isinstance(body, dict) and body.get("message") else f"HTTP {status}"
    details = {"code": code, "data": body.get("data") if isinstance(body, dict) else None}
    common: dict[str, Any] = {"system": SYSTEM, "operation": operation, "status": status, "details": details}
    if status == 429:
        return ThrottledError(message, retry_after=retry_after_seconds(retry_after), **common)
    if status >= 500:
        if code not in GENERIC_SERVER_CODES:
            return ValidationFailed(f"{code}: {message}", **common)
        error = UnavailableError(message, **common)
        error.details["retry_after"] = retry_after_seconds(retry_after)
        # A 503 maintenance page is served before WordPress runs: the request was not applied.
        error.details["sent"] = not (status == 503 and retry_after is not None and not code)
        return error
    if status in (401, 403):
        return AuthenticationError(f"{code}: {message}", **common)
    if status == 404 or code.endswith("_invalid_id"):
        return NotFoundError(f"{code}: {message}", **common)
    return ValidationFailed(f"{code}: {message}" if code else message, **common)


def item_error(error: Any, operation: str) -> ConnectorError:
    """A per-item `{id, error: {code, message, data}}` entry of a batch answer."""
    data = error.get("data") if isinstance(error, dict) else None
    status = (
        int(data.get("status", 400))
        if isinstance(data, dict) and str(data.get("status", "")).isdigit()
        else 400
    )
    return error_from_response(status, error if isinstance(error, dict) else {}, None, operation)
