"""channelhub.sandbox.shopify."""
