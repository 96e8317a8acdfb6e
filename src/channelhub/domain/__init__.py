"""channelhub.domain."""
