"""channelhub.connectors.shopify."""
