"""The WooCommerce connector: REST v3 client, batch stock/price pushes, orders, webhooks.

async with WooCommerceClient(url, key, secret) as client:
    shop = WooCommerceConnector(client)
    result = await shop.set_stock({"SKU-00001": 7})
"""

from channelhub.connectors.woocommerce.canonical import to_domain_listing, to_domain_order
from channelhub.connectors.woocommerce.client import API_VERSION, WooCommerceClient, WooResponse
from channelhub.connectors.woocommerce.connector import (
    OrderPage,
    PushResult,
    WebhookSubscription,
    WooCommerceConnector,
)
from channelhub.connectors.woocommerce.mapping import (
    ChannelListing,
    ChannelOrder,
    ChannelOrderLine,
    ChannelRefund,
    PriceChange,
    SkuRef,
    Tracking,
)
from channelhub.connectors.woocommerce.webhooks import (
    ResourceVersions,
    WooWebhook,
    ping_webhook_id,
    verify_webhook,
)

__all__ = [
    "API_VERSION",
    "ChannelListing",
    "ChannelOrder",
    "ChannelOrderLine",
    "ChannelRefund",
    "OrderPage",
    "PriceChange",
    "PushResult",
    "ResourceVersions",
    "SkuRef",
    "Tracking",
    "WebhookSubscription",
    "WooCommerceClient",
    "WooCommerceConnector",
    "WooResponse",
    "WooWebhook",
    "ping_webhook_id",
    "to_domain_listing",
    "to_domain_order",
    "verify_webhook",
]
