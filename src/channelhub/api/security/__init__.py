"""Authentication and roles of the operations surface: API tokens (hashed at rest, shown once,
revocable, expiring), dashboard users with session cookies and CSRF protection, and the
`require_role` dependency every route declares."""

from channelhub.api.security.guard import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    LoginRequired,
    Principal,
    RouteAccess,
    SecuritySettings,
    authenticate,
    public_route,
    require_page_role,
    require_role,
    route_access,
)
from channelhub.api.security.roles import Role, grants, parse_role, sees_personal_data
from channelhub.api.security.routes import security_router
from channelhub.api.security.store import (
    CreatedToken,
    SecurityError,
    SecurityStore,
    TokenInfo,
    record_action,
)

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "CreatedToken",
    "LoginRequired",
    "Principal",
    "Role",
    "RouteAccess",
    "SecurityError",
    "SecuritySettings",
    "SecurityStore",
    "TokenInfo",
    "authenticate",
    "grants",
    "parse_role",
    "public_route",
    "record_action",
    "require_page_role",
    "require_role",
    "route_access",
    "security_router",
    "sees_personal_data",
]
