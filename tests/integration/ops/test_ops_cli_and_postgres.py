"""`channelhub token|user` commands, and the operations queries on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from channelhub.api.operations.queues import DeadLetterQuery, dead_letter_page, queue_stats
from channelhub.api.operations.state_views import channel_health, listing_page
from channelhub.api.security import Role, SecurityStore
from channelhub.cli import app
from channelhub.engine.events import NewEvent
from channelhub.engine.outbox import append
from channelhub.store.db import create_store_engine, isolated_schema, upgrade_to_head
from tests.integration.ops.ops_world import seeded_copy


def test_token_create_list_revoke_and_user_create(tmp_path: Path) -> None:
    runner = CliRunner()
    database, _ = seeded_copy(tmp_path / "cli.db")  # migrated already: the commands only check
    created = runner.invoke(
        app, ["token", "create", "--role", "operator", "--name", "ci", "--database", database]
    )
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("chub_")
    store = SecurityStore(create_store_engine(database))
    info = store.authenticate_token(token)
    assert info is not None and info.role is Role.OPERATOR
    listed = runner.invoke(app, ["token", "list", "--database", database])
    assert info.token_id in listed.stdout and token not in listed.stdout
    revoked = runner.invoke(app, ["token", "revoke", info.token_id, "--database", database])
    assert revoked.exit_code == 0 and store.authenticate_token(token) is None
    assert runner.invoke(app, ["token", "revoke", info.token_id, "--database", database]).exit_code == 1
    bad_role = runner.invoke(app, ["token", "create", "--role", "pope", "--database", database])
    assert bad_role.exit_code == 1 and "unknown role" in bad_role.output
    user = runner.invoke(
        app,
        ["user", "create", "dana", "--role", "viewer", "--password-stdin", "--database", database],
        input="a-long-password\n",
    )
    assert user.exit_code == 0, user.output
    assert store.login("dana", "a-long-password") is not None
    weak = runner.invoke(
        app,
        ["user", "create", "eve", "--role", "viewer", "--password-stdin", "--database", database],
        input="short\n",
    )
    assert weak.exit_code == 1 and "at least 10" in weak.output


def test_security_and_read_models_on_postgres(postgres_url: str) -> None:
    with isolated_schema(postgres_url, prefix="ops") as schema:
        upgrade_to_head(postgres_url, schema)
        engine = create_store_engine(postgres_url, schema=schema)
        try:
            store = SecurityStore(engine)
            created = store.create_token("pg", Role.ADMIN, "test")
            assert store.authenticate_token(created.token) is not None
            store.create_user("pat", "pg-password-1", Role.OPERATOR)
            session = store.login("pat", "pg-password-1")
            assert session is not None and store.session(session.session_id) is not None
            with engine.begin() as connection:
                append(
                    connection,
                    [NewEvent("e-1", "t.v1", "k", {"n": 1}), NewEvent("e-2", "t.v1", "k", {"n": 2})],
                )
            with engine.connect() as connection:
                stats = queue_stats(connection, datetime.now(UTC).timestamp())
                assert stats.tiers[1].pending == 2
                assert dead_letter_page(connection, DeadLetterQuery(error_contains="50%_"), None, 10) == []
                assert (
                    listing_page(
                        connection,
                        channel=None,
                        sku=None,
                        dirty=None,
                        with_error=None,
                        after=("a", "b"),
                        limit=5,
                    )
                    == []
                )
                assert channel_health(connection, datetime.now(UTC)) == []
        finally:
            engine.dispose()
