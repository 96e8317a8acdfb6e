"""channelhub.sandbox.woocommerce."""
