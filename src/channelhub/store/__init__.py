"""channelhub.store."""
