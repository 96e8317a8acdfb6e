"""One URL selects the backend: driver mapping and refusals (no database needed)."""

from __future__ import annotations

import pytest

from channelhub.store.db import (
    StoreConfigError,
    alembic_config,
    backend_of,
    check_schema_name,
    create_store_engine,
    normalize_url,
)


def test_plain_postgresql_urls_use_psycopg_3() -> None:
    assert normalize_url("postgresql://postgres@127.0.0.1:5432/test") == (
        "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    assert normalize_url("postgresql+psycopg://u:secret@db/x") == "postgresql+psycopg://u:secret@db/x"
    assert backend_of("postgresql://db/x") == "postgresql"


def test_sqlite_urls_pass_through() -> None:
    assert normalize_url("sqlite:////var/lib/channelhub/state.db") == "sqlite:////var/lib/channelhub/state.db"
    assert backend_of("sqlite:///relative.db") == "sqlite"


@pytest.mark.parametrize("url", ["mysql://db/x", "not a url", ""])
def test_other_urls_are_refused_with_the_url_named(url: str) -> None:
    with pytest.raises(StoreConfigError):
        normalize_url(url)


@pytest.mark.parametrize("schema", ["Robert'); DROP", "1abc", "a" * 64, "with-dash"])
def test_schema_names_are_checked_before_they_reach_sql(schema: str) -> None:
    with pytest.raises(StoreConfigError):
        check_schema_name(schema)


def test_sqlite_has_no_schemas() -> None:
    with pytest.raises(StoreConfigError, match="no schemas"):
        create_store_engine("sqlite:///x.db", schema="run_1")


def test_alembic_config_is_built_in_code() -> None:
    config = alembic_config("postgresql://u:p%40ss@db/x", schema="run_1")
    assert config.get_main_option("script_location").endswith("store/migrations")
    assert config.get_main_option("sqlalchemy.url") == "postgresql+psycopg://u:p%40ss@db/x"
    assert config.attributes["schema"] == "run_1"
