"""Gateways and the ATS policy built from the example landscape file."""

from __future__ import annotations

import pytest

from channelhub.config import example_config, parse_config
from channelhub.service.adapters import OdooErpGateway, ShopifyChannelGateway, WooCommerceChannelGateway
from channelhub.service.adapters.factory import UnsupportedChannel, channel_gateway, erp_gateway
from channelhub.service.availability import AvailabilityPolicy
from channelhub.service.ports import ChannelGateway, ErpGateway

SECRETS = {
    name: f"{name.lower()}-value-0123456789"
    for name in (
        "ODOO_API_KEY",
        "SHOPIFY_EU_ACCESS_TOKEN",
        "SHOPIFY_EU_CLIENT_SECRET",
        "WOO_CONSUMER_KEY",
        "WOO_CONSUMER_SECRET",
        "WOO_WEBHOOK_SECRET",
        "AMAZON_LWA_CLIENT_SECRET",
        "AMAZON_REFRESH_TOKEN",
        "POS_BERLIN_TOKEN",
    )
}


async def test_example_landscape_builds_every_supported_gateway() -> None:
    landscape = parse_config(example_config(), environ=SECRETS)
    erp = erp_gateway(landscape, partner_id=7, webhook_secret="odoo-webhook-secret-123")
    assert isinstance(erp, OdooErpGateway) and isinstance(erp, ErpGateway)
    assert erp.warehouse_codes["WH"] in {w.code for w in landscape.warehouses}
    gateways = {}
    for settings in landscape.channels:
        if settings.kind in ("amazon", "pos"):
            with pytest.raises(UnsupportedChannel):
                channel_gateway(settings)
            continue
        gateways[settings.name] = channel_gateway(settings)
    shop, woo = gateways["shopify-eu"], gateways["woo-b2c"]
    assert isinstance(shop, ShopifyChannelGateway) and isinstance(woo, WooCommerceChannelGateway)
    assert all(isinstance(g, ChannelGateway) for g in gateways.values())
    assert shop.limits.compare_and_set and shop.limits.max_quantities_per_call == 250
    assert not woo.limits.compare_and_set
    shopify_settings = next(s for s in landscape.channels if s.name == "shopify-eu")
    background = channel_gateway(shopify_settings, background=True)
    assert isinstance(background, ShopifyChannelGateway)
    config = background.connector.client.config
    assert (config.leave_free, config.bucket_share) == (0.5, 0.25)  # the backfill yields to the publisher
    assert shop.connector.client.config.leave_free == 0.0
    for gateway in [*gateways.values(), background]:
        await gateway.aclose()
    await erp.aclose()


def test_policy_from_landscape_keeps_channels_warehouses_and_pack_sizes() -> None:
    landscape = parse_config(example_config(), environ=SECRETS)
    policy = AvailabilityPolicy.from_landscape(landscape)
    assert policy.channels == tuple(c.name for c in landscape.channels)
    assert {w.code for w in policy.warehouses} == {w.code for w in landscape.warehouses}
    for rule in landscape.pack_sizes:
        assert policy.pack_sizes[(rule.channel, rule.sku)] == rule.units
    main = landscape.warehouses[0]
    assert set(policy.channels_fed_by(main.code)) == set(main.feeds)
