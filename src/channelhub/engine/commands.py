"""Commands of the engine area: `bench log`, `selftest crash` (and its hidden worker), `dead-letters`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from channelhub.cli import CommandGroups

BACKEND_HELP = "sqlite (a temporary file) or postgres (CHANNELHUB_DATABASE_URL, its own schema per run)."


def _write_json(path: Path | None, document: dict[str, Any]) -> None:
    text = json.dumps(document, indent=2)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    typer.echo(text)


def _check_backend(backend: str) -> None:
    if backend not in ("sqlite", "postgres"):
        raise typer.BadParameter(f"must be sqlite or postgres, not {backend!r}", param_hint="--backend")


def register(groups: CommandGroups) -> None:
    """Add this area's commands to the CLI groups."""

    @groups.bench.command("log")
    def bench_log_command(
        backend: str = typer.Option("sqlite", help=BACKEND_HELP),
        events: int = typer.Option(20_000, min=1, help="Events to append and handle."),
        keys: int = typer.Option(1_000, min=1, help="Distinct ordering keys (per-key order is enforced)."),
        json_file: Path | None = typer.Option(None, "--json", help="Write the result document here."),
        workers: int | None = typer.Option(
            None,
            min=1,
            help="Worker threads, each with its own connection and partition leases (default 1).",
        ),
        batch_size: int = typer.Option(500, min=1, help="Events a worker handles per transaction."),
        append_batch: int = typer.Option(100, min=1, help="Events the producer appends per transaction."),
        peer: bool = typer.Option(True, help="With postgres: also run pgqueuer on the same work."),
        repeat: int = typer.Option(
            1, min=1, help="Run this many times; report the median run (all are listed)."
        ),
        url: str | None = typer.Option(None, help="PostgreSQL URL (default: CHANNELHUB_DATABASE_URL)."),
    ) -> None:
        """End-to-end log throughput (append → handled → acknowledged) and latency; pgqueuer as peer."""
        _check_backend(backend)
        from rich.progress import Progress

        from channelhub.benchmarks.log import bench_log

        with Progress(transient=True) as bar:
            ours = bar.add_task(f"channelhub log ({backend})", total=events)
            theirs = bar.add_task("pgqueuer", total=events, visible=backend == "postgres" and peer)
            result = bench_log(
                backend,
                events,
                keys,
                url=url,
                workers=workers,
                batch_size=batch_size,
                append_batch=append_batch,
                with_peer=peer,
                repeat=repeat,
                progress=lambda done: bar.update(ours, completed=done),
                peer_progress=lambda done: bar.update(theirs, completed=done),
            )
        _write_json(json_file, result)
        if result.get("order_violations"):
            raise typer.Exit(1)

    @groups.selftest.command("crash")
    def selftest_crash_command(
        backend: str = typer.Option("sqlite", help=BACKEND_HELP),
        events: int = typer.Option(10_000, min=1, help="Events in the stream."),
        kills: int = typer.Option(3, min=0, help="How many times a worker process is SIGKILLed mid-stream."),
        json_file: Path | None = typer.Option(None, "--json", help="Write the result document here."),
        workers: int = typer.Option(2, min=1, help="Worker processes running at the same time."),
        keys: int = typer.Option(100, min=1, help="Distinct ordering keys."),
        lease_s: float = typer.Option(
            1.0, min=0.1, help="Partition lease; a killed worker's work moves after it."
        ),
        url: str | None = typer.Option(None, help="Database URL (overrides the default for the backend)."),
    ) -> None:
        """Kill worker processes with SIGKILL mid-stream; prove nothing was lost, duplicated or reordered."""
        _check_backend(backend)
        from rich.progress import Progress

        from channelhub.engine.crash import selftest_crash

        with Progress(transient=True) as bar:
            tasks = {
                "appended": bar.add_task("appended", total=events),
                "handled": bar.add_task("handled", total=events),
            }
            result = selftest_crash(
                backend,
                events,
                kills,
                url=url,
                workers=workers,
                keys=keys,
                lease_s=lease_s,
                progress=lambda stage, done: bar.update(tasks[stage], completed=done),
            )
        _write_json(json_file, result)
        if result["lost"] or result["duplicated"] or result["order_violations"]:
            raise typer.Exit(1)

    dead_letters = typer.Typer(
        help="Events that failed for good: list them, replay them.", no_args_is_help=True
    )
    groups.root.add_typer(dead_letters, name="dead-letters")
    database_url = typer.Option(
        ..., "--url", envvar="CHANNELHUB_DATABASE_URL", help="Database URL of the log."
    )
    schema_option = typer.Option(None, help="PostgreSQL schema holding the log (default: search_path).")
    topic_option = typer.Option(None, help="Only this topic.")
    key_option = typer.Option(None, help="Only this ordering key.")
    error_option = typer.Option(
        None, "--error", help="Only dead letters whose last error contains this text."
    )

    @dead_letters.command("list")
    def list_command(
        url: str = database_url,
        schema: str | None = schema_option,
        topic: str | None = topic_option,
        key: str | None = key_option,
        error: str | None = error_option,
        limit: int = typer.Option(100, min=1, help="At most this many, oldest first."),
    ) -> None:
        """List dead letters with their reason, attempts and last error (JSON lines)."""
        from dataclasses import asdict

        from channelhub.engine.dead_letters import DeadLetterFilter, list_dead_letters
        from channelhub.store.db import create_store_engine

        engine = create_store_engine(url, schema)
        with engine.connect() as connection:
            letters = list_dead_letters(connection, DeadLetterFilter(topic, key, error), limit)
        engine.dispose()
        for letter in letters:
            typer.echo(json.dumps(asdict(letter)))

    @dead_letters.command("replay")
    def replay_command(
        url: str = database_url,
        schema: str | None = schema_option,
        event_id: str | None = typer.Option(None, help="Replay this one event."),
        topic: str | None = topic_option,
        key: str | None = key_option,
        error: str | None = error_option,
        replay_all: bool = typer.Option(False, "--all", help="Replay every dead letter."),
    ) -> None:
        """Make dead letters pending again (one, by filter, or --all); prints how many."""
        from channelhub.engine.dead_letters import DeadLetterFilter, replay
        from channelhub.store.db import create_store_engine

        matching = DeadLetterFilter(topic, key, error, event_id)
        if matching == DeadLetterFilter() and not replay_all:
            raise typer.BadParameter(
                "name what to replay (--event-id, --topic, --key, --error) or pass --all"
            )
        engine = create_store_engine(url, schema)
        with engine.begin() as connection:
            count = replay(connection, matching)
        engine.dispose()
        typer.echo(f"replayed {count} dead letter(s)")

    @groups.selftest.command("crash-worker", hidden=True)
    def crash_worker_command(
        url: str = typer.Option(..., help="Database URL."),
        schema: str | None = typer.Option(None, help="PostgreSQL schema of the run."),
        lease_s: float = typer.Option(1.0, help="Partition lease in seconds."),
        batch_size: int = typer.Option(100, help="Events per transaction."),
    ) -> None:
        """A worker process of `selftest crash` (started and killed by it)."""
        from channelhub.engine.crash import run_crash_worker

        run_crash_worker(url, schema, lease_s, batch_size)
