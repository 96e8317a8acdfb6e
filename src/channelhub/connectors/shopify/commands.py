"""`channelhub bench shopify`: SKU updates/s of the Shopify connector against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from channelhub.cli import CommandGroups


def register(groups: CommandGroups) -> None:
    """Add `bench shopify` to the CLI."""

    @groups.bench.command("shopify")
    def bench_shopify(
        skus: int = typer.Option(10_000, "--skus", min=1, help="How many SKUs to read and publish."),
        plan: str = typer.Option("basic", "--plan", help="Emulated shop plan: basic, advanced or plus."),
        api_version: str = typer.Option(
            "2025-10", "--api-version", help="Pinned API version: 2025-10 or 2026-10."
        ),
        seed: int = typer.Option(1, "--seed", help="Seed of the emulated catalog."),
        clock: str = typer.Option(
            "manual",
            "--clock",
            help="manual: emulator and connector share an injected clock (exact, seconds of wall time); "
            "real: loopback HTTP on the real clock (takes the bucket's minimum time for real).",
        ),
        catalog: str = typer.Option(
            "paged", "--catalog", help="How the SKU index is read: paged (productVariants pages) or bulk."
        ),
        json_path: Path | None = typer.Option(None, "--json", help="Write the results as JSON to this file."),
    ) -> None:
        """Publish `available` for N SKUs on an emulated shop; compare with the bucket's minimum time."""
        from channelhub.benchmarks.shopify import ShopifyBenchSettings, run

        if clock not in ("manual", "real"):
            raise typer.BadParameter("--clock must be manual or real")
        if plan not in ("basic", "advanced", "plus"):
            raise typer.BadParameter("--plan must be basic, advanced or plus")
        if api_version not in ("2025-10", "2026-10"):
            raise typer.BadParameter("--api-version must be 2025-10 or 2026-10")
        if catalog not in ("paged", "bulk"):
            raise typer.BadParameter("--catalog must be paged or bulk")
        settings = ShopifyBenchSettings(
            skus=skus, plan=plan, api_version=api_version, seed=seed, clock=clock, catalog=catalog
        )
        result = run(settings)
        text = json.dumps(result, indent=2)
        if json_path is not None:
            json_path.parent.mkdir(parents=True, exist_ok=True)
            json_path.write_text(text + "\n", encoding="utf-8")
        typer.echo(text)
        if result["throttled_errors_raised"]:
            raise typer.Exit(code=1)
