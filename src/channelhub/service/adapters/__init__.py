"""Adapters implementing the service ports over the connectors (only `bootstrap.py` and tests
import these: the use cases see the Protocols in `channelhub.service.ports`)."""

from channelhub.service.adapters.odoo import OdooErpGateway
from channelhub.service.adapters.shopify import ShopifyChannelGateway
from channelhub.service.adapters.woocommerce import WooCommerceChannelGateway

__all__ = ["OdooErpGateway", "ShopifyChannelGateway", "WooCommerceChannelGateway"]
