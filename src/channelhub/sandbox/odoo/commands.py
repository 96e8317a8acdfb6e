"""`channelhub emulate odoo`: run the Odoo emulator on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from channelhub.cli import CommandGroups


def register(groups: CommandGroups) -> None:
    """Add this area's commands to the CLI groups."""

    @groups.emulate.command("odoo")
    def emulate_odoo(
        port: int = typer.Option(8069, help="Port to listen on (127.0.0.1)."),
        host: str = typer.Option("127.0.0.1", help="Interface to bind."),
        version: str = typer.Option("17.0", help="Odoo series to impersonate: 16.0, 17.0, 18.0 or 19.0."),
        db: str = typer.Option("retail", help="Database name served."),
        login: str = typer.Option("admin", help="Login of the admin user."),
        password: str = typer.Option("admin", help="Password of the admin user."),
        api_key: str = typer.Option("", help="API key to accept (default: generated)."),
        seed: int = typer.Option(0, help="Seed of the generated data and of the chaos randomness."),
        skus: int = typer.Option(200, help="Number of product variants to generate (0: base data only)."),
        latency_ms: float = typer.Option(0.0, help="Chaos: latency added to every RPC call (ms)."),
        jitter_ms: float = typer.Option(0.0, help="Chaos: random extra latency up to this (ms)."),
        error_rate: float = typer.Option(0.0, help="Chaos: share of requests answered HTTP 500/502/504."),
        fault_rate: float = typer.Option(
            0.0, help="Chaos: share of RPC calls failing with an Odoo-level fault."
        ),
        max_concurrency: int = typer.Option(
            0, help="Chaos: requests in flight above this get 503 (0: no limit)."
        ),
        serialization_failure_rate: float = typer.Option(
            0.0, help="Chaos: share of writes failing with a serialization failure."
        ),
        lost_response_rate: float = typer.Option(
            0.0, help="Chaos: share of committed writes answered 504 (the answer is lost)."
        ),
        webhook_duplicate_rate: float = typer.Option(
            0.0, help="Chaos: share of webhook notifications sent twice."
        ),
        webhook_max_delay_ms: float = typer.Option(
            0.0, help="Chaos: webhook notifications delayed up to this (ms), so they may arrive out of order."
        ),
        concurrent_write_conflicts: bool = typer.Option(
            False, help="Chaos: overlapping writes on the same records fail."
        ),
        outage: list[str] = typer.Option(
            [], help="Chaos: outage window START:END in seconds after start (repeatable)."
        ),
    ) -> None:
        """Run the Odoo emulator (XML-RPC, JSON-RPC, web routes, JSON-2 on 19.0)."""
        import time

        import uvicorn

        from channelhub.sandbox.odoo.app import EmulatorSettings, create_emulator
        from channelhub.sandbox.odoo.chaos import ChaosSettings

        try:
            windows = [_outage_window(text) for text in outage]
            chaos = ChaosSettings(
                latency_ms=latency_ms, jitter_ms=jitter_ms, error_rate=error_rate, fault_rate=fault_rate,
                max_concurrency=max_concurrency, serialization_failure_rate=serialization_failure_rate,
                concurrent_write_conflicts=concurrent_write_conflicts, outages=windows, seed=seed,
                lost_response_rate=lost_response_rate, webhook_duplicate_rate=webhook_duplicate_rate,
                webhook_max_delay_ms=webhook_max_delay_ms,
            )  # fmt: skip
            chaos.validate()
            settings = EmulatorSettings(
                version=version, db=db, login=login, password=password, api_key=api_key or None,
                seed=seed, skus=skus, chaos=chaos,
            )  # fmt: skip
            started = time.monotonic()
            emulator = create_emulator(settings)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        database = emulator.database
        typer.echo(f"Odoo {database.version.serie} emulator")
        typer.echo(f"  url:      http://{host}:{port}")
        typer.echo(f"  db:       {database.name}")
        typer.echo(f"  login:    {database.login}")
        typer.echo(f"  password: {database.password}")
        typer.echo(f"  api key:  {database.api_key}")
        counts = {
            name: len(database.model(name).rows) for name in ("product.product", "stock.quant", "res.partner")
        }
        typer.echo(f"  data:     {counts} (seed {seed}, built in {time.monotonic() - started:.1f}s)")
        uvicorn.run(emulator.app, host=host, port=port, log_level="warning")

    @groups.bench.command("odoo-emulator")
    def bench_odoo_emulator(
        version: str = typer.Option("17.0", help="Odoo series to impersonate."),
        skus: int = typer.Option(50_000, help="Product variants to generate (4 quants each)."),
        seed: int = typer.Option(1, help="Seed of the generated data."),
        repeats: int = typer.Option(5, help="Repetitions per measured call."),
        json_path: Path = typer.Option(
            Path("benchmarks/results/odoo-emulator.json"), "--json", help="Where to write the JSON results."
        ),
    ) -> None:
        """Time search_read of 1,000 products / quants from the Odoo emulator over XML-RPC and JSON-RPC."""
        from channelhub.sandbox.odoo.bench import dumps, run_search_read_benchmark

        report = run_search_read_benchmark(version, skus, seed, repeats)
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(dumps(report) + "\n")
        typer.echo(dumps(report))
        typer.echo(f"wrote {json_path}")


def _outage_window(text: str) -> tuple[float, float]:
    start, separator, end = text.partition(":")
    try:
        window = (float(start), float(end))
    except ValueError:
        window = (0.0, -1.0)
    if not separator or window[0] < 0 or window[1] <= window[0]:
        raise ValueError(f"outage {text!r} must be START:END seconds after start, with END > START >= 0")
    return window
