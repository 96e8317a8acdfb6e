"""Operator commands of the engine: `run`, `explain`, `reconcile`, `warehouse hold|release|offline|online`.

They work on the landscape file (`--config`, default `$CHANNELHUB_CONFIG` or `channelhub.yaml`) and
its store; `explain` can also ask a running engine's admin API (`--url` + `--token`). Heavy
imports happen inside the commands so `channelhub --help` stays fast.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from channelhub.cli import CommandGroups
    from channelhub.config import Landscape
    from channelhub.engine.reconcile import ReconciliationReport

API_TOKEN_ENV = "CHANNELHUB_API_TOKEN"
ODOO_WEBHOOK_TOKEN_ENV = "CHANNELHUB_ODOO_WEBHOOK_TOKEN"

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="The landscape file. Default: $CHANNELHUB_CONFIG, else channelhub.yaml."),
]


def register(groups: CommandGroups) -> None:
    groups.root.command("run")(run)
    groups.root.command("explain")(explain)
    groups.root.command("reconcile")(reconcile)
    warehouse = typer.Typer(
        help="Stop or resume selling a warehouse's stock on its channels.", no_args_is_help=True
    )
    groups.root.add_typer(warehouse, name="warehouse")
    for action, text in (
        ("hold", "Quality hold / stock take: stop selling the warehouse's stock."),
        ("release", "Lift a hold: sell the warehouse's stock again."),
        ("offline", "The warehouse's feed is down or it is closed: stop counting its stock."),
        ("online", "The warehouse is back: count its stock again."),
    ):
        warehouse.command(action, help=text)(_warehouse_command(action))


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _landscape(path: Path | None) -> Landscape:
    from channelhub.config import ConfigError, default_config_path, load_config

    try:
        return load_config(path or default_config_path())
    except ConfigError as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"cannot read the config: {error}")


# -- run ---------------------------------------------------------------------------------------


def run(
    config: ConfigOption = None,
    log_level: Annotated[
        str, typer.Option("--log-level", help="JSON logs on stderr at this level.")
    ] = "INFO",
) -> None:
    """Run the engine and the API from a landscape file until Ctrl-C.

    The admin API token comes from $CHANNELHUB_API_TOKEN (printed once when generated); Odoo
    notifications are accepted when $CHANNELHUB_ODOO_WEBHOOK_TOKEN is set."""
    import asyncio

    from channelhub.bootstrap import Runtime, RuntimeSettings, wait_for_stop_signal
    from channelhub.observability import configure_logging

    landscape = _landscape(config)
    configure_logging(log_level.upper())
    settings = RuntimeSettings(odoo_webhook_token=os.environ.get(ODOO_WEBHOOK_TOKEN_ENV) or None)
    token = os.environ.get(API_TOKEN_ENV)
    if token:
        settings.api_token = token
    else:
        typer.echo(f"admin API token (set {API_TOKEN_ENV} to choose one): {settings.api_token}")

    async def serve() -> None:
        runtime = Runtime(landscape, settings)
        await runtime.start()
        typer.echo(f"channelhub is running: {runtime.url} (OpenAPI at {runtime.url}/docs); Ctrl-C stops it")
        if runtime.security is not None:
            typer.echo(
                f"dashboard: {runtime.url}/dashboard, metrics: {runtime.url}/metrics "
                "(dashboard users: `channelhub user create`; the admin token works everywhere)"
            )
        try:
            await wait_for_stop_signal()
        finally:
            await runtime.stop()

    from channelhub.connectors.errors import ConnectorError

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        typer.echo("stopped")
    except (ConnectorError, OSError) as error:
        _fail(f"channelhub could not start: {type(error).__name__}: {error}")


# -- explain -----------------------------------------------------------------------------------


def _explain_remote(url: str, token: str, sku: str, channel: str | None) -> dict[str, Any]:
    import httpx

    params = {"channel": channel} if channel else {}
    try:
        response = httpx.get(
            f"{url.rstrip('/')}/api/v1/availability/{sku}",
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
    except httpx.HTTPError as error:
        _fail(f"cannot reach {url}: {error}")
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code != 200:
        message = body.get("error", {}).get("message") if isinstance(body, dict) else None
        _fail(f"{response.status_code}: {message or response.text[:200]}")
    return dict(body)


def _explain_local(config: Path | None, sku: str, channel: str | None) -> dict[str, Any]:
    from channelhub.bootstrap import availability_service, database_url
    from channelhub.domain import InvalidValue, UnknownChannel
    from channelhub.service.explain import explain as explain_sku
    from channelhub.store.db import create_store_engine

    landscape = _landscape(config)
    engine = create_store_engine(database_url(landscape))
    try:
        with engine.connect() as connection:
            return explain_sku(connection, availability_service(landscape), sku, channel)
    except UnknownChannel:
        _fail(f"no channel {channel!r} in the landscape")
    except InvalidValue as error:
        _fail(f"not a SKU: {error}")
    finally:
        engine.dispose()


def _print_explanation(view: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    views = view.get("channels") or [view]
    for one in views:
        acknowledged = one.get("acknowledged")
        console.print(
            f"[bold]{one['sku']} on {one['channel']}[/bold]: available to sell {one['available_to_sell']}, "
            f"channel acknowledged {acknowledged if acknowledged is not None else 'nothing yet'}"
            + (f" at {one['acknowledged_at']}" if one.get("acknowledged_at") else "")
        )
        table = Table("warehouse", "on hand", "reserved", "hold", "free", "counted")
        for row in one.get("warehouses", []):
            table.add_row(
                row["warehouse"],
                str(row["on_hand"]),
                str(row["reserved"]),
                str(row["hold"]),
                str(row["free"]),
                "yes" if row["included"] else f"no: {row['reason']}",
            )
        console.print(table)
        for line in one.get("explanation", []):
            console.print(f"  {line}")


def explain(
    sku: Annotated[str, typer.Argument(help="The SKU to explain.")],
    channel: Annotated[
        str | None, typer.Option("--channel", help="One channel (default: every channel).")
    ] = None,
    config: ConfigOption = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Ask a running engine's API instead of the store.")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token", help="The admin API bearer token (with --url). Default: $CHANNELHUB_API_TOKEN."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw JSON.")] = False,
) -> None:
    """Why a channel shows what it shows for SKU: stock per warehouse, rules, reservations, desired
    vs acknowledged."""
    import json

    if url is not None:
        token = token or os.environ.get(API_TOKEN_ENV)
        if not token:
            _fail(f"--url needs --token (or ${API_TOKEN_ENV})")
        view = _explain_remote(url, token, sku, channel)
    else:
        view = _explain_local(config, sku, channel)
    if as_json:
        typer.echo(json.dumps(view, indent=2))
    else:
        _print_explanation(view)


# -- reconcile ---------------------------------------------------------------------------------


def reconcile(
    channel: Annotated[
        str | None, typer.Option("--channel", help="One channel (default: every channel).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only report the differences; change nothing.")
    ] = False,
    config: ConfigOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON instead of a table.")
    ] = False,
) -> None:
    """Read every channel's quantities back, compare with the desired ones, print the differences
    and fix them (not with --dry-run). Exits 1 when something is left different."""
    import asyncio
    import json

    landscape = _landscape(config)
    try:
        report = asyncio.run(run_reconciliation(landscape, channel, dry_run, show_progress=not as_json))
    except ValueError as error:
        _fail(str(error))
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        print_report(report)
    if not report.clean:
        raise typer.Exit(1)


async def run_reconciliation(
    landscape: Landscape, channel: str | None, dry_run: bool, *, show_progress: bool = True
) -> ReconciliationReport:
    """Reconcile with a publisher of our own (a running engine's publisher is not needed: the
    fix is level-triggered and Shopify writes are compare-and-set)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from channelhub.bootstrap import channel_gateways, open_store
    from channelhub.engine.publisher import Publisher
    from channelhub.engine.reconcile import ReconcileProgress
    from channelhub.engine.reconcile import reconcile as reconcile_channels

    engine = open_store(landscape)
    gateways = channel_gateways(landscape)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[diffs]} different"),
        disable=not show_progress,
    )
    tasks: dict[str, Any] = {}

    def advance(step: ReconcileProgress) -> None:
        if step.channel not in tasks:
            tasks[step.channel] = progress.add_task(
                f"reconciling {step.channel}", total=step.total or None, diffs=0
            )
        progress.update(
            tasks[step.channel], completed=step.checked, total=step.total or None, diffs=step.differences
        )

    try:
        with progress:
            return await reconcile_channels(
                engine,
                Publisher(engine, gateways.values()),
                channel=channel,
                dry_run=dry_run,
                progress=advance,
            )
    finally:
        for gateway in gateways.values():
            await gateway.aclose()
        engine.dispose()


