"""The API served on loopback over a migrated SQLite store, with the real Shopify, WooCommerce and
Odoo gateways (their webhook verification needs no network) and a small availability policy."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from channelhub.api import ApiContext, create_api
from channelhub.api.inbox import InboxProcessor
from channelhub.connectors.odoo import OdooConnection, OdooConnector
from channelhub.connectors.shopify import ShopifyConfig, ShopifyConnector
from channelhub.connectors.shopify.webhooks import sign as shopify_sign
from channelhub.connectors.woocommerce import WooCommerceClient, WooCommerceConnector
from channelhub.domain import AllocationRules, ChannelAllocation, ChannelShare, SafetyStock, Warehouse
from channelhub.metrics import ChannelhubMetrics
from channelhub.sandbox.server import serve_in_thread
from channelhub.sandbox.shopify import EmulatorSettings, ShopifyEmulator
from channelhub.sandbox.shopify import operations as shop_operations
from channelhub.sandbox.shopify.payloads import order_payload
from channelhub.service.adapters import OdooErpGateway, ShopifyChannelGateway, WooCommerceChannelGateway
from channelhub.service.availability import AvailabilityPolicy, AvailabilityService
from channelhub.service.ports import ChannelGateway
from channelhub.store.db import create_store_engine, upgrade_to_head
from channelhub.store.state_tables import webhook_inbox

SHOPIFY_SECRET = "shopify-app-secret-for-tests"
WOO_SECRET = "woo-webhook-secret-for-tests"
ODOO_TOKEN = "odoo-shared-token-for-tests"
API_TOKEN = "admin-token-for-tests"
UNREACHABLE = "http://127.0.0.1:9"  # verification never calls the platform


def policy() -> AvailabilityPolicy:
    return AvailabilityPolicy(
        rules=AllocationRules(
            channels=(
                ChannelAllocation("shopify", ("wh", "east"), ChannelShare.shared(), SafetyStock(units=2)),
                ChannelAllocation("woocommerce", ("wh",), ChannelShare.shared()),
            )
        ),
        warehouses=(Warehouse("wh"), Warehouse("east")),
    )


@dataclass
class Hub:
    url: str
    engine: sa.Engine
    context: ApiContext
    processor: InboxProcessor
    http: httpx.AsyncClient
    metrics: ChannelhubMetrics

    def inbox_rows(self) -> list[sa.Row[Any]]:
        with self.engine.connect() as connection:
            return list(connection.execute(sa.select(webhook_inbox).order_by(webhook_inbox.c.id)))

    def log_topics(self) -> list[str]:
        with self.engine.connect() as connection:
            return [row[0] for row in connection.exec_driver_sql("SELECT topic FROM log_event ORDER BY seq")]


@pytest.fixture
def hub_parts(tmp_sqlite_url: str) -> Iterator[tuple[sa.Engine, dict[str, ChannelGateway], OdooErpGateway]]:
    upgrade_to_head(tmp_sqlite_url)
    engine = create_store_engine(tmp_sqlite_url)
    shopify = ShopifyChannelGateway(
        "shopify",
        ShopifyConnector(
            ShopifyConfig(shop_url=UNREACHABLE, access_token="shpat_x", api_secret=SHOPIFY_SECRET)
        ),
    )
    woo = WooCommerceChannelGateway(
        "woocommerce",
        WooCommerceConnector(WooCommerceClient(UNREACHABLE, "ck_x", "cs_x")),
        webhook_secret=WOO_SECRET,
    )
    odoo = OdooErpGateway(
        OdooConnector(OdooConnection(UNREACHABLE, "retail", "admin", "admin")),
        partner_id=1,
        webhook_secret=ODOO_TOKEN,
    )
    yield engine, {"shopify": shopify, "woocommerce": woo}, odoo
    engine.dispose()


@pytest.fixture
async def hub(hub_parts: tuple[sa.Engine, dict[str, ChannelGateway], OdooErpGateway]) -> AsyncIterator[Hub]:
    engine, channels, erp = hub_parts
    metrics = ChannelhubMetrics()
    processor = InboxProcessor(
        engine,
        channels,
        erp,
        odoo_token=ODOO_TOKEN,
        on_appended=metrics.ingress_hook("inbox"),
    )
    context = ApiContext(
        engine,
        channels,
        erp,
        AvailabilityService(policy()),
        API_TOKEN,
        on_delivery_lag=metrics.ingress_hook("delivery"),
    )
    with serve_in_thread(create_api(context)) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            yield Hub(server.url, engine, context, processor, http, metrics)


@pytest.fixture(scope="session")
def shopify_order_body() -> bytes:
    """A real `orders/create` body, as the Shopify emulator renders an order."""
    emulator = ShopifyEmulator(EmulatorSettings(seed=4, skus=3, locations=1, deliver_webhooks=False))
    variant = next(iter(emulator.shop.variants.values()))
    order = shop_operations.place_order(emulator.shop, [shop_operations.SaleLine(variant, 1)])
    with emulator.shop.lock:
        return json.dumps(order_payload(emulator.shop, order)).encode()


def shopify_headers(body: bytes, webhook_id: str, *, secret: str = SHOPIFY_SECRET) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": shopify_sign(body, secret),
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Shop-Domain": "tests.myshopify.com",
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(),
    }


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
