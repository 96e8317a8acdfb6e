"""channelhub.connectors."""
