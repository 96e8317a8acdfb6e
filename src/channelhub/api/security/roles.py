"""Roles and what each one may do.

`viewer` reads everything (personal data masked); `operator` also acts: replay, retry, resolve,
reconcile, hold a warehouse, and sees personal data; `price_approver` reads like a viewer and
approves price proposals; `admin` may do everything, including tokens, users and configuration.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    PRICE_APPROVER = "price_approver"
    ADMIN = "admin"


# What holding a role grants: a role is not a rank (a price approver may not replay dead letters).
_GRANTS: dict[Role, frozenset[Role]] = {
    Role.VIEWER: frozenset({Role.VIEWER}),
    Role.OPERATOR: frozenset({Role.VIEWER, Role.OPERATOR}),
    Role.PRICE_APPROVER: frozenset({Role.VIEWER, Role.PRICE_APPROVER}),
    Role.ADMIN: frozenset(Role),
}


def grants(held: Role, needed: Role) -> bool:
    """True when a holder of `held` may use a route that needs `needed`."""
    return needed in _GRANTS[held]


def sees_personal_data(held: Role) -> bool:
    """Names, e-mails, phones and addresses are shown from `operator` up."""
    return grants(held, Role.OPERATOR)


def parse_role(text: str) -> Role:
    """The role named `text`; a ValueError naming the valid roles otherwise."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise ValueError(f"unknown role {text!r} (roles: {', '.join(r.value for r in Role)})") from None
