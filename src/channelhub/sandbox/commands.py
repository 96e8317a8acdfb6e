"""`channelhub sandbox`: the one-command sandbox (emulators + engine + API), optionally with a
flash sale, live progress and a JSON report."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from channelhub.cli import CommandGroups
    from channelhub.sandbox.runner import Sandbox, SandboxSettings


class Scenario(StrEnum):
    FLASH_SALE = "flash-sale"


def register(groups: CommandGroups) -> None:
    groups.root.command("sandbox")(sandbox)


def sandbox(
    scenario: Annotated[
        Scenario | None, typer.Option("--scenario", help="Traffic to drive once everything listens.")
    ] = None,
    skus: Annotated[
        int, typer.Option("--skus", min=1, max=200_000, help="SKUs seeded in all three systems.")
    ] = 200,
    rate: Annotated[float, typer.Option("--rate", min=0.1, help="Flash sale: orders per second.")] = 10.0,
    duration: Annotated[
        float, typer.Option("--duration", min=1.0, help="Flash sale: seconds of orders.")
    ] = 30.0,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the catalog and the traffic (reproducible).")
    ] = 1,
    endpoints_file: Annotated[
        Path | None,
        typer.Option(
            "--endpoints-file", help="Write the URLs and credentials (JSON) here once everything listens."
        ),
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the scenario report (JSON) here when it is done.")
    ] = None,
    exit_when_done: Annotated[
        bool,
        typer.Option("--exit-when-done", help="Stop after the scenario instead of running until Ctrl-C."),
    ] = False,
    work_dir: Annotated[
        Path | None,
        typer.Option("--work-dir", help="Keep the SQLite store here (default: a temporary directory)."),
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="channelhub's API port (default: a free one).")
    ] = None,
    log_level: Annotated[
        str, typer.Option("--log-level", help="JSON logs on stderr at this level.")
    ] = "WARNING",
    dashboard: Annotated[
        bool, typer.Option("--dashboard/--no-dashboard", help="Mount the operations dashboard and /metrics.")
    ] = True,
    fence_below: Annotated[
        int | None,
        typer.Option(
            "--fence-below",
            min=0,
            help="Deal a SKU's last units between Shopify and WooCommerce when this many or fewer are"
            " left (the low-stock fence; default: shared stock).",
        ),
    ] = None,
) -> None:
    """Start Odoo, Shopify and WooCommerce emulators, the engine and the API on loopback with seeded
    data; print the URLs; optionally drive a flash sale and write a report."""
    import asyncio

    from channelhub.observability import configure_logging
    from channelhub.sandbox.runner import SandboxSettings

    configure_logging(log_level.upper())
    settings = SandboxSettings(
        skus=skus, seed=seed, work_dir=work_dir, api_port=port, fence_below=fence_below
    )
    settings.runtime.operations = dashboard
    options = _SessionOptions(scenario, rate, duration, seed, endpoints_file, report, exit_when_done)
    try:
        asyncio.run(_session(settings, options))
    except KeyboardInterrupt:
        typer.echo("sandbox stopped")


class _SessionOptions(NamedTuple):
    scenario: Scenario | None
    rate: float
    duration_s: float
    seed: int
    endpoints_file: Path | None
    report_file: Path | None
    exit_when_done: bool


def _print_endpoints(console: Console, endpoints: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title="channelhub sandbox", show_lines=False)
    table.add_column("system")
    table.add_column("URL")
    table.add_column("credentials")
    odoo, shopify, woo, hub = (endpoints[k] for k in ("odoo", "shopify", "woocommerce", "channelhub"))
    table.add_row("Odoo 17", odoo["url"], f"db {odoo['db']}, {odoo['login']} / {odoo['password']}")
    table.add_row("Shopify", shopify["url"], f"token {shopify['token']} (API {shopify['api_version']})")
    table.add_row("WooCommerce", woo["url"], f"key {woo['key']}")
    table.add_row("channelhub API", hub["url"], f"Bearer {hub['token']}")
    console.print(table)
    console.print(f"OpenAPI: {hub['url']}/docs")
    if "dashboard_user" in hub:
        console.print(
            f"dashboard: {hub['url']}/dashboard   login {hub['dashboard_user']} / {hub['dashboard_password']}"
        )
    if "price_approver_token" in hub:
        console.print(
            f"price approver {hub['price_approver']}: Bearer {hub['price_approver_token']}"
            f"   pricelists {endpoints['odoo'].get('pricelists')}"
        )
    console.print(f"Landscape file for the CLI: {endpoints['config']}")
    console.print(
        f"Explain: curl -H 'Authorization: Bearer {hub['token']}' {hub['url']}/api/v1/availability/SKU"
    )


async def _flash_sale(console: Console, sandbox: Sandbox, options: _SessionOptions) -> dict[str, Any]:
    import asyncio
    from datetime import UTC, datetime

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from channelhub.sandbox.runner import flash_sale_target
    from channelhub.sandbox.scenarios.flash_sale import FlashSaleProgress, FlashSaleSettings, run_flash_sale
    from channelhub.sandbox.scenarios.flash_sale_report import finish_report

    target = flash_sale_target(sandbox)
    settings = FlashSaleSettings(rate=options.rate, duration_s=options.duration_s, seed=options.seed)
    started = datetime.now(UTC)
    with Progress(
        TextColumn("[bold]flash sale"),
        BarColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("sale", total=settings.duration_s, status="starting")

        def show(state: FlashSaleProgress) -> None:
            status = (
                f"{state.orders} orders ({state.units} units), {state.refused} refused, "
                f"{state.receipts} receipts, {state.adjustments} adjustments, "
                f"{state.open_events} SKUs propagating"
                + (", warehouse offline" if state.warehouse_offline else "")
            )
            progress.update(task, completed=min(state.elapsed_s, state.duration_s), status=status)

        # The shoppers and the measuring probe get their own thread and event loop: the engine's
        # loop blocks on the store now and then, and that must not delay the measurement.
        sale = await asyncio.to_thread(asyncio.run, run_flash_sale(target, settings, show))
    console.print("final reconciliation and audit ...")
    return await finish_report(sandbox, target, settings, sale, started)


async def _session(settings: SandboxSettings, options: _SessionOptions) -> None:
    import json

    from rich.console import Console

    from channelhub.bootstrap import wait_for_stop_signal
    from channelhub.sandbox.runner import Sandbox

    console = Console(stderr=False)
    console.print("starting the emulators, the engine and the API ...")
    async with Sandbox(settings) as sandbox:
        if options.endpoints_file is not None:
            sandbox.write_endpoints(options.endpoints_file)
        _print_endpoints(console, sandbox.endpoints)
        if options.scenario is Scenario.FLASH_SALE:
            report = await _flash_sale(console, sandbox, options)
            summary = {k: report[k] for k in _SUMMARY if k in report}
            console.print_json(json.dumps(summary))
            if options.report_file is not None:
                options.report_file.parent.mkdir(parents=True, exist_ok=True)
                options.report_file.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
                console.print(f"report written to {options.report_file}")
        if options.exit_when_done:
            return
        console.print("running; press Ctrl-C to stop")
        await wait_for_stop_signal()


_SUMMARY = (
    "orders",
    "refused_orders",
    "oversold_units",
    "oversold_by_channel",
    "p50_propagation_ms",
    "p99_propagation_ms",
    "unpropagated_events",
    "lost_orders",
    "duplicate_odoo_orders",
    "drift_skus_after_reconcile",
)
