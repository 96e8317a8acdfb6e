"""The WooCommerce emulator as one ASGI app, and the handle tests and scenarios drive it with.

emulator = create_app(WooCommerceSettings(seed=1, skus=200))
with serve_in_thread(emulator) as server: ...   # emulator.shop / .chaos / .webhooks
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from channelhub.sandbox.woocommerce.auth import (
    ApiKey,
    Authenticator,
    AuthRequest,
    check_permission,
    php_params,
)
from channelhub.sandbox.woocommerce.chaos import Chaos, HostLimiter
from channelhub.sandbox.woocommerce.errors import WPError, no_route
from channelhub.sandbox.woocommerce.rest import Call, Reply, Router, dispatch, filter_fields, requested_fields
from channelhub.sandbox.woocommerce.rest_orders import OrderRoutes
from channelhub.sandbox.woocommerce.rest_products import ProductRoutes
from channelhub.sandbox.woocommerce.rest_webhooks import WebhookRoutes
from channelhub.sandbox.woocommerce.seed import seed_catalog
from channelhub.sandbox.woocommerce.shop import Shop
from channelhub.sandbox.woocommerce.storefront import Storefront
from channelhub.sandbox.woocommerce.webhooks import WebhookDispatcher, wp_json


def _site_now() -> datetime:
    # WordPress stores dates with second resolution; the emulated site runs on UTC.
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


@dataclass
class WooCommerceSettings:
    seed: int = 1
    skus: int = 200
    consumer_key: str = ""  # generated (ck_…) when empty
    consumer_secret: str = ""  # generated (cs_…) when empty
    permissions: str = "read_write"
    batch_limit: int = 100  # the `woocommerce_rest_batch_items_limit` filter
    chaos: Chaos = field(default_factory=Chaos)
    webhook_timeout_s: float = 60.0  # WC_Webhook::deliver waits MINUTE_IN_SECONDS
    now: Callable[[], datetime] = _site_now
    monotonic: Callable[[], float] = time.monotonic
    epoch: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self.consumer_key = self.consumer_key or f"ck_{secrets.token_hex(20)}"
        self.consumer_secret = self.consumer_secret or f"cs_{secrets.token_hex(20)}"


def _wp_response(
    status: int, body: Any, headers: dict[str, str] | None = None, head: bool = False
) -> Response:
    return Response(
        b"" if head else wp_json(body),
        status_code=status,
        headers={"X-Robots-Tag": "noindex", "X-Content-Type-Options": "nosniff", **(headers or {})},
        media_type="application/json; charset=UTF-8",
    )


def _error(error: WPError) -> Response:
    return _wp_response(error.status, error.body())


class WooCommerceEmulator:
    """ASGI app + handle: `.shop` (catalog, orders, stats), `.chaos`, `.webhooks`, `.settings`."""

    def __init__(self, settings: WooCommerceSettings) -> None:
        self.settings = settings
        self.rng = random.Random(settings.seed)
        self.shop = Shop(settings.now)
        seed_catalog(self.shop, settings.seed, settings.skus)
        self.chaos = settings.chaos
        self.limiter = HostLimiter(self.chaos, settings.monotonic, self.rng)
        if self.chaos.outage_seconds:
            self.limiter.start_outage(self.chaos.outage_seconds, self.chaos.outage_after_s)
        self.home = "http://127.0.0.1/"
        self.webhooks = WebhookDispatcher(
            self.shop,
            self.chaos,
            self.rng,
            settings.epoch,
            lambda: self.home,
            timeout_s=settings.webhook_timeout_s,
        )
        self.key = ApiKey(settings.consumer_key, settings.consumer_secret, settings.permissions)
        self.authenticator = Authenticator([self.key], settings.epoch)
        self.router = Router()
        ProductRoutes(self.shop, self.router, settings.batch_limit)
        OrderRoutes(self.shop, self.router)
        self.webhook_routes = WebhookRoutes(self.shop, self.webhooks, self.router)
        self.storefront = Storefront(self.shop, self.webhooks, self.chaos, self.limiter)
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        self._app = Starlette(
            routes=[
                Route("/wp-json/{route:path}", self._rest, methods=methods),
                Route(
                    "/_sandbox/orders",
                    self._sandbox(lambda b, h: self.storefront.place_order(b, h), 201),
                    methods=["POST"],
                ),
                Route(
                    "/_sandbox/stock",
                    self._sandbox(lambda b, h: self.storefront.change_stock(b, h)),
                    methods=["POST"],
                ),
                Route(
                    "/_sandbox/scenario",
                    self._sandbox(lambda b, h: self.storefront.start_scenario(b), 202),
                    methods=["POST"],
                ),
                Route(
                    "/_sandbox/scenario",
                    self._sandbox(lambda b, h: self.storefront.scenario_status()),
                    methods=["GET"],
                ),
                Route(
                    "/_sandbox/stats", self._sandbox(lambda b, h: self.storefront.stats()), methods=["GET"]
                ),
                Route(
                    "/_sandbox/chaos",
                    self._sandbox(lambda b, h: self.storefront.chaos_snapshot()),
                    methods=["GET"],
                ),
                Route(
                    "/_sandbox/chaos",
                    self._sandbox(lambda b, h: self.storefront.set_chaos(b)),
                    methods=["POST"],
                ),
                Route(
                    "/_sandbox/webhooks/deliveries",
                    self._sandbox(lambda b, h: self.storefront.deliveries()),
                    methods=["GET"],
                ),
                Route(
                    "/_sandbox/webhooks",
                    self._sandbox(lambda b, h: self.storefront.add_webhook(b), 201),
                    methods=["POST"],
                ),
                Route(
                    "/_sandbox/quantities/read",
                    self._sandbox(lambda b, h: self.storefront.read_quantities(b)),
                    methods=["POST"],
                ),
                Route(
                    "/_sandbox/quantities/write",
                    self._sandbox(lambda b, h: self.storefront.write_quantities(b)),
                    methods=["POST"],
                ),
            ],
            exception_handlers={Exception: self._crash, 404: self._not_found, 405: self._not_found},
            lifespan=self._lifespan,
        )

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        yield
        await self.webhooks.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

    # -- REST ----------------------------------------------------------------------------------

    async def _rest(self, request: Request) -> Response:
        host = request.headers.get("host", f"{request.url.hostname}:{request.url.port}")
        self.home = f"{request.url.scheme}://{host}/"
        interference = await self._host_interference()
        if interference is not None:
            return interference
        try:
            reply = await self._handle(request, host)
        except WPError as error:
            return _error(error)
        return _wp_response(reply.status, reply.body, reply.headers, head=request.method == "HEAD")

    async def _host_interference(self) -> Response | None:
        """What the web host does before WordPress runs: outages, latency, throttling, crashes."""
        outage = self.limiter.outage_left()
        if outage > 0:
            return HTMLResponse(
                "<h1>Briefly unavailable for scheduled maintenance. Check back in a minute.</h1>",
                status_code=503,
                headers={"Retry-After": str(max(1, round(outage)))},
            )
        if self.chaos.latency_ms:
            await asyncio.sleep(self.chaos.latency_ms / 1000)
        retry_after = self.limiter.retry_after_if_throttled()
        if retry_after is not None:
            error = WPError(
                "rate_limit_exceeded",
                f"Too many requests. Please wait {retry_after} seconds before trying again.",
                429,
            )
            return _wp_response(429, error.body(), {"Retry-After": str(retry_after)})
        if self.limiter.server_error():
            error = WPError(
                "internal_server_error", "<p>There has been a critical error on this website.</p>", 500
            )
            return _wp_response(500, {**error.body(), "additional_errors": []})
        return None

    async def _handle(self, request: Request, host: str) -> Reply:
        query = php_params(parse_qsl(request.url.query, keep_blank_values=True))
        raw = await request.body()
        content_type = request.headers.get("content-type", "")
        form: dict[str, Any] = {}
        body: Any = {}
        if "application/x-www-form-urlencoded" in content_type:
            form = php_params(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
            body = form
        auth_request = AuthRequest(
            method=request.method,
            is_ssl=request.url.scheme == "https",
            base_url=f"{request.url.scheme}://{host}{request.url.path}",
            query=query,
            form=form,
            authorization=request.headers.get("authorization", ""),
        )
        key = self.authenticator.authenticate(auth_request)
        if key is not None:
            check_permission(key, request.method)
        if raw.strip() and not form:
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                raise WPError(
                    "rest_invalid_json",
                    "Invalid JSON body passed.",
                    400,
                    json_error_code=4,
                    json_error_message="Syntax error",
                ) from None
        route = request.path_params["route"]
        if not route.startswith("wc/v3/"):
            raise no_route()
        call = Call(
            method=request.method, query=query, body=body, home=self.home, authenticated=key is not None
        )
        reply = dispatch(self.router, self.webhooks, call, route.removeprefix("wc/v3/"))
        fields = requested_fields(query.get("_fields", ""))
        if fields and reply.status < 400:
            reply.body = filter_fields(reply.body, fields)
        while self.webhook_routes.pings:
            # WC_REST_Webhooks_Controller::create_item pings after building its response.
            await self.webhooks.ping(self.webhook_routes.pings.pop(0))
        return reply

    # -- sandbox tooling -----------------------------------------------------------------------

    def _sandbox(self, action: Callable[[Any, str], Any], status: int = 200) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError:
                return _error(WPError("rest_invalid_json", "Invalid JSON body passed.", 400))
            try:
                return _wp_response(status, action(body, self.home))
            except WPError as error:
                return _error(error)

        return endpoint

    async def _crash(self, request: Request, exc: Exception) -> Response:
        error = WPError(
            "internal_server_error", "<p>There has been a critical error on this website.</p>", 500
        )
        return _wp_response(500, {**error.body(), "additional_errors": []})

    async def _not_found(self, request: Request, exc: Exception) -> Response:
        return _error(no_route())


def create_app(settings: WooCommerceSettings | None = None) -> WooCommerceEmulator:
    """The ASGI app factory; the returned object is also the handle to the emulator's state."""
    return WooCommerceEmulator(settings or WooCommerceSettings())
