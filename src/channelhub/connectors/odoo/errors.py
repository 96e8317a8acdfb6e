"""Odoo failures, translated at one boundary into one hierarchy.

    OdooError (ConnectorError)
    ├── OdooAccessDenied       wrong login, password or API key          permanent (AuthenticationError)
    ├── OdooAccessError        the user lacks rights on a model/record   permanent
    ├── OdooUserError          a business rule refused the call          permanent
    │   ├── OdooValidationError  a constraint failed                     permanent (ValidationFailed)
    │   └── OdooMissingError     the record does not exist (any more)    permanent (NotFoundError)
    ├── OdooNotFound           unknown route, model or method (HTTP 404) permanent (NotFoundError)
    ├── OdooServerError        any other server-side exception           permanent
    ├── OdooProtocolError      an answer we cannot decode                permanent
    ├── OdooSerializationFailure  "could not serialize access"           transient
    ├── OdooUnavailable        connection failure, timeout, 5xx          transient (UnavailableError)
    │   └── OdooTimeout        no answer in time (the call may have been applied!)
    └── OdooBusy               503: all workers busy / too many requests transient (ThrottledError)

Odoo reports errors three ways: XML-RPC `Fault`s (int faultCode on /xmlrpc/2: 1 generic with a
traceback, 2 UserError family, 3 AccessDenied, 4 AccessError), JSON-RPC error objects (HTTP 200,
`error.code` 200 up to 18.0 and 0 from 18.1, `error.data.name` the exception class) and JSON-2 error
bodies (real HTTP status, the same `name`/`message`/`debug` object). The parsers below read all three
and every error keeps the model/method it came from and Odoo's own `name` and `message`.

`may_have_applied` says whether the server could have committed the call before failing (a timeout,
a 502/504 from a proxy): non-idempotent calls must reconcile before retrying those.
"""

from __future__ import annotations

import re
import xmlrpc.client
from collections.abc import Mapping
from typing import Any

from channelhub.connectors.errors import (
    AuthenticationError,
    ConnectorError,
    NotFoundError,
    PermanentError,
    ThrottledError,
    TransientError,
    UnavailableError,
    ValidationFailed,
)
from channelhub.resilience import CircuitOpenError

SYSTEM = "odoo"

# Exception class names as Odoo serializes them (`data.name`), up to the last dot.
_ACCESS_DENIED = "AccessDenied"
_ACCESS_ERROR = "AccessError"
_VALIDATION = "ValidationError"
_MISSING = "MissingError"
_USER_ERRORS = frozenset({"UserError", "RedirectWarning", "Warning", "except_orm", "CacheMiss"})
# PostgreSQL concurrency failures: the transaction was rolled back, a retry is the cure.
_SERIALIZATION_HINTS = (
    "could not serialize access",
    "serializationfailure",
    "transactionrollbackerror",
    "deadlock detected",
    "lock not available",
    "could not obtain lock",
)
_CONNECTION_LOST = frozenset({"OperationalError", "InterfaceError"})
_MISSING_HINTS = ("record does not exist or has been deleted",)


class OdooError(ConnectorError):
    """Odoo refused or failed a call."""

    def __init__(
        self,
        message: str | None = None,
        *,
        model: str = "",
        method: str = "",
        odoo_name: str = "",
        odoo_message: str = "",
        code: int | str | None = None,
        status: int | None = None,
        debug: str = "",
        retry_after: float | None = None,
        may_have_applied: bool = False,
    ) -> None:
        operation = f"{model}.{method}" if model and method else (method or model)
        ConnectorError.__init__(
            self, message, system=SYSTEM, operation=operation, status=status, details=odoo_name or None
        )
        self.model = model
        self.method = method
        self.odoo_name = odoo_name
        self.odoo_message = odoo_message or self.message
        self.code = code
        self.debug = debug
        self.retry_after = retry_after
        self.may_have_applied = may_have_applied


class OdooAccessDenied(OdooError, AuthenticationError):
    """Odoo refused the credentials (wrong login, password or API key)."""


class OdooAccessError(OdooError, PermanentError):
    """The Odoo user has no access to this model or record."""


class OdooUserError(OdooError, PermanentError):
    """Odoo refused the operation for a business reason."""


class OdooValidationError(OdooUserError, ValidationFailed):
    """An Odoo constraint refused the values."""


class OdooMissingError(OdooUserError, NotFoundError):
    """The Odoo record does not exist or has been deleted."""


class OdooNotFound(OdooError, NotFoundError):
    """Odoo has no such route, model or method."""


class OdooServerError(OdooError, PermanentError):
    """Odoo failed with an unexpected server-side exception."""


class OdooProtocolError(OdooError, PermanentError):
    """Odoo's answer could not be decoded."""


class OdooSerializationFailure(OdooError, TransientError):
    """A concurrent update made Odoo's transaction fail; it was rolled back and can be retried."""


class OdooUnavailable(OdooError, UnavailableError):
    """Odoo could not be reached or answered with a server error."""


class OdooTimeout(OdooUnavailable):
    """Odoo did not answer in time; the call may still have been applied."""


class OdooBusy(OdooError, ThrottledError):
    """Odoo is overloaded (all workers busy) and asked us to come back later."""


