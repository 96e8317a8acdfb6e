"""Benchmark commands of the inventory-and-orders slice: `bench flash-sale`, `bench publisher`,
`bench memory`."""

from __future__ import annotations

import json
import platform
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from channelhub.cli import CommandGroups


def _write(path: Path | None, document: dict[str, Any]) -> None:
    text = json.dumps(document, indent=2)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    typer.echo(text)


def _machine() -> dict[str, Any]:
    import os

    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}


def _command_line() -> str:
    return "channelhub " + " ".join(shlex.quote(arg) for arg in sys.argv[1:])


def register(groups: CommandGroups) -> None:
    """Add the flash-sale, publisher and memory benchmarks to `channelhub bench`."""

    @groups.bench.command("flash-sale")
    def bench_flash_sale_command(
        skus: int = typer.Option(
            10_000, min=10, help="SKUs in the catalog (about 1 % are flash-sale items)."
        ),
        rate: float = typer.Option(50.0, min=0.1, help="Shopper orders per second over both channels."),
        duration: float = typer.Option(120.0, min=1.0, help="Length of the sale in wall-clock seconds."),
        seed: int = typer.Option(1, help="Seed of the catalog, the stock and the order stream."),
        json_file: Path | None = typer.Option(None, "--json", help="Write the result document here."),
        arms: str = typer.Option(
            "oracle,cron,channelhub", help="Comma-separated arms to run: oracle, cron, channelhub."
        ),
        cron_interval: float = typer.Option(60.0, min=1.0, help="Seconds between the cron arm's full syncs."),
        fence_below: int = typer.Option(
            20,  # flash_sale.DEFAULT_FENCE_BELOW (that module is imported only when the command runs)
            min=0,
            help="channelhub deals a SKU's last units between the channels when this many or fewer are left"
            " (the low-stock fence).",
        ),
        no_fence: bool = typer.Option(False, "--no-fence", help="Run channelhub on plain shared stock."),
    ) -> None:
        """One seeded flash sale against three arms (channelhub, a 60 s cron export, a zero-latency
        oracle): oversold units, propagation p50/p99, API calls, lost and duplicate orders, drift."""
        from channelhub.benchmarks.flash_sale import ARMS, FlashSaleParams, run_flash_sale

        chosen = tuple(name.strip() for name in arms.split(",") if name.strip())
        unknown = sorted(set(chosen) - set(ARMS))
        if unknown or not chosen:
            raise typer.BadParameter(f"choose from {', '.join(ARMS)}", param_hint="--arms")
        params = FlashSaleParams(
            skus, rate, duration, seed, cron_interval, chosen, fence_below=None if no_fence else fence_below
        )

        def save(document: dict[str, Any], final: bool = False) -> None:
            document["command"] = _command_line()
            document["machine"] = _machine()
            if final:
                _write(json_file, document)
            elif json_file is not None:  # partial: the arms finished so far
                json_file.parent.mkdir(parents=True, exist_ok=True)
                json_file.write_text(json.dumps(document, indent=2) + "\n")

        result = run_flash_sale(params, progress=lambda line: typer.echo(line, err=True), on_arm_done=save)
        save(result, final=True)

    @groups.bench.command("publisher")
    def bench_publisher_command(
        skus: int = typer.Option(10_000, min=10, help="SKUs on each of the two channels."),
        latency: float = typer.Option(0.2, min=0.0, help="Seconds a full call takes on the fake channels."),
        sale_interval: float = typer.Option(
            0.05, min=0.0, help="Seconds between two sold-out SKUs during the rewrite (0: no sale)."
        ),
        seed: int = typer.Option(1, help="Seed of the sale's SKUs and quantities."),
        modes: str = typer.Option("pipeline,rounds", help="Comma-separated: pipeline, rounds."),
        json_file: Path | None = typer.Option(None, "--json", help="Write the result document here."),
    ) -> None:
        """The publisher alone: every SKU's quantity drops on two channels (a warehouse going
        offline) while single SKUs sell out; the pipeline against the loop of passes."""
        from channelhub.benchmarks.publisher import MODES, run_publisher_bench

        chosen = tuple(name.strip() for name in modes.split(",") if name.strip())
        if not chosen or set(chosen) - set(MODES):
            raise typer.BadParameter(f"choose from {', '.join(MODES)}", param_hint="--modes")
        result = run_publisher_bench(
            skus, latency, sale_interval, seed, chosen, progress=lambda line: typer.echo(line, err=True)
        )
        result["command"] = _command_line()
        result["machine"] = _machine()
        _write(json_file, result)

    @groups.bench.command("memory")
    def bench_memory_command(
        skus: int = typer.Option(100_000, min=10, help="SKUs on each of the two channels."),
        seed: int = typer.Option(1, help="Seed of the catalog and the stock."),
        max_wait: float = typer.Option(
            900.0, min=1.0, help="Give up waiting for the first publish after this."
        ),
        json_file: Path | None = typer.Option(None, "--json", help="Write the result document here."),
    ) -> None:
        """Resident memory (RSS) of the engine process with SKUS x 2 channels, through start-up
        snapshot and the first publish of every listing."""
        from channelhub.benchmarks.flash_sale_memory import run_memory

        result = run_memory(skus, seed, max_wait, progress=lambda line: typer.echo(line, err=True))
        result["command"] = _command_line()
        result["machine"] = _machine()
        _write(json_file, result)
