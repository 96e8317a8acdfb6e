"""Shopify failures mapped onto the connector error hierarchy, at one boundary.

    ShopifyError (mixin: carries the GraphQL `errors`/`userErrors` it came from)
    ├── ShopifyThrottled        THROTTLED (transient; only seen by the client, never by callers)
    ├── ShopifyUnavailable      5xx, timeouts, connection errors, INTERNAL_SERVER_ERROR (transient)
    ├── ShopifyAuthError        401/403, ACCESS_DENIED (permanent)
    ├── ShopifyNotFound         404, unknown shop or API version (permanent)
    ├── ShopifyQueryError       GraphQL `errors`: syntax, unknown field, wrong type,
    │                           MAX_COST_EXCEEDED (permanent: the request itself is wrong)
    └── ShopifyUserError        a mutation's `userErrors` (permanent: the data was refused)

Top-level GraphQL `errors` mean the request was not executed (or not as asked); `userErrors`
mean it ran and Shopify refused the data. Operations that can report per-item outcomes (inventory)
read `userErrors` themselves instead of raising.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from channelhub.connectors.errors import (
    AuthenticationError,
    ConnectorError,
    NotFoundError,
    ThrottledError,
    UnavailableError,
    ValidationFailed,
)

SYSTEM = "shopify"


@dataclass(frozen=True)
class UserError:
    """One entry of a mutation's `userErrors`: `field` is the path into the input."""

    message: str
    field: tuple[str, ...] = ()
    code: str | None = None

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> UserError:
        field = raw.get("field") or ()
        return cls(
            message=str(raw.get("message") or ""),
            field=tuple(str(part) for part in field),
            code=str(raw["code"]) if raw.get("code") else None,
        )


class ShopifyError(ConnectorError):
    """A Shopify Admin API call failed."""

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("system", SYSTEM)
        super().__init__(message, **kwargs)


class ShopifyThrottled(ShopifyError, ThrottledError):
    """Shopify answered THROTTLED: the cost bucket did not hold the query's requested cost."""


class ShopifyUnavailable(ShopifyError, UnavailableError):
    """Shopify could not be reached or answered with a server error."""


class ShopifyAuthError(ShopifyError, AuthenticationError):
    """The access token was refused or lacks a required scope."""


class ShopifyNotFound(ShopifyError, NotFoundError):
    """The shop, API version or referenced record does not exist."""


class ShopifyQueryError(ShopifyError, ValidationFailed):
    """Shopify refused the GraphQL document or its variables (top-level `errors`)."""


class ShopifyUserError(ShopifyError, ValidationFailed):
    """A mutation ran and Shopify refused the data (`userErrors`)."""

    def __init__(self, operation: str, user_errors: Sequence[UserError]) -> None:
        summary = "; ".join(
            f"{'.'.join(e.field) or '-'}: {e.message}" + (f" ({e.code})" if e.code else "")
            for e in user_errors
        )
        super().__init__(summary or "user error", operation=operation, details=list(user_errors))
        self.user_errors = list(user_errors)


def error_codes(errors: Sequence[Mapping[str, Any]]) -> list[str]:
    return [str((e.get("extensions") or {}).get("code") or "") for e in errors]


def from_graphql_errors(
    errors: Sequence[Mapping[str, Any]], *, operation: str, status: int | None = None
) -> ShopifyError:
    """The exception for a response whose top-level `errors` is non-empty."""
    codes = set(error_codes(errors))
    message = "; ".join(str(e.get("message") or "") for e in errors) or "GraphQL error"
    kwargs: dict[str, Any] = {"operation": operation, "status": status, "details": list(errors)}
    if "THROTTLED" in codes:
        return ShopifyThrottled(message, **kwargs)
    if codes & {"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"}:
        return ShopifyUnavailable(message, **kwargs)
    if codes & {"ACCESS_DENIED", "UNAUTHORIZED", "FORBIDDEN"}:
        return ShopifyAuthError(message, **kwargs)
    if "NOT_FOUND" in codes:
        return ShopifyNotFound(message, **kwargs)
    return ShopifyQueryError(message, **kwargs)


def from_http_status(status: int, body: str, *, operation: str) -> ShopifyError | None:
    """The exception for a non-2xx HTTP answer (None when the status is a success)."""
    if 200 <= status < 300:
        return None
    snippet = body.strip().replace("\n", " ")[:300]
    kwargs: dict[str, Any] = {"operation": operation, "status": status, "details": snippet}
    message = f"HTTP {status}: {snippet}" if snippet else f"HTTP {status}"
    if status == 429:
        return ShopifyThrottled(message, **kwargs)
    if status in (401, 403):
        return ShopifyAuthError(message, **kwargs)
    if status == 404:
        return ShopifyNotFound(message, **kwargs)
    if status >= 500 or status == 408:
        return ShopifyUnavailable(message, **kwargs)
    return ShopifyQueryError(message, **kwargs)


def raise_user_errors(operation: str, payload: Mapping[str, Any] | None, key: str = "userErrors") -> None:
    """Raise `ShopifyUserError` when a mutation payload carries user errors."""
    raw = (payload or {}).get(key) or []
    if raw:
        raise ShopifyUserError(operation, [UserError.from_payload(e) for e in raw])
