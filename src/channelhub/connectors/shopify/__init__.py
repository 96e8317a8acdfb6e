"""Shopify connector: Admin GraphQL client with cost-based throttling, webhooks, mapping, operations.

The public surface is what this module exports; the submodules are implementation.
"""

from channelhub.connectors.shopify.catalog import SkuIndex, VariantRef
from channelhub.connectors.shopify.client import ClientStats, ShopifyGraphQLClient
from channelhub.connectors.shopify.config import ShopifyConfig
from channelhub.connectors.shopify.connector import ShopifyConnector
from channelhub.connectors.shopify.errors import (
    ShopifyAuthError,
    ShopifyError,
    ShopifyNotFound,
    ShopifyQueryError,
    ShopifyThrottled,
    ShopifyUnavailable,
    ShopifyUserError,
    UserError,
)
from channelhub.connectors.shopify.inventory import Outcome, QuantityResult, QuantityUpdate
from channelhub.connectors.shopify.mapping import ShopifyMappingError, ShopifyOrder, order_events
from channelhub.connectors.shopify.orders import RefundLine, ShipmentLine, Tracking
from channelhub.connectors.shopify.prices import ListingSnapshot, PriceResult, PriceUpdate
from channelhub.connectors.shopify.versions import ApiVersion
from channelhub.connectors.shopify.webhooks import DeliveryFilter, Verdict, WebhookDelivery

__all__ = [
    "ApiVersion",
    "ClientStats",
    "DeliveryFilter",
    "ListingSnapshot",
    "Outcome",
    "PriceResult",
    "PriceUpdate",
    "QuantityResult",
    "QuantityUpdate",
    "RefundLine",
    "ShipmentLine",
    "ShopifyAuthError",
    "ShopifyConfig",
    "ShopifyConnector",
    "ShopifyError",
    "ShopifyGraphQLClient",
    "ShopifyMappingError",
    "ShopifyNotFound",
    "ShopifyOrder",
    "ShopifyQueryError",
    "ShopifyThrottled",
    "ShopifyUnavailable",
    "ShopifyUserError",
    "SkuIndex",
    "Tracking",
    "UserError",
    "VariantRef",
    "Verdict",
    "WebhookDelivery",
    "order_events",
]
