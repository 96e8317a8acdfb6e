"""Admin API for tokens and users (`admin` role) and `GET /api/v1/me`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from channelhub.api.errors import ApiError
from channelhub.api.security.guard import Principal, require_role
from channelhub.api.security.roles import Role, sees_personal_data
from channelhub.api.security.store import SecurityError, SecurityStore


class TokenRequest(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="Who or what uses the token.")
    role: Role
    expires_in_days: int | None = Field(default=90, ge=1, le=3650, description="None: never expires.")


class UserRequest(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=10, max_length=500)
    role: Role


def security_router(store: SecurityStore) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["security"])

    @router.get("/me", summary="Who am I, and what may I do")
    def me(who: Principal = require_role(Role.VIEWER)) -> dict[str, Any]:
        return {
            "name": who.name,
            "role": who.role.value,
            "via": who.via,
            "sees_personal_data": sees_personal_data(who.role),
        }

    @router.get("/tokens", summary="API tokens (never their secrets)")
    def tokens(_: Principal = require_role(Role.ADMIN)) -> dict[str, Any]:
        now = store.clock.now()
        return {"items": [token.to_dict(now) for token in store.tokens()]}

    @router.post("/tokens", status_code=201, summary="Create an API token: the secret is shown once")
    async def create_token(
        request: TokenRequest, who: Principal = require_role(Role.ADMIN)
    ) -> dict[str, Any]:
        lifetime = None if request.expires_in_days is None else timedelta(days=request.expires_in_days)
        try:
            created = await run_in_threadpool(
                store.create_token, request.name, request.role, who.name, lifetime
            )
        except SecurityError as error:
            raise ApiError(400, "invalid_request", str(error)) from None
        return {**created.info.to_dict(store.clock.now()), "token": created.token}

    @router.delete("/tokens/{token_id}", summary="Revoke an API token (effective immediately)")
    def revoke_token(token_id: str, who: Principal = require_role(Role.ADMIN)) -> dict[str, Any]:
        if not store.revoke_token(token_id, who.name):
            raise ApiError(404, "not_found", f"no active token {token_id!r}")
        return {"token_id": token_id, "status": "revoked"}

    @router.get("/users", summary="Dashboard users")
    def users(_: Principal = require_role(Role.ADMIN)) -> dict[str, Any]:
        return {
            "items": [
                {
                    "username": user.username,
                    "role": user.role.value,
                    "disabled": user.disabled,
                    "created_at": user.created_at.isoformat(),
                    "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
                }
                for user in store.users()
            ]
        }

    @router.post("/users", status_code=201, summary="Create a dashboard user")
    async def create_user(request: UserRequest, who: Principal = require_role(Role.ADMIN)) -> dict[str, Any]:
        try:
            user = await run_in_threadpool(
                store.create_user, request.username, request.password, request.role, who.name
            )
        except SecurityError as error:
            raise ApiError(409 if "exists" in str(error) else 400, "invalid_request", str(error)) from None
        except ValueError as error:
            raise ApiError(400, "invalid_request", str(error)) from None
        return {"username": user.username, "role": user.role.value}

    @router.post("/users/{username}/disable", summary="Disable a user and end their sessions")
    def disable_user(username: str, who: Principal = require_role(Role.ADMIN)) -> dict[str, Any]:
        return _set_disabled(store, username, True, who)

    @router.post("/users/{username}/enable", summary="Enable a user again")
    def enable_user(username: str, who: Principal = require_role(Role.ADMIN)) -> dict[str, Any]:
        return _set_disabled(store, username, False, who)

    @router.get("/operator-actions", summary="The trail of operator actions, newest first")
    def actions(
        subject: str | None = Query(default=None, max_length=300),
        limit: int = Query(default=100, ge=1, le=500),
        _: Principal = require_role(Role.ADMIN),
    ) -> dict[str, Any]:
        return {"items": store.actions(subject, limit)}

    return router


def _set_disabled(store: SecurityStore, username: str, disabled: bool, who: Principal) -> dict[str, Any]:
    try:
        changed = store.set_user_disabled(username, disabled, who.name)
    except SecurityError as error:
        raise ApiError(400, "invalid_request", str(error)) from None
    if not changed:
        raise ApiError(404, "not_found", f"no user {username!r}")
    return {"username": username.strip().lower(), "disabled": disabled}
