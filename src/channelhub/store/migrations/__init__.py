"""Alembic migrations of the channelhub database (run with `channelhub.store.db.upgrade_to_head`)."""
