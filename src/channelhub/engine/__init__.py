"""channelhub.engine."""
