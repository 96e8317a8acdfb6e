"""channelhub.bus."""
