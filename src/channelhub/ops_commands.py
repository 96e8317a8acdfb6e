"""`channelhub token create|list|revoke` and `channelhub user create|disable`.

The database is the one of `--database`, else `$CHANNELHUB_DATABASE_URL`, else the landscape
file's `database.url`. A new token is printed once, on stdout alone, so it can be piped into a
secret store (`channelhub token create --role viewer --name prometheus > token.txt`); it cannot
be shown again.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from channelhub.api.security import SecurityStore
    from channelhub.cli import CommandGroups

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="Database URL. Default: $CHANNELHUB_DATABASE_URL, else database.url of the landscape file.",
        show_default=False,
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="The landscape file (for its database). Default: $CHANNELHUB_CONFIG, else channelhub.yaml.",
        show_default=False,
    ),
]
ROLE_HELP = "viewer, operator, price_approver or admin."


def register(groups: CommandGroups) -> None:
    """Add `token` and `user` to the CLI."""
    token = typer.Typer(
        help="API tokens for the admin API (hashed at rest, shown once).", no_args_is_help=True
    )
    user = typer.Typer(help="Dashboard users.", no_args_is_help=True)
    groups.root.add_typer(token, name="token")
    groups.root.add_typer(user, name="user")
    token.command("create")(create_token)
    token.command("list")(list_tokens)
    token.command("revoke")(revoke_token)
    user.command("create")(create_user)
    user.command("disable")(disable_user)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _store(database: str | None, config: Path | None) -> SecurityStore:
    from channelhub.api.security import SecurityStore
    from channelhub.store.db import DATABASE_URL_ENV, StoreConfigError, create_store_engine, upgrade_to_head

    url = database or os.environ.get(DATABASE_URL_ENV)
    if url is None:
        from channelhub.config import ConfigError, load_config

        try:
            url = load_config(config).database.connection_url()
        except (ConfigError, OSError) as error:
            _fail(f"no database: pass --database URL or set {DATABASE_URL_ENV} ({error})")
    try:
        upgrade_to_head(url)  # idempotent: a fresh database gets the tables first
        return SecurityStore(create_store_engine(url))
    except StoreConfigError as error:
        _fail(str(error))


def _role(text: str) -> object:
    from channelhub.api.security import parse_role

    try:
        return parse_role(text)
    except ValueError as error:
        _fail(str(error))


def create_token(
    role: Annotated[str, typer.Option("--role", help=f"The token's role: {ROLE_HELP}")],
    name: Annotated[str, typer.Option("--name", help="Who or what uses it (e.g. 'prometheus').")] = "cli",
    expires_in_days: Annotated[
        int, typer.Option("--expires-in-days", min=0, help="Lifetime in days; 0 never expires.")
    ] = 90,
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Create an API token and print it once."""
    from datetime import timedelta

    from channelhub.api.security import Role, SecurityError

    chosen = _role(role)
    assert isinstance(chosen, Role)
    store = _store(database, config)
    lifetime = timedelta(days=expires_in_days) if expires_in_days else None
    try:
        created = store.create_token(name, chosen, f"cli:{os.environ.get('USER', 'unknown')}", lifetime)
    except SecurityError as error:
        _fail(str(error))
    expiry = created.info.expires_at.isoformat() if created.info.expires_at else "never"
    typer.echo(
        f"token {created.info.token_id} ({chosen.value}) expires {expiry}; it is shown only now:", err=True
    )
    typer.echo(created.token)


def list_tokens(database: DatabaseOption = None, config: ConfigOption = None) -> None:
    """List tokens: id, name, role, status, expiry, last use (never the secret)."""
    store = _store(database, config)
    now = store.clock.now()
    tokens = store.tokens()
    if not tokens:
        typer.echo("no tokens")
        return
    for token in tokens:
        row = token.to_dict(now)
        typer.echo(
            f"{row['token_id']}  {row['role']:<14} {row['status']:<8} expires {row['expires_at'] or 'never'}  "
            f"last used {row['last_used_at'] or 'never'}  {row['name']}"
        )


def revoke_token(
    token_id: Annotated[str, typer.Argument(help="The token id (as `token list` shows it).")],
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Revoke a token: requests with it are refused from now on."""
    store = _store(database, config)
    if not store.revoke_token(token_id, f"cli:{os.environ.get('USER', 'unknown')}"):
        _fail(f"no active token {token_id!r}")
    typer.echo(f"token {token_id} revoked")


def create_user(
    username: Annotated[str, typer.Argument(help="Login name (a-z 0-9 . _ - @).")],
    role: Annotated[str, typer.Option("--role", help=f"The user's role: {ROLE_HELP}")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin instead of prompting.")
    ] = False,
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Create a dashboard user (asks for the password; at least 10 characters)."""
    from channelhub.api.security import Role, SecurityError

    chosen = _role(role)
    assert isinstance(chosen, Role)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    store = _store(database, config)
    try:
        user = store.create_user(username, password, chosen, by="cli")
    except (SecurityError, ValueError) as error:
        _fail(str(error))
    typer.echo(f"user {user.username} ({user.role.value}) created")


def disable_user(
    username: Annotated[str, typer.Argument(help="Login name.")],
    database: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Disable a user and end their sessions."""
    store = _store(database, config)
    if not store.set_user_disabled(username, True, "cli"):
        _fail(f"no user {username!r}")
    typer.echo(f"user {username} disabled")
