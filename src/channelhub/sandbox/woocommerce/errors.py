"""WordPress REST errors as WooCommerce answers them: `{"code", "message", "data": {"status"}}`.

Every refusal of the emulator goes through `WPError`, so a client never sees anything but the
shape a real WordPress site sends (no tracebacks, no framework error pages).
"""

from __future__ import annotations

from typing import Any


class WPError(Exception):
    """A `WP_Error` on its way to the client."""

    def __init__(self, code: str, message: str, status: int, **data: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.data = data

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "data": {"status": self.status, **self.data}}


def invalid_param(name: str, reason: str, detail_code: str) -> WPError:
    """WordPress core's shape for a request argument that fails schema validation."""
    return WPError(
        "rest_invalid_param",
        f"Invalid parameter(s): {name}",
        400,
        params={name: reason},
        details={name: {"code": detail_code, "message": reason, "data": None}},
    )


def missing_params(names: list[str]) -> WPError:
    return WPError(
        "rest_missing_callback_param", f"Missing parameter(s): {', '.join(names)}", 400, params=names
    )


def no_route() -> WPError:
    return WPError("rest_no_route", "No route was found matching the URL and request method.", 404)


def invalid_id(post_type: str, status: int = 404) -> WPError:
    # WC_REST_CRUD_Controller answers 404 on read/delete and 400 on update for an unknown id.
    return WPError(f"woocommerce_rest_{post_type}_invalid_id", "Invalid ID.", status)


def not_allowed(action: str) -> WPError:
    """The permission-check refusal an anonymous (unauthenticated) request gets: status 401."""
    codes = {
        "list": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
        "read": ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
        "create": ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
        "edit": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
        "delete": ("woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource."),
        "batch": (
            "woocommerce_rest_cannot_batch",
            "Sorry, you are not allowed to batch manipulate this resource.",
        ),
    }
    code, message = codes[action]
    return WPError(code, message, 401)
