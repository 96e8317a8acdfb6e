"""`channelhub selftest crash`: SIGKILL worker processes mid-stream and prove nothing broke.

Worker processes (`channelhub selftest crash-worker`, the same CLI) handle `selftest.effect`
events by inserting one row per event into `selftest_effect`, in the handler transaction. The
test streams N events (each key's payload numbers them 0, 1, 2, ...), SIGKILLs a worker K times
while the stream runs, restarts it, waits until the log is drained, and then reads the effects:

* lost             events with no effect row
* duplicated       effect rows beyond the first for an event (an effect applied twice)
* order_violations effects of a key not in 0, 1, 2, ... order (rows in commit order)
"""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from channelhub.engine.events import LoggedEvent, NewEvent
from channelhub.engine.handlers import HandlerContext, HandlerRegistry
from channelhub.engine.outbox import append
from channelhub.engine.worker import Worker
from channelhub.store.db import create_store_engine, isolated_schema, postgres_url_from_env, upgrade_to_head

TOPIC = "selftest.effect"
EFFECTS_DDL = {
    "sqlite": "CREATE TABLE IF NOT EXISTS selftest_effect (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "event_id TEXT NOT NULL, key TEXT NOT NULL, n INTEGER NOT NULL, worker TEXT NOT NULL)",
    "postgresql": "CREATE TABLE IF NOT EXISTS selftest_effect (id BIGSERIAL PRIMARY KEY, "
    "event_id TEXT NOT NULL, key TEXT NOT NULL, n INTEGER NOT NULL, worker TEXT NOT NULL)",
}
Progress = Callable[[str, int], None]


class CrashTestError(RuntimeError):
    """The crash test could not run to the end (not the same as finding lost/duplicated events)."""


def effect_handlers(worker_id: str) -> HandlerRegistry:
    def apply_effect(event: LoggedEvent, ctx: HandlerContext) -> None:
        ctx.connection.exec_driver_sql(
            _placeholders(
                ctx.connection, "INSERT INTO selftest_effect (event_id, key, n, worker) VALUES (?, ?, ?, ?)"
            ),
            (event.event_id, event.key, event.payload["n"], worker_id),
        )

    return HandlerRegistry([(TOPIC, apply_effect)])


def _placeholders(connection: sa.Connection, statement: str) -> str:
    return statement.replace("?", "%s") if connection.dialect.name == "postgresql" else statement


def run_crash_worker(url: str, schema: str | None, lease_s: float, batch_size: int) -> None:
    """The worker process: handle events until SIGTERM (then release leases) or SIGKILL (nothing)."""
    engine = create_store_engine(url, schema)
    worker = Worker(engine, HandlerRegistry(), lease_s=lease_s, batch_size=batch_size, poll_interval_s=0.01)
    worker.handlers = effect_handlers(worker.worker_id)

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await worker.run(stop)

    asyncio.run(main())
    engine.dispose()


@contextmanager
def _database(backend: str, url: str | None) -> Iterator[tuple[str, str | None]]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="channelhub-crash-") as directory:
            yield url or f"sqlite:///{Path(directory) / 'log.db'}", None
        return
    if backend != "postgres":
        raise ValueError(f"backend must be sqlite or postgres, not {backend!r}")
    postgres_url = url or postgres_url_from_env()
    with isolated_schema(postgres_url, prefix="crash") as schema:
        yield postgres_url, schema


