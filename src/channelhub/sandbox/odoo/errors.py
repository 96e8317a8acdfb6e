"""Exceptions the emulated Odoo raises, named and shaped like Odoo's own.

Odoo serializes an exception as ``{name, message, arguments, context, debug}`` where ``name`` is the
fully qualified Python class (``odoo.exceptions.UserError``, ``builtins.ValueError``,
``psycopg2.errors.SerializationFailure``). Each class here carries the module name Odoo's class has,
so the wire shape comes out identical without importing Odoo.

Version notes: ``AccessDenied`` is a plain ``Exception`` in Odoo <= 17 and a ``UserError`` subclass
with HTTP status 403 from 18 on; the wire ``name`` is the same either way, only the JSON-2 status
(19.0 only) depends on it.
"""

from __future__ import annotations

from typing import Any


class OdooException(Exception):
    """Base of every emulated Odoo-side failure; `qualified_name` is what goes on the wire."""

    wire_module = "odoo.exceptions"
    http_status = 500
    #: Odoo suppresses the traceback of authentication failures (AccessDenied).
    suppress_traceback = False

    def __init__(self, message: str, *extra_args: Any) -> None:
        super().__init__(message, *extra_args)
        self.message = message

    @property
    def qualified_name(self) -> str:
        return f"{self.wire_module}.{type(self).__name__}"

    def __str__(self) -> str:
        return self.message


class UserError(OdooException):
    http_status = 422


class ValidationError(UserError):
    pass


class MissingError(UserError):
    http_status = 404


class RedirectWarning(UserError):
    pass


class AccessError(UserError):
    http_status = 403


class AccessDenied(OdooException):
    http_status = 403
    suppress_traceback = True

    def __init__(self, message: str = "Access Denied") -> None:
        super().__init__(message)


class SessionExpiredException(OdooException):
    """Raised by web routes (``/web/dataset/call_kw``) without a valid session cookie."""

    wire_module = "odoo.http"
    http_status = 401

    def __init__(self, message: str = "Session expired") -> None:
        super().__init__(message)


class PythonError(OdooException):
    """A builtin Python error raised inside Odoo code (ValueError, TypeError, KeyError...)."""

    wire_module = "builtins"

    def __init__(self, python_class: str, message: str) -> None:
        super().__init__(message)
        self.python_class = python_class

    @property
    def qualified_name(self) -> str:
        return f"{self.wire_module}.{self.python_class}"


def value_error(message: str) -> PythonError:
    return PythonError("ValueError", message)


def type_error(message: str) -> PythonError:
    return PythonError("TypeError", message)


class DatabaseError(OdooException):
    """A psycopg2 error surfacing through Odoo (bad SQL literal, serialization failure...)."""

    wire_module = "psycopg2.errors"

    def __init__(self, pg_class: str, message: str, wire_module: str = "psycopg2.errors") -> None:
        super().__init__(message)
        self.pg_class = pg_class
        self.wire_module = wire_module

    @property
    def qualified_name(self) -> str:
        return f"{self.wire_module}.{self.pg_class}"


def serialization_failure() -> DatabaseError:
    return DatabaseError("SerializationFailure", "could not serialize access due to concurrent update\n")


class HttpError(Exception):
    """A werkzeug HTTP exception (JSON-2 and web routes): carries status and description."""

    def __init__(self, status: int, werkzeug_name: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.werkzeug_name = werkzeug_name
        self.description = description


ODOO_FRAMES = (
    '  File "/usr/lib/python3/dist-packages/odoo/http.py", line 1788, in _serve_db\n'
    "    return service_model.retrying(self._serve_ir_http, self.env)\n"
    '  File "/usr/lib/python3/dist-packages/odoo/service/model.py", line 133, in retrying\n'
    "    result = func()\n"
    '  File "/usr/lib/python3/dist-packages/odoo/api.py", line 466, in call_kw\n'
    "    result = _call_kw_multi(method, model, args, kwargs)\n"
)


def fake_traceback(exc: BaseException) -> str:
    """The ``debug`` field: a traceback in Odoo's format (Odoo's frames, not the emulator's)."""
    name = exc.qualified_name if isinstance(exc, OdooException) else type(exc).__name__
    name = name.removeprefix("builtins.")  # Python prints builtin exceptions unqualified
    if isinstance(exc, OdooException) and exc.suppress_traceback:
        return f"{name}: {exc}\n"
    return f"Traceback (most recent call last):\n{ODOO_FRAMES}{name}: {exc}\n"


def serialize_exception(exc: BaseException) -> dict[str, Any]:
    """Odoo's ``odoo.http.serialize_exception``: the JSON-RPC ``error.data`` and the JSON-2 body."""
    if isinstance(exc, OdooException):
        name = exc.qualified_name
        arguments: list[Any] = list(exc.args)
    else:
        name = f"builtins.{type(exc).__name__}"
        arguments = [str(a) for a in exc.args]
    return {
        "name": name,
        "debug": fake_traceback(exc),
        "message": str(exc),
        "arguments": arguments,
        "context": {},
    }


def unknown_database(db: Any) -> DatabaseError:
    return DatabaseError(
        "OperationalError", f'FATAL:  database "{db}" does not exist\n', wire_module="psycopg2"
    )
