"""`channelhub bench odoo-stock`: read stock positions for many SKUs from a local Odoo emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from channelhub.cli import CommandGroups


def register(groups: CommandGroups) -> None:
    """Add this area's commands to the CLI groups."""

    @groups.bench.command("odoo-stock")
    def bench_odoo_stock(
        skus: int = typer.Option(
            50_000, help="SKUs seeded in the emulated Odoo; stock is read for all of them."
        ),
        version: str = typer.Option("17.0", help="Odoo version the emulator impersonates (16.0-19.0)."),
        protocol: str = typer.Option("jsonrpc", help="Wire protocol: jsonrpc, xmlrpc or json2 (19.0 only)."),
        seed: int = typer.Option(1, help="Seed of the emulator's generated catalog."),
        rounds: int = typer.Option(2, help="Timed full reads (the best and every round are reported)."),
        json_path: Path = typer.Option(
            Path("benchmarks/results/odoo-stock.json"), "--json", help="Where to write the JSON results."
        ),
    ) -> None:
        """Read stock positions (on hand, reserved, hold per SKU x warehouse) for N SKUs; report records/s."""
        from channelhub.benchmarks.odoo_stock import run_benchmark

        try:
            report = run_benchmark(skus=skus, version=version, protocol=protocol, seed=seed, rounds=rounds)
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2) + "\n")
        for row in report["rounds"]:
            typer.echo(
                f"round {row['round']}: {row['skus_per_s']:>9} SKUs/s, {row['quants_per_s']:>9} quant records/s "
                f"({row['skus']} SKUs, {row['quant_records']} quants, {row['positions']} positions "
                f"in {row['seconds']} s, {row['odoo_calls']} calls)"
            )
        raw = report["raw_quant_pages"]
        typer.echo(
            f"baseline: {raw['records']} quants read page by page without mapping in {raw['seconds']} s "
            f"({raw['records_per_s']} records/s)"
        )
        typer.echo(f"seeding took {report['seed_seconds']} s; wrote {json_path}")
        if not report["ok"]:
            raise typer.Exit(1)
