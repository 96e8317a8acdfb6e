"""Gateways built from the landscape file (for the composition root and the sandbox).

erp = erp_gateway(landscape, partner_id=await find_channel_partner(connector), clock=clock)
channels = {c.name: channel_gateway(c, clock=clock) for c in landscape.channels if c.enabled}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from channelhub.clock import SYSTEM_CLOCK, Clock
from channelhub.config import Landscape
from channelhub.config_sections import (
    AmazonChannel,
    OdooSettings,
    PosChannel,
    ShopifyChannel,
    WooCommerceChannel,
)
from channelhub.connectors.odoo import HoldPolicy, OdooConnection, OdooConnector, OdooResilience
from channelhub.connectors.shopify import ShopifyConfig, ShopifyConnector
from channelhub.connectors.woocommerce import WooCommerceClient, WooCommerceConnector
from channelhub.service.adapters.odoo import OdooErpGateway
from channelhub.service.adapters.shopify import ShopifyChannelGateway
from channelhub.service.adapters.woocommerce import WooCommerceChannelGateway
from channelhub.service.ports import ChannelGateway

# Shopify GraphQL restore rates per plan (points/second, shopify.dev "API rate limits"); the
# bucket is assumed at 10 s of restore. The connector resyncs both from every response.
SHOPIFY_RESTORE = {"basic": 100.0, "standard": 100.0, "advanced": 200.0, "plus": 1000.0, "enterprise": 2000.0}
CHANNEL_PARTNER_NAME = "channelhub channel orders"


class UnsupportedChannel(ValueError):
    """This slice has no gateway for the channel's platform yet."""


def odoo_connector(settings: OdooSettings, *, clock: Clock = SYSTEM_CLOCK) -> OdooConnector:
    secret = settings.api_key or settings.password
    assert secret is not None  # the config requires exactly one of them
    markers = tuple(HoldPolicy().name_markers) + tuple(name.lower() for name in settings.hold_locations)
    return OdooConnector(
        OdooConnection(
            settings.url,
            settings.database,
            settings.login,
            secret.get_secret_value(),
            protocol=settings.protocol,
            timeout_s=settings.timeout_s,
        ),
        hold=HoldPolicy(name_markers=markers),
        resilience=OdooResilience.default(clock, max_concurrency=settings.max_concurrency),
        clock=clock,
    )


async def find_channel_partner(connector: OdooConnector, name: str = CHANNEL_PARTNER_NAME) -> int:
    """The Odoo customer channel orders are booked on: the partner called `name`, created if
    missing (searched first, so calling this at every start is harmless)."""
    client = connector.client
    found: Sequence[int] = await client.execute_kw(
        "res.partner", "search", [[("name", "=", name)]], {"limit": 1}
    )
    if found:
        return int(found[0])
    return int(await client.execute_kw("res.partner", "create", [{"name": name, "customer_rank": 1}]))


def erp_gateway(
    landscape: Landscape,
    *,
    partner_id: int,
    connector: OdooConnector | None = None,
    webhook_secret: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> OdooErpGateway:
    return OdooErpGateway(
        connector or odoo_connector(landscape.odoo, clock=clock),
        partner_id=partner_id,
        warehouse_codes={w.odoo_code: w.code for w in landscape.warehouses if w.odoo_code},
        webhook_secret=webhook_secret,
    )


def channel_gateway(
    settings: ShopifyChannel | WooCommerceChannel | AmazonChannel | PosChannel,
    *,
    clock: Clock = SYSTEM_CLOCK,
    background: bool = False,
) -> ChannelGateway:
    """The gateway for one channel. `background=True`: for a reader that must never compete
    with the publisher for the platform's limits (the order backfill): on Shopify it plans pages
    against a quarter of the cost bucket and leaves half of the bucket to the publisher."""
    if isinstance(settings, ShopifyChannel):
        restore = SHOPIFY_RESTORE.get(settings.plan, 100.0)
        config = ShopifyConfig(
            shop_url=settings.base_url or f"https://{settings.shop_domain}",
            access_token=settings.access_token.get_secret_value(),
            api_version=settings.api_version,
            api_secret=settings.client_secret.get_secret_value(),
            location_id=next(iter(settings.locations.values()), None),
        )
        if background:
            config = replace(config, bucket_share=0.25, leave_free=0.5)
        return ShopifyChannelGateway(
            settings.name,
            ShopifyConnector(config, clock=clock),
            bucket=restore * 20,  # every plan holds 20 seconds of restore
            restore_per_second=restore,
        )
    if isinstance(settings, WooCommerceChannel):
        client = WooCommerceClient(
            settings.url,
            settings.consumer_key.get_secret_value(),
            settings.consumer_secret.get_secret_value(),
            clock=clock,
        )
        return WooCommerceChannelGateway(
            settings.name,
            WooCommerceConnector(client, batch_limit=settings.batch_limit),
            webhook_secret=settings.webhook_secret.get_secret_value(),
        )
    raise UnsupportedChannel(f"channel {settings.name!r}: no gateway for {settings.kind} in this release")
