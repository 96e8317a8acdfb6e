"""Bearer-token authentication of the admin API (`Authorization: Bearer <token>`)."""

from __future__ import annotations

import hmac

from fastapi import Request

from channelhub.api.errors import ApiError

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="channelhub"'}


def check_bearer(request: Request, expected: str) -> None:
    """Raise a 401 `ApiError` unless the request carries the expected bearer token."""
    header = request.headers.get("authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise ApiError(401, "unauthorized", "a bearer token is required", headers=_CHALLENGE)
    # Constant-time comparison: the token is not guessable byte by byte through timing.
    if not hmac.compare_digest(presented.strip().encode(), expected.encode()):
        raise ApiError(401, "unauthorized", "the bearer token is not valid", headers=_CHALLENGE)
