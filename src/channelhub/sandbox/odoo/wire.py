"""Byte-level shapes of Odoo's answers: XML-RPC responses and faults, JSON-RPC envelopes, JSON-2 errors."""

from __future__ import annotations

import json
import xmlrpc.client
from datetime import date, datetime
from typing import Any

from starlette.responses import Response

from channelhub.sandbox.odoo.errors import (
    AccessDenied,
    AccessError,
    HttpError,
    MissingError,
    OdooException,
    RedirectWarning,
    SessionExpiredException,
    UserError,
    fake_traceback,
    serialize_exception,
)
from channelhub.sandbox.odoo.versions import OdooVersion

# xmlrpc faultCode values of /xmlrpc/2 (odoo/addons/base/controllers/rpc.py)
RPC_FAULT_CODE_APPLICATION_ERROR = 1
RPC_FAULT_CODE_WARNING = 2
RPC_FAULT_CODE_ACCESS_DENIED = 3
RPC_FAULT_CODE_ACCESS_ERROR = 4

BAD_REQUEST_PAGE = (
    "<!doctype html>\n<html lang=en>\n<title>400 Bad Request</title>\n<h1>Bad Request</h1>\n<p>{}</p>\n"
)


def xmlrpc_response(result: Any) -> Response:
    """``xmlrpc.client.dumps((result,), methodresponse=1, allow_none=False)``: None cannot go out."""
    try:
        body = xmlrpc.client.dumps((_xmlrpc_safe(result),), methodresponse=True, allow_none=False)
    except (TypeError, OverflowError) as exc:
        body = xmlrpc.client.dumps(xmlrpc_fault_int(exc))
    return Response(body, media_type="text/xml")


def _xmlrpc_safe(value: Any) -> Any:
    """Odoo's marshaller sends dates as strings and bytes as text."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, list):
        return [_xmlrpc_safe(v) for v in value]
    if isinstance(value, tuple):
        return [_xmlrpc_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _xmlrpc_safe(v) for k, v in value.items()}
    return value


def xmlrpc_fault_int(exc: BaseException) -> xmlrpc.client.Fault:
    """``xmlrpc_handle_exception_int`` (/xmlrpc/2): 2 warning, 3 access denied, 4 access error, 1 else."""
    if isinstance(exc, RedirectWarning):
        return xmlrpc.client.Fault(RPC_FAULT_CODE_WARNING, str(exc))
    if isinstance(exc, AccessError):
        return xmlrpc.client.Fault(RPC_FAULT_CODE_ACCESS_ERROR, str(exc))
    if isinstance(exc, AccessDenied):
        return xmlrpc.client.Fault(RPC_FAULT_CODE_ACCESS_DENIED, str(exc))
    if isinstance(exc, UserError):
        return xmlrpc.client.Fault(RPC_FAULT_CODE_WARNING, str(exc))
    return xmlrpc.client.Fault(RPC_FAULT_CODE_APPLICATION_ERROR, fake_traceback(exc))


def xmlrpc_fault_string(exc: BaseException) -> xmlrpc.client.Fault:
    """``xmlrpc_handle_exception_string`` (legacy /xmlrpc): the code is a string naming the kind."""
    if isinstance(exc, RedirectWarning):
        return xmlrpc.client.Fault(f"warning -- Warning\n\n{exc}", "")  # type: ignore[arg-type]
    if isinstance(exc, MissingError):
        return xmlrpc.client.Fault(f"warning -- MissingError\n\n{exc}", "")  # type: ignore[arg-type]
    if isinstance(exc, AccessError):
        return xmlrpc.client.Fault(f"warning -- AccessError\n\n{exc}", "")  # type: ignore[arg-type]
    if isinstance(exc, AccessDenied):
        return xmlrpc.client.Fault("AccessDenied", str(exc))  # type: ignore[arg-type]
    if isinstance(exc, UserError):
        return xmlrpc.client.Fault(f"warning -- UserError\n\n{exc}", "")  # type: ignore[arg-type]
    return xmlrpc.client.Fault(str(exc), fake_traceback(exc))  # type: ignore[arg-type]


def fault_response(fault: xmlrpc.client.Fault) -> Response:
    return Response(xmlrpc.client.dumps(fault), media_type="text/xml")


def json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, (set, frozenset)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def json_body(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, default=json_default, ensure_ascii=False)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def jsonrpc_result(request_id: Any, result: Any, headers: dict[str, str] | None = None) -> Response:
    return json_body({"jsonrpc": "2.0", "id": request_id, "result": result}, headers=headers)


def jsonrpc_error(request_id: Any, exc: BaseException, version: OdooVersion) -> Response:
    """``JsonRPCDispatcher.handle_error``: HTTP 200, code 200 (<= 18) / 0 (19), "Odoo Server Error"."""
    error: dict[str, Any] = {
        "code": version.jsonrpc_error_code,
        "message": "Odoo Server Error",
        "data": serialize_exception(exc),
    }
    if isinstance(exc, SessionExpiredException):
        error.update(code=100, message="Odoo Session Expired")
    elif isinstance(exc, HttpError) and exc.status == 404:
        error.update(code=404, message="404: Not Found")
    if isinstance(exc, HttpError):
        error["data"] = http_error_body(exc)
    return json_body({"jsonrpc": "2.0", "id": request_id, "error": error})


def http_error_body(exc: HttpError) -> dict[str, Any]:
    return {
        "name": exc.werkzeug_name,
        "message": exc.description,
        "arguments": [exc.description, exc.status],
        "context": {},
        "debug": fake_traceback(exc),
    }


def json2_error(exc: BaseException) -> Response:
    """``Json2Dispatcher.handle_error``: real HTTP status, bare serialized exception as body."""
    if isinstance(exc, HttpError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return json_body(http_error_body(exc), status=exc.status, headers=headers)
    status = (
        exc.http_status
        if isinstance(exc, OdooException)
        and isinstance(exc, UserError | SessionExpiredException | AccessDenied)
        else 500
    )
    return json_body(serialize_exception(exc), status=status)


def bad_request(message: str) -> Response:
    return Response(BAD_REQUEST_PAGE.format(message), status_code=400, media_type="text/html")


WERKZEUG_PAGES = {
    404: (
        "Not Found",
        "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.",
    ),
    405: ("Method Not Allowed", "The method is not allowed for the requested URL."),
}


def werkzeug_page(status: int) -> str:
    title, text = WERKZEUG_PAGES.get(status, WERKZEUG_PAGES[404])
    return (
        f"<!doctype html>\n<html lang=en>\n<title>{status} {title}</title>\n<h1>{title}</h1>\n<p>{text}</p>\n"
    )