def _short_name(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _looks_like_serialization_failure(*texts: str) -> bool:
    joined = " ".join(texts).lower()
    return any(hint in joined for hint in _SERIALIZATION_HINTS)


def classify(
    odoo_name: str,
    message: str,
    *,
    model: str = "",
    method: str = "",
    code: int | str | None = None,
    status: int | None = None,
    debug: str = "",
) -> OdooError:
    """The `OdooError` subclass for an exception class name (`odoo.exceptions.AccessError`)."""
    short = _short_name(odoo_name) if odoo_name else ""
    kwargs: dict[str, Any] = {
        "model": model,
        "method": method,
        "odoo_name": odoo_name,
        "odoo_message": message,
        "code": code,
        "status": status,
        "debug": debug,
    }
    text = message or odoo_name or "Odoo Server Error"
    if _looks_like_serialization_failure(odoo_name, message):
        return OdooSerializationFailure(text, **kwargs)
    if short in _CONNECTION_LOST:
        # The database connection broke: the transaction was rolled back, try again.
        return OdooUnavailable(text, **kwargs)
    if short == _ACCESS_DENIED:
        return OdooAccessDenied(text, **kwargs)
    if short == _ACCESS_ERROR:
        return OdooAccessError(text, **kwargs)
    if short == _VALIDATION:
        return OdooValidationError(text, **kwargs)
    if short == _MISSING:
        return OdooMissingError(text, **kwargs)
    if short in _USER_ERRORS:
        return OdooUserError(text, **kwargs)
    if short == "SessionExpiredException":
        return OdooAccessDenied(text, **kwargs)
    if odoo_name.startswith("werkzeug.exceptions."):
        kwargs.pop("status")
        return from_http_status(status or 500, text, **kwargs)
    return OdooServerError(text, **kwargs)


def from_http_status(
    status: int,
    message: str = "",
    *,
    retry_after: float | None = None,
    **context: Any,
) -> OdooError:
    """An error for an HTTP status without an Odoo body (proxy errors, busy workers)."""
    context.setdefault("status", status)
    text = message or f"HTTP {status}"
    if status in (503, 429):
        return OdooBusy(text, retry_after=retry_after, **context)
    if status in (502, 504):
        # A proxy gave up waiting: Odoo may well have committed the call behind it.
        return OdooUnavailable(text, may_have_applied=True, **context)
    if status >= 500:
        return OdooUnavailable(text, **context)
    if status == 401:
        return OdooAccessDenied(text, **context)
    if status == 403:
        return OdooAccessError(text, **context)
    if status == 404:
        return OdooNotFound(text, **context)
    if status == 422:
        return OdooValidationError(text, **context)
    return OdooProtocolError(text, **context)


def from_fault(fault: xmlrpc.client.Fault, *, model: str = "", method: str = "") -> OdooError:
    """Translate an XML-RPC Fault from /xmlrpc/2 (int codes) or legacy /xmlrpc (string codes)."""
    code = fault.faultCode
    text = str(fault.faultString or "")
    context: dict[str, Any] = {"model": model, "method": method, "code": code}
    if code in (3, "AccessDenied"):
        return OdooAccessDenied(text or "Access Denied", odoo_name="odoo.exceptions.AccessDenied", **context)
    if code == 4:
        return OdooAccessError(text, odoo_name="odoo.exceptions.AccessError", **context)
    if code == 2:
        # /xmlrpc/2 folds UserError, ValidationError and MissingError into code 2 with the bare message.
        if any(hint in text.lower() for hint in _MISSING_HINTS):
            return OdooMissingError(text, odoo_name="odoo.exceptions.MissingError", **context)
        return OdooUserError(text, odoo_name="odoo.exceptions.UserError", **context)
    if isinstance(code, str) and code.startswith("warning -- "):
        # Legacy /xmlrpc: 'warning -- AccessError\n\n<message>'.
        name, _, message = code[len("warning -- ") :].partition("\n\n")
        return classify(f"odoo.exceptions.{name.strip()}", message.strip() or text, **context)
    # Code 1 (or a legacy exception text): faultString is the formatted traceback; its last line
    # names the exception, e.g. "psycopg2.errors.SerializationFailure: could not serialize access".
    name, message = _exception_from_traceback(text)
    return classify(name, message, debug=text, **context)


_TRACEBACK_LAST = re.compile(r"^(?P<name>[A-Za-z_][\w.]*)(?::\s?(?P<message>.*))?$")


def _exception_from_traceback(text: str) -> tuple[str, str]:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return "", ""
    last = lines[-1].strip()
    match = _TRACEBACK_LAST.match(last)
    if match is None:
        return "", last
    name, message = match.group("name"), match.group("message")
    if "." in name or message is not None:
        return name, (message or "").strip()
    return "", last


def from_error_object(
    error: Mapping[str, Any], *, model: str = "", method: str = "", status: int | None = None
) -> OdooError:
    """Translate a JSON-RPC `error` member or a JSON-2 error body."""
    data = error.get("data") if isinstance(error.get("data"), Mapping) else None
    body: Mapping[str, Any] = data if data is not None else error
    name = str(body.get("name") or "")
    message = str(body.get("message") or error.get("message") or "")
    debug = str(body.get("debug") or "")
    code = error.get("code") if data is not None else None
    if code == 100 and not name:
        name = "odoo.http.SessionExpiredException"
    if not name and code == 404:
        return OdooNotFound(message or "404: Not Found", model=model, method=method, code=code, status=status)
    if not name and status is not None and status >= 400:
        return from_http_status(status, message, model=model, method=method, code=code)
    return classify(name, message, model=model, method=method, code=code, status=status, debug=debug)


def is_transient(error: BaseException) -> bool:
    """The retry predicate the connector uses: Odoo's own classification, timeouts are transient."""
    if isinstance(error, ConnectorError):
        return error.transient
    return isinstance(error, TimeoutError | ConnectionError)


def safe_to_retry(error: BaseException) -> bool:
    """Transient *and* certainly not applied: what a non-idempotent call may retry blindly."""
    if isinstance(error, OdooError):
        return error.transient and not error.may_have_applied
    # The breaker refused to send the call at all.
    return isinstance(error, CircuitOpenError)