class _WorkerProcesses:
    def __init__(self, url: str, schema: str | None, lease_s: float, batch_size: int) -> None:
        self.command = [sys.executable, "-m", "channelhub.cli", "selftest", "crash-worker", "--url", url]
        self.command += ["--lease-s", str(lease_s), "--batch-size", str(batch_size)]
        if schema is not None:
            self.command += ["--schema", schema]
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        self.running.append(subprocess.Popen(self.command, stdin=subprocess.DEVNULL))

    def kill_one(self, engine: sa.Engine, rng: random.Random) -> dict[str, int]:
        """SIGKILL a worker that holds partitions (so it dies with work in its hands).

        Returns what the log looked like at that moment: events still pending, and the partitions
        the victim held (which must be taken over once its leases expire)."""
        deadline = time.monotonic() + 30
        while True:
            self.check_alive()
            working = [process for process in self.running if process.pid in _lease_holders(engine)]
            if working or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        if not working:
            raise CrashTestError("no worker process took a partition lease within 30 s")
        victim = rng.choice(working)
        with engine.connect() as connection:
            pending = connection.exec_driver_sql(
                "SELECT count(*) FROM log_event WHERE status = 'pending'"
            ).scalar_one()
            owners = connection.exec_driver_sql("SELECT owner FROM log_partition").scalars().all()
        held = sum(1 for owner in owners if owner and f":{victim.pid}:" in owner)
        self.running.remove(victim)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        return {"pending_at_kill": int(pending), "partitions_of_victim": held}

    def wait_until_all_hold_partitions(self, engine: sa.Engine, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while {process.pid for process in self.running} - _lease_holders(engine):
            self.check_alive()
            if time.monotonic() > deadline:
                raise CrashTestError(
                    f"the worker processes did not share the partitions within {timeout_s} s"
                )
            time.sleep(0.05)

    def check_alive(self) -> None:
        for process in self.running:
            if process.poll() is not None:
                raise CrashTestError(f"worker process {process.pid} exited on its own ({process.returncode})")

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.running = []


def selftest_crash(
    backend: str,
    events: int,
    kills: int,
    url: str | None = None,
    workers: int = 2,
    keys: int = 100,
    lease_s: float = 1.0,
    batch_size: int = 100,
    seed: int = 7,
    progress: Progress | None = None,
    timeout_s: float = 300.0,
) -> dict[str, Any]:
    """Run the crash test; returns the result document (see the module docstring)."""
    if events < 1 or kills < 0 or workers < 1 or keys < 1:
        raise ValueError("events, workers and keys must be at least 1; kills cannot be negative")
    rng = random.Random(seed)
    started = time.monotonic()
    with _database(backend, url) as (database_url, schema):
        upgrade_to_head(database_url, schema)
        engine = create_store_engine(database_url, schema)
        with engine.begin() as connection:
            connection.exec_driver_sql(EFFECTS_DDL[connection.dialect.name])
        processes = _WorkerProcesses(database_url, schema, lease_s, batch_size)
        try:
            for _ in range(workers):
                processes.start()
            processes.wait_until_all_hold_partitions(engine)
            # Spread the stream so leases expire and partitions move between kills.
            stream_s = max(2.0, 1.5 * lease_s * (kills + 1))
            kill_log = _stream_with_kills(engine, processes, events, keys, kills, rng, progress, stream_s)
            _wait_drained(engine, events, processes, timeout_s, progress)
        finally:
            processes.stop_all()
        verdict = verify_effects(engine, events)
        engine.dispose()
    return {
        "backend": backend,
        "events": events,
        "kills": kills,
        "workers": workers,
        "keys": keys,
        "lease_s": lease_s,
        **verdict,
        "kill_log": kill_log,
        "elapsed_s": round(time.monotonic() - started, 2),
    }


def _stream_with_kills(
    engine: sa.Engine,
    processes: _WorkerProcesses,
    events: int,
    keys: int,
    kills: int,
    rng: random.Random,
    progress: Progress | None,
    stream_s: float,
) -> list[dict[str, int]]:
    per_key = [0] * keys
    kill_log: list[dict[str, int]] = []
    chunk = 50
    # Kills spread evenly over the stream (by chunk start), each followed by a restart.
    kill_points = [events * (index + 1) // (kills + 1) // chunk * chunk for index in range(kills)]
    for offset in range(0, events, chunk):
        batch = []
        for index in range(offset, min(events, offset + chunk)):
            slot = rng.randrange(keys)
            batch.append(NewEvent(f"crash-{index}", TOPIC, f"key-{slot:04d}", {"n": per_key[slot]}))
            per_key[slot] += 1
        with engine.begin() as connection:
            append(connection, batch)
        for _ in range(kill_points.count(offset)):
            kill_log.append({"appended": min(events, offset + chunk), **processes.kill_one(engine, rng)})
            processes.start()
        if progress is not None:
            progress("appended", min(events, offset + chunk))
        processes.check_alive()
        time.sleep(stream_s * chunk / events)  # a stream, not one burst: kills land mid-work
    return kill_log


def _lease_holders(engine: sa.Engine) -> set[int]:
    """Process ids of the workers holding partitions (worker ids are host:pid:random)."""
    with engine.connect() as connection:
        owners = connection.exec_driver_sql(
            "SELECT DISTINCT owner FROM log_partition WHERE owner IS NOT NULL"
        ).scalars()
        return {int(owner.split(":")[-2]) for owner in owners if owner.count(":") >= 2}


def _wait_drained(
    engine: sa.Engine, events: int, processes: _WorkerProcesses, timeout_s: float, progress: Progress | None
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            pending = connection.exec_driver_sql(
                "SELECT count(*) FROM log_event WHERE status = 'pending'"
            ).scalar_one()
        if progress is not None:
            progress("handled", events - int(pending))
        if pending == 0:
            return
        processes.check_alive()
        time.sleep(0.1)
    raise CrashTestError(f"the log was not drained within {timeout_s}s")


def verify_effects(engine: sa.Engine, events: int) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT event_id, key, n FROM selftest_effect ORDER BY id").all()
        dead = connection.exec_driver_sql("SELECT count(*) FROM log_event WHERE status = 'dead'").scalar_one()
    applied: dict[str, int] = {}
    last_n: dict[str, int] = {}
    order_violations = 0
    for event_id, key, n in rows:
        applied[event_id] = applied.get(event_id, 0) + 1
        if applied[event_id] > 1:
            continue  # counted as a duplicate, not again as an order problem
        if n != last_n.get(key, -1) + 1:
            order_violations += 1
        last_n[key] = n
    expected = {f"crash-{index}" for index in range(events)}
    return {
        "lost": len(expected - applied.keys()),
        "duplicated": sum(count - 1 for count in applied.values()),
        "order_violations": order_violations,
        "effects": len(rows),
        "dead_letters": int(dead),
    }
