"""Authentication of the API (`Authorization: Bearer <token>`).

Every route declares its role with `channelhub.api.security.require_role`; `install_security`
gives a bare `create_api` app what those declarations need: the security store (API tokens and
users) and the configured admin token, which acts as the bootstrap admin. `install_operations`
replaces it with the same settings plus the dashboard's."""

from __future__ import annotations

import hmac

from fastapi import FastAPI, Request

from channelhub.api.context import ApiContext
from channelhub.api.errors import ApiError
from channelhub.api.security import SecuritySettings, SecurityStore

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="channelhub"'}


def check_bearer(request: Request, expected: str) -> None:
    """Raise a 401 `ApiError` unless the request carries the expected bearer token (one fixed
    token, no roles: for tools outside the role model; the API's routes use `require_role`)."""
    header = request.headers.get("authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise ApiError(401, "unauthorized", "a bearer token is required", headers=_CHALLENGE)
    # Constant-time comparison: the token is not guessable byte by byte through timing.
    if not hmac.compare_digest(presented.strip().encode(), expected.encode()):
        raise ApiError(401, "unauthorized", "the bearer token is not valid", headers=_CHALLENGE)


def install_security(app: FastAPI, context: ApiContext) -> SecuritySettings:
    """Authenticate `require_role` routes of `app` (keeps settings another surface installed)."""
    settings: SecuritySettings | None = getattr(app.state, "channelhub_security", None)
    if settings is None:
        settings = SecuritySettings(SecurityStore(context.engine, context.clock), context.api_token)
        app.state.channelhub_security = settings
    return settings
