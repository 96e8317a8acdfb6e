"""channelhub.sandbox."""
