"""Alembic environment: runs on the connection `upgrade_to_head` hands over, or opens one itself.

The `alembic` command line works too: `CHANNELHUB_DATABASE_URL=... alembic -c <config>` with
`script_location` pointing here, but the supported entry point is
`channelhub.store.db.upgrade_to_head(url, schema=None)`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from channelhub.store import log_tables  # noqa: F401  (registers the log tables on metadata)
from channelhub.store.db import create_store_engine, metadata, postgres_url_from_env

config = context.config


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or postgres_url_from_env()
    engine = create_store_engine(url, schema=config.attributes.get("schema"))
    with engine.begin() as own_connection:
        _run(own_connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("channelhub migrations run online only (they need a database connection)")
run_migrations_online()
