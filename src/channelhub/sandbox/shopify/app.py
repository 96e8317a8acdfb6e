"""The emulated shop as an ASGI app, plus the handle tests and the sandbox drive it through.

emulator = ShopifyEmulator(EmulatorSettings(seed=7, skus=50))
app = emulator.app                     # or create_app(settings); app.state.emulator
emulator.shop                          # ShopState: records and stats
emulator.bucket.status()               # the cost bucket
emulator.chaos.update({...})           # chaos knobs
emulator.webhooks.wait_idle()          # webhook sender
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channelhub.sandbox.shopify import storefront
from channelhub.sandbox.shopify.chaos import Chaos
from channelhub.sandbox.shopify.graphql_api import GraphQLEndpoint, internal_error
from channelhub.sandbox.shopify.mutations_admin import ADMIN_MUTATIONS
from channelhub.sandbox.shopify.mutations_inventory import INVENTORY_MUTATIONS
from channelhub.sandbox.shopify.mutations_orders import ORDER_MUTATIONS
from channelhub.sandbox.shopify.resolvers import OBJECT_RESOLVERS, bind, topic_rest
from channelhub.sandbox.shopify.resolvers_orders import ORDER_OBJECT_RESOLVERS
from channelhub.sandbox.shopify.schema import SUPPORTED_VERSIONS, schema_for
from channelhub.sandbox.shopify.seed import seed_shop
from channelhub.sandbox.shopify.settings import EmulatorSettings
from channelhub.sandbox.shopify.state import RealClock, ShopState, WebhookSubscription
from channelhub.sandbox.shopify.throttle import CostBucket
from channelhub.sandbox.shopify.webhooks import WebhookSender

_bound: set[str] = set()


def _bound_schemas() -> None:
    for version in SUPPORTED_VERSIONS:
        if version not in _bound:
            tables = [
                OBJECT_RESOLVERS,
                ORDER_OBJECT_RESOLVERS,
                INVENTORY_MUTATIONS,
                ORDER_MUTATIONS,
                ADMIN_MUTATIONS,
            ]
            bind(schema_for(version), tables)
            _bound.add(version)


class ShopifyEmulator:
    """One emulated shop: state, cost bucket, chaos, webhook sender and the ASGI app."""

    def __init__(self, settings: EmulatorSettings | None = None) -> None:
        _bound_schemas()
        self.settings = settings or EmulatorSettings()
        self.clock = self.settings.clock or RealClock()
        self.shop: ShopState = seed_shop(
            seed=self.settings.seed,
            skus=self.settings.skus,
            clock=self.clock,
            plan=self.settings.plan,
            shop_name=self.settings.shop_name,
            locations=self.settings.locations,
        )
        self.bucket = CostBucket(self.settings.plan_limits(), self.clock)
        self.chaos = Chaos(self.settings.chaos, seed=self.settings.seed)
        self.webhooks = WebhookSender(
            self.shop,
            self.settings.api_secret,
            self.chaos,
            time_scale=self.settings.webhook_time_scale,
            connect_timeout_s=self.settings.webhook_connect_timeout_s,
            response_timeout_s=self.settings.webhook_response_timeout_s,
        )
        if self.settings.deliver_webhooks:
            self.shop.listeners.append(self.webhooks.on_event)
        for configured in self.settings.webhooks:
            self.subscribe(
                configured.topic, configured.uri, api_version=configured.api_version, from_config=True
            )
        self.started_at = self.clock.monotonic()
        self.endpoint = GraphQLEndpoint(self)
        self.app = self._build_app()

    @property
    def shop_domain(self) -> str:
        return self.shop.shop.domain

    def subscribe(
        self, topic: str, uri: str, *, api_version: str = "2025-10", from_config: bool = False
    ) -> WebhookSubscription:
        """Add a webhook subscription (topic in REST form "orders/create" or enum form)."""
        rest_topic = topic if "/" in topic else topic_rest(topic)
        with self.shop.lock:
            now = self.shop.now()
            subscription = WebhookSubscription(
                id=self.shop.new_id(),
                topic=rest_topic,
                uri=uri,
                api_version=api_version,
                created_at=now,
                updated_at=now,
                from_config=from_config,
            )
            self.shop.webhook_subscriptions[subscription.id] = subscription
        return subscription

    # -- HTTP ----------------------------------------------------------------------------------
    def _build_app(self) -> Starlette:
        @asynccontextmanager
        async def lifespan(_app: Starlette) -> AsyncIterator[None]:
            self.webhooks.start()
            try:
                yield
            finally:
                self.webhooks.stop()

        routes = [
            Route("/admin/api/{version}/graphql.json", self._graphql, methods=["POST"]),
            *storefront.routes(self),
        ]
        app = Starlette(routes=routes, lifespan=lifespan)
        app.state.emulator = self
        return app

    async def _graphql(self, request: Request) -> Response:
        chaos = self.chaos
        delay = chaos.latency_s()
        if delay:
            await asyncio.sleep(delay)
        elapsed = self.clock.monotonic() - self.started_at
        if chaos.in_outage(elapsed):
            self.shop.stats.chaos_errors += 1
            return JSONResponse(
                {"errors": "Service Unavailable"}, status_code=503, headers={"Retry-After": "1"}
            )
        if chaos.chance(chaos.settings.error_rate):
            self.shop.stats.chaos_errors += 1
            status = chaos.pick_5xx()
            body: Any = internal_error("chaos") if status == 500 else {"errors": "Service Unavailable"}
            return JSONResponse(body, status_code=status)
        raw = await request.body()
        if request.headers.get("content-type", "").startswith("application/graphql"):
            # Shopify also takes the bare document with this content type.
            raw = json.dumps({"query": raw.decode("utf-8", errors="replace")}).encode()
        base_url = f"{request.url.scheme}://{request.url.netloc}"
        reply = self.endpoint.handle(
            request.path_params["version"], request.headers.get("x-shopify-access-token"), raw, base_url
        )
        return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)


def create_app(settings: EmulatorSettings | None = None) -> Starlette:
    """The ASGI app of a new emulated shop; its handle is `app.state.emulator`."""
    return ShopifyEmulator(settings).app
