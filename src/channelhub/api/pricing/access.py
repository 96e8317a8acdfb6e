"""How the API reaches pricing governance: the service, the event loop its connectors live on, who
is acting, and how pricing errors become the API's stable error bodies.

The pricing service's publishers hold HTTP clients bound to the event loop that built them (in
the sandbox and `channelhub run`: the main loop), while the API is served from its own thread and
loop. Work that calls a channel or Odoo (preview, rollback, retry, capture) is therefore handed
to the owner loop through `PricingHandle.call`; decisions that only touch the database (approve,
reject, reads) run in the API's thread pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from channelhub.api.errors import ApiError
from channelhub.api.security import Principal, Role, grants
from channelhub.connectors.errors import ConnectorError
from channelhub.domain import ApprovalRefused, Approver, DomainError, InvalidTransition
from channelhub.service.pricing import ChangeSetNotFound, PricingError, PricingService

T = TypeVar("T")

DEFAULT_BOOTSTRAP_USER = "bootstrap-token"


class LoopRunner:
    """Runs coroutines on `loop` (the loop the pricing connectors were built on), from any loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    async def __call__(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if asyncio.get_running_loop() is self.loop:
            return await coroutine
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))


Runner = Callable[[Coroutine[Any, Any, Any]], Awaitable[Any]]


@dataclass
class PricingHandle:
    """What the pricing routes and pages need. `service` may be set after the app was built (the
    composition root mounts the routes first, builds pricing once Odoo and the channels are
    connected); until then the routes answer 503 `not_configured`.

    `run`: where async pricing work runs (`LoopRunner(main loop)`); None awaits it in place.
    `wake`: called after an approval or a retry, so the release tick does not wait its interval
    (must be thread-safe: it is called from the API's thread).
    `bootstrap_user`: who the configured admin token acts as in maker-checker (the sandbox's admin
    token belongs to the same person as the Odoo `admin` login that edits pricelists).
    """

    service: PricingService | None = None
    run: Runner | None = None
    wake: Callable[[], None] | None = None
    bootstrap_user: str = DEFAULT_BOOTSTRAP_USER

    def need(self) -> PricingService:
        if self.service is None:
            raise ApiError(503, "not_configured", "pricing governance is not running in this process")
        return self.service

    async def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if self.run is None:
            return await coroutine
        result: T = await self.run(coroutine)
        return result

    def woken(self) -> None:
        if self.wake is not None:
            self.wake()


def acting_user(who: Principal, bootstrap_user: str = DEFAULT_BOOTSTRAP_USER) -> str:
    """The person behind a principal: a session's username, an API token's name (a token is
    named after who uses it), or `bootstrap_user` for the configured admin token. Never taken
    from a request body: maker-checker would mean nothing if callers could say who they are."""
    if who.via == "bootstrap":
        return bootstrap_user
    if who.via == "token":
        parts = who.name.split(":", 2)  # "token:<token id>:<name>"
        return parts[2] if len(parts) == 3 and parts[2] else who.name
    return who.name


def approver_of(who: Principal, bootstrap_user: str = DEFAULT_BOOTSTRAP_USER) -> Approver:
    """The pricing approver a principal is: its user and every role its API role grants (an
    admin holds `price_approver`; an operator does not)."""
    roles = frozenset(role.value for role in Role if grants(who.role, role))
    return Approver(acting_user(who, bootstrap_user), roles)


def pricing_api_error(error: Exception) -> ApiError:
    """The API error for a pricing failure (the service's message is safe to show: it names
    change sets, SKUs, channels and rules, never secrets)."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, ChangeSetNotFound):
        return ApiError(404, "not_found", str(error))
    if isinstance(error, ApprovalRefused):  # self-approval, missing role, second vote
        return ApiError(403, "approval_refused", str(error))
    if isinstance(error, InvalidTransition):
        return ApiError(409, "conflict", str(error))
    if isinstance(error, PricingError | DomainError):
        return ApiError(400, "invalid_request", str(error))
    if isinstance(error, ConnectorError):
        return ApiError(502, "upstream_error", f"a connected system failed: {error}")
    raise error


PRICING_ERRORS = (PricingError, DomainError, ConnectorError)
"""What `pricing_api_error` translates; anything else is a bug and stays a 500."""
