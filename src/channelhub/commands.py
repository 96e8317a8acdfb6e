"""Root commands: `init`, `config check` and `contracts export`.

Heavy imports (pydantic models, rich, the domain events) happen inside the commands so that
`channelhub --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from channelhub.cli import CommandGroups
    from channelhub.config import Landscape, SecretReference

_DEFAULT = "Default: $CHANNELHUB_CONFIG, else channelhub.yaml."
CONFIG_PATH_HELP = f"The landscape config file. {_DEFAULT}"


def register(groups: CommandGroups) -> None:
    """Add this area's commands to the CLI groups."""
    config_group = typer.Typer(help="Validate and inspect the landscape config file.", no_args_is_help=True)
    groups.root.add_typer(config_group, name="config")
    groups.root.command("init")(init)
    config_group.command("check")(check)
    groups.contracts.command("export")(export)


def init(
    path: Annotated[
        Path | None, typer.Argument(help=f"Where to write the example config. {_DEFAULT}")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the file if it exists.")] = False,
) -> None:
    """Write a commented example landscape config (every section explained, secrets as env refs)."""
    from channelhub.config import default_config_path, example_config, secret_references

    path = path or default_config_path()
    if path.exists() and not force:
        _fail(f"{path} already exists; use --force to overwrite it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(example_config(), encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {path}: {exc.strerror}")
    names = sorted({ref.target for ref in secret_references(path) if ref.source == "env"})
    typer.echo(f"Wrote {path}. Edit it, then run: channelhub config check {path}")
    typer.echo(f"Secrets it reads from the environment: {', '.join(names)}")


def check(
    path: Annotated[Path | None, typer.Argument(help=CONFIG_PATH_HELP, show_default=False)] = None,
    require_secrets: Annotated[
        bool,
        typer.Option(
            "--require-secrets",
            help="Also resolve every secret now: fail when an environment variable or file is missing.",
        ),
    ] = False,
) -> None:
    """Validate the config (key paths and line numbers for every problem) and summarize it."""
    from channelhub.config import ConfigError, default_config_path, load_config, secret_references

    path = path or default_config_path()
    try:
        landscape = load_config(path, resolve_secrets=require_secrets)
        references = secret_references(path)
    except ConfigError as exc:
        _fail(str(exc))
    _print_summary(path, landscape, references)


def export(
    directory: Annotated[
        Path, typer.Argument(help="Directory for the JSON Schema files (created if absent).")
    ],
) -> None:
    """Write one JSON Schema file per canonical event type (`<type>.schema.json`)."""
    import json

    from channelhub.domain.events import event_json_schemas

    schemas = event_json_schemas()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for event_type, schema in schemas.items():
            target = directory / f"{event_type}.schema.json"
            target.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write into {directory}: {exc.strerror}")
    typer.echo(f"Wrote {len(schemas)} event schemas to {directory}")


def _fail(message: str) -> NoReturn:
    typer.secho(message, err=True, fg=typer.colors.RED)
    raise typer.Exit(1)


def _print_summary(path: Path, landscape: Landscape, references: list[SecretReference]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from channelhub.config import summarize

    console = Console()
    console.print(f"[green]{escape(str(path))} is valid.[/green]")

    channels = Table(title="Channels")
    for column in ("name", "kind", "prices", "allocation", "safety stock", "fed by"):
        channels.add_column(column)
    for channel in landscape.channels:
        safety = landscape.safety_stock.channels.get(channel.name, landscape.safety_stock.default)
        channels.add_row(
            channel.name if channel.enabled else f"{channel.name} [dim](disabled)[/dim]",
            channel.kind,
            escape(f"{channel.currency} {channel.pricelist or ''}".strip()),
            summarize(channel.allocation),
            summarize(safety),
            ", ".join(w.code for w in landscape.warehouses_feeding(channel.name)) or "[red]nothing[/red]",
        )
    console.print(channels)

    warehouses = Table(title="Warehouses")
    for column in ("code", "name", "odoo", "feeds", "status"):
        warehouses.add_column(column)
    for warehouse in landscape.warehouses:
        status = "on hold" if warehouse.on_hold else ("online" if warehouse.online else "offline")
        warehouses.add_row(
            warehouse.code,
            escape(warehouse.name),
            escape(warehouse.odoo_code or warehouse.code.upper()),
            ", ".join(warehouse.feeds) or "-",
            status,
        )
    console.print(warehouses)

    rules = Table(title="Rules")
    for column in ("rule", "sku", "channel", "value"):
        rules.add_column(column)
    rules.add_row("safety stock (default)", "*", "*", summarize(landscape.safety_stock.default))
    for name, rule in landscape.safety_stock.channels.items():
        rules.add_row("safety stock", "*", name, summarize(rule))
    for sku_rule in landscape.safety_stock.skus:
        rules.add_row("safety stock", escape(sku_rule.sku), sku_rule.channel or "*", summarize(sku_rule))
    for pack in landscape.pack_sizes:
        rules.add_row("pack size", escape(pack.sku), pack.channel, f"{pack.units} units per pack")
    for name in ("tier1", "tier2", "tier3"):
        tier = getattr(landscape.tiers, name)
        rules.add_row(
            name,
            "",
            "",
            f"{tier.workers} workers, {tier.max_attempts} attempts, backoff {tier.base_delay_s:g}-{tier.max_delay_s:g} s",
        )
    console.print(rules)

    odoo, database, bus = landscape.odoo, landscape.database, landscape.bus
    console.print(
        escape(
            f"Odoo {odoo.url} db={odoo.database} protocol={odoo.protocol} version={odoo.version or 'auto'}; "
            f"database {database.url}; bus {bus.kind}{' ' + bus.url if bus.url else ''}; "
            f"api {landscape.api.host}:{landscape.api.port}"
        )
    )

    secrets = Table(title="Secrets (references only; values are never shown)")
    for column in ("key", "from", "available here"):
        secrets.add_column(column)
    for reference in references:
        secrets.add_row(
            escape(reference.path),
            escape(f"{reference.source}: {reference.target}"),
            "yes" if reference.available else "[yellow]no[/yellow]",
        )
    console.print(secrets)
