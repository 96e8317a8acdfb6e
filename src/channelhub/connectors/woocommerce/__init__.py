"""channelhub.connectors.woocommerce."""