def print_report(report: ReconciliationReport) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if report.diffs:
        table = Table(
            "channel", "SKU", "desired", "channel shows", "acknowledged", "kind", title="differences"
        )
        for diff in report.diffs[:200]:
            shown = "not listed" if diff.channel_value is None else str(diff.channel_value)
            acknowledged = "-" if diff.acknowledged is None else str(diff.acknowledged)
            table.add_row(diff.channel, diff.sku, str(diff.desired), shown, acknowledged, diff.kind)
        console.print(table)
        if len(report.diffs) > 200:
            console.print(f"... and {len(report.diffs) - 200} more (use --json for all)")
    for result in report.channels:
        line = f"{result.channel}: {result.checked} checked, {len(result.diffs)} different"
        if not report.dry_run:
            line += f", {result.fixed} fixed"
            if result.still_different:
                line += f", still different: {', '.join(result.still_different[:10])}"
        if result.error:
            line += f", error: {result.error}"
        console.print(line)
    console.print(
        "clean" if report.clean else "NOT clean" + (" (dry run: nothing changed)" if report.dry_run else "")
    )


# -- warehouse ---------------------------------------------------------------------------------


def _warehouse_command(action: str) -> Any:
    def command(
        name: Annotated[str, typer.Argument(help="The warehouse code of the landscape (e.g. wh-main).")],
        reason: Annotated[
            str, typer.Option("--reason", help="Why (kept with the status, shown by explain).")
        ] = "",
        config: ConfigOption = None,
    ) -> None:
        from channelhub.bootstrap import availability_service, open_store
        from channelhub.clock import SYSTEM_CLOCK
        from channelhub.service import AvailabilityOperations, UnknownWarehouse

        landscape = _landscape(config)
        engine = open_store(landscape)
        operations = AvailabilityOperations(availability_service(landscape))
        by = os.environ.get("USER", "cli")
        try:
            change = operations.set_warehouse_in_steps(
                engine, name, action, SYSTEM_CLOCK.now(), reason=reason, by=by
            )
        except UnknownWarehouse as error:
            _fail(str(error).strip("'\""))
        finally:
            engine.dispose()
        status = ("online" if change.warehouse.online else "offline") + (
            ", on hold" if change.warehouse.on_hold else ""
        )
        changed = len(change.recompute.quantities)
        typer.echo(
            f"warehouse {name}: {status}"
            + ("" if change.changed else " (unchanged)")
            + f"; {changed} channel quantities recomputed for {', '.join(change.channels) or 'no channel'}"
            + " (a running engine publishes them within seconds)"
        )

    command.__doc__ = f"Set warehouse NAME {action}."
    command.__name__ = f"warehouse_{action}"
    return command
