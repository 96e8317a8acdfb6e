"""channelhub.service."""
