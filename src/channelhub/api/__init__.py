"""channelhub.api."""
