"""Stable JSON error bodies for every API failure.

Every error the API returns has the same shape, so integrators can branch on `error.code`:

    {"error": {"code": "unauthorized", "message": "a bearer token is required"}}

Codes: `unauthorized` (401), `not_found` (404), `unknown_channel` (404), `invalid_request` (400/422),
`internal_error` (500). Messages never echo request bodies.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from channelhub.observability import get_logger

log = get_logger(__name__)

_CODES = {400: "invalid_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}


class ApiError(Exception):
    """An error with its HTTP status and stable code."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def error_body(code: str, message: str, **details: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _CODES.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"location": ".".join(str(part) for part in item.get("loc", ())), "problem": item.get("msg")}
            for item in exc.errors()
        ]
        return JSONResponse(
            error_body("invalid_request", "the request is not valid", problems=problems), status_code=422
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("api_unexpected_error", path=request.url.path, error=type(exc).__name__)
        return JSONResponse(error_body("internal_error", "unexpected server error"), status_code=500)
