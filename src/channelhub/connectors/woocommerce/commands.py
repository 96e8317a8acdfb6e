"""`channelhub bench woocommerce`: measure SKU stock updates/s through the WooCommerce connector."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from channelhub.cli import CommandGroups


def register(groups: CommandGroups) -> None:
    """Add this area's commands to the CLI groups."""

    @groups.bench.command("woocommerce")
    def bench_woocommerce(
        skus: int = typer.Option(
            1000, help="Sellable SKUs in the emulated shop (all are updated each round)."
        ),
        rounds: int = typer.Option(3, help="Full stock pushes per scenario."),
        latency_ms: float = typer.Option(50.0, help="Per-call latency scenario in ms (0 skips it)."),
        host_rate_limit: float = typer.Option(
            20.0, help="Host rate-limit scenario in requests/s the client is not told about (0 skips it)."
        ),
        in_flight: int = typer.Option(4, help="Batch calls the connector keeps in flight at once."),
        json_path: Path = typer.Option(
            Path("benchmarks/results/woocommerce.json"), "--json", help="Where to write the JSON results."
        ),
    ) -> None:
        """Push stock for many SKUs to a local WooCommerce emulator and report SKU updates/s."""
        from channelhub.benchmarks.woocommerce import run_benchmark

        report = run_benchmark(skus, rounds, latency_ms, host_rate_limit, in_flight)
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2) + "\n")
        for row in report["results"]:
            typer.echo(
                f"{row['scenario']:>52}: {row['updates_per_s']:>8} SKU updates/s  "
                f"({row['updates']} updates in {row['seconds']} s, {row['calls']} calls, "
                f"{row['items_per_call']} items/call, 429s {row['throttled_429']}, failed {row['failed']}, "
                f"read-back {row['readback_skus_per_s']} SKUs/s, mismatches {row['readback_mismatches']})"
            )
        typer.echo(f"wrote {json_path}")
        if not report["ok"]:
            raise typer.Exit(1)
