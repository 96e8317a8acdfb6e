"""`channelhub bench log`: end-to-end throughput and latency of the durable event log.

What is measured, honestly:
* a producer appends N events (K keys, payload carries each key's sequence number) in
  transactions of `append_batch` events — durable commits through the outbox `append()`;
* workers (threads, each with its own connection and partition leases) handle and acknowledge
  them in the handler transaction, with per-key order machinery on;
* the clock runs from the first append to the commit of the last acknowledgement;
* latency of an event = commit time of its acknowledgement − its append timestamp;
* the committed stream is checked for per-key order (any violation fails the run).

On PostgreSQL the peer, pgqueuer, does the same work in the same run on the same server in its
own schema: enqueue N jobs in batches of `append_batch`, while its QueueManager consumes them.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from channelhub.engine.events import LoggedEvent, NewEvent
from channelhub.engine.handlers import HandlerContext, HandlerRegistry
from channelhub.engine.outbox import append
from channelhub.engine.worker import Worker, WorkerThread
from channelhub.store.db import create_store_engine, isolated_schema, upgrade_to_head
from channelhub.store.log_tables import PARTITIONS

TOPIC = "bench.stock_changed"
Progress = Callable[[int], None]


@dataclass
class _Tally:
    """Acknowledged events as the workers commit them (shared by the worker threads)."""

    expected: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies_ms: list[float] = field(default_factory=list)
    last_seen: dict[str, int] = field(default_factory=dict)
    order_violations: int = 0
    last_commit_at: float = 0.0
    done: threading.Event = field(default_factory=threading.Event)

    def committed(self, events: Sequence[LoggedEvent], committed_at: float) -> None:
        with self.lock:
            for event in events:
                self.latencies_ms.append((committed_at - event.created_at) * 1000)
                number = event.payload["n"]
                if number != self.last_seen.get(event.key, -1) + 1:
                    self.order_violations += 1
                self.last_seen[event.key] = number
            self.last_commit_at = committed_at
            if len(self.latencies_ms) >= self.expected:
                self.done.set()


def _stock_changed(event: LoggedEvent, ctx: HandlerContext) -> None:
    """The benchmark handler: reads the payload, like a real one would (no extra IO)."""
    if event.payload["n"] < 0:
        raise ValueError("sequence numbers start at 0")


def _events(count: int, keys: int, run: str) -> list[NewEvent]:
    per_key = [0] * keys
    stream = []
    for index in range(count):
        slot = index % keys
        stream.append(
            NewEvent(f"{run}-{index}", TOPIC, f"sku-{slot:05d}", {"n": per_key[slot], "on_hand": index % 97})
        )
        per_key[slot] += 1
    return stream


def _slot(key: str) -> int:
    return int(key.rsplit("-", 1)[1])


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    position = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[position]


def run_channelhub(
    url: str,
    schema: str | None,
    events: int,
    keys: int,
    workers: int = 1,
    batch_size: int = 500,
    append_batch: int = 100,
    progress: Progress | None = None,
    poll_s: float = 0.01,
    producers: int = 1,
) -> dict[str, Any]:
    upgrade_to_head(url, schema)
    engine = create_store_engine(url, schema, pool_size=workers + 2)
    tally = _Tally(expected=events)
    handlers = HandlerRegistry([(TOPIC, _stock_changed)])
    pool = [
        Worker(
            engine,
            handlers,
            batch_size=batch_size,
            lease_s=10.0,
            poll_interval_s=poll_s,
            on_committed=tally.committed,
        )
        for _ in range(workers)
    ]

    threads = [WorkerThread(worker).start() for worker in pool]
    try:
        _wait_for_balanced_leases(pool)
        started_at = _stream(url, schema, engine, events, keys, append_batch, producers, tally, progress)
    finally:
        for thread in threads:
            thread.stop()
    engine.dispose()
    if progress is not None:
        progress(events)
    elapsed = tally.last_commit_at - started_at
    return {
        "events_per_s": round(events / elapsed, 1),
        "elapsed_s": round(elapsed, 3),
        "p50_ms": round(percentile(tally.latencies_ms, 0.50), 2),
        "p99_ms": round(percentile(tally.latencies_ms, 0.99), 2),
        "mean_ms": round(statistics.fmean(tally.latencies_ms), 2),
        "order_violations": tally.order_violations,
        "workers": workers,
        "batch_size": batch_size,
        "append_batch": append_batch,
        "producers": producers,
    }


def _stream(
    url: str,
    schema: str | None,
    engine: Any,
    events: int,
    keys: int,
    append_batch: int,
    producers: int,
    tally: _Tally,
    progress: Progress | None,
) -> float:
    """Run the producers until every event is acknowledged; returns when the first one started."""
    context = multiprocessing.get_context("spawn")
    go, started_at = context.Event(), context.Value("d", 0.0)
    producer_failures: list[BaseException] = []
    if engine.dialect.name == "sqlite":
        # Embedded mode is one process: producers are threads sharing the engine (and its writer mutex).
        def produce_in_thread(index: int) -> None:
            try:
                _produce(url, schema, events, keys, append_batch, index, producers, go, started_at, engine)
            except BaseException as error:
                producer_failures.append(error)
                raise

        producer_units: list[Any] = [
            threading.Thread(target=produce_in_thread, args=(index,), daemon=True)
            for index in range(producers)
        ]
    else:
        # Producers are other processes, as webhook ingress would be: they do not share our GIL.
        producer_units = [
            context.Process(
                target=_produce,
                args=(url, schema, events, keys, append_batch, index, producers, go, started_at),
                daemon=True,
            )
            for index in range(producers)
        ]
    # Each producer owns a slice of the keys, so every key has one producer and a defined order.
    for unit in producer_units:
        unit.start()
    go.set()
    last_count, last_change = -1, time.monotonic()
    while not tally.done.wait(0.1):
        count = len(tally.latencies_ms)
        if progress is not None:
            progress(count)
        if count != last_count:
            last_count, last_change = count, time.monotonic()
        failed = bool(producer_failures) or any(
            getattr(unit, "exitcode", None) not in (None, 0) for unit in producer_units
        )
        if failed or time.monotonic() - last_change > 60:
            raise RuntimeError(
                "the producer process failed" if failed else f"no progress for 60 s at {count} events"
            )
    for unit in producer_units:
        unit.join(30)
    return float(started_at.value)


def _produce(
    url: str,
    schema: str | None,
    events: int,
    keys: int,
    append_batch: int,
    index: int,
    producers: int,
    go: Any,
    started_at: Any,
    shared_engine: Any = None,
) -> None:
    engine = shared_engine or create_store_engine(url, schema)
    stream = [event for event in _events(events, keys, "bench") if _slot(event.key) % producers == index]
    with engine.connect():
        pass  # connect before the clock starts
    go.wait()
    with started_at.get_lock():
        now = time.time()
        if started_at.value == 0.0 or now < started_at.value:
            started_at.value = now
    for offset in range(0, events, append_batch):
        with engine.begin() as connection:
            append(connection, stream[offset : offset + append_batch])
    if shared_engine is None:
        engine.dispose()


def _wait_for_balanced_leases(pool: Sequence[Worker], timeout_s: float = 15.0) -> None:
    """Workers start before the stream, like a running deployment; wait until they split the work."""
    fair = PARTITIONS // len(pool)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        owned = [len(worker.leases.owned) for worker in pool]
        if sum(owned) == PARTITIONS and min(owned) >= fair:
            return
        time.sleep(0.02)
    raise RuntimeError(f"workers did not balance their partitions within {timeout_s}s")


def bench_log(
    backend: str,
    events: int,
    keys: int,
    url: str | None = None,
    workers: int | None = None,
    batch_size: int = 500,
    append_batch: int = 100,
    with_peer: bool = True,
    repeat: int = 1,
    progress: Progress | None = None,
    peer_progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the benchmark `repeat` times (ours, then the peer, alternating); the document reports
    the median run of each (every run is listed under `runs`) — this box is shared, so one run can
    land on a busy moment."""
    if events < 1 or keys < 1 or repeat < 1:
        raise ValueError("events, keys and repeat must be at least 1")
    if backend not in ("sqlite", "postgres"):
        raise ValueError(f"backend must be sqlite or postgres, not {backend!r}")
    ours: list[dict[str, Any]] = []
    peers: list[dict[str, Any]] = []
    load_before = os.getloadavg()[0]
    for _ in range(repeat):
        if backend == "sqlite":
            # One writer at a time is SQLite's nature: a second worker only adds lock waits.
            with tempfile.TemporaryDirectory(prefix="channelhub-bench-") as directory:
                sqlite_url = f"sqlite:///{Path(directory) / 'log.db'}"
                ours.append(
                    run_channelhub(
                        sqlite_url, None, events, keys, workers or 1, batch_size, append_batch, progress
                    )
                )
            continue
        from channelhub.store.db import postgres_url_from_env

        postgres_url = url or postgres_url_from_env()
        with isolated_schema(postgres_url, prefix="bench") as schema:
            ours.append(
                run_channelhub(
                    postgres_url, schema, events, keys, workers or 1, batch_size, append_batch, progress
                )
            )
        if with_peer:
            with isolated_schema(postgres_url, prefix="pgq") as schema:
                assert schema is not None
                peers.append(
                    asyncio.run(
                        run_pgqueuer(postgres_url, schema, events, append_batch, batch_size, peer_progress)
                    )
                )
    result: dict[str, Any] = {"backend": backend, "events": events, "keys": keys, **_median(ours)}
    # The machine is shared: record how busy it was, so numbers from different runs compare fairly.
    result["host"] = {
        "cpus": os.cpu_count(),
        "load_avg_1m_before": round(load_before, 2),
        "load_avg_1m_after": round(os.getloadavg()[0], 2),
    }
    if peers:
        result["peer"] = _median(peers)
        result["vs_peer"] = round(result["events_per_s"] / result["peer"]["events_per_s"], 2)
    if repeat > 1:
        result["runs"] = [{"events_per_s": run["events_per_s"], "p99_ms": run["p99_ms"]} for run in ours]
        if peers:
            result["peer_runs"] = [run["events_per_s"] for run in peers]
    return result


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(runs, key=lambda run: run["events_per_s"])[len(runs) // 2]


def _pgqueuer_queries(connection: Any, schema: str) -> Any:
    """pgqueuer's query layer on `connection`, with every object in `schema` (ours, dropped after)."""
    from pgqueuer.adapters.drivers.asyncpg import AsyncpgDriver
    from pgqueuer.adapters.persistence.qb import (
        QueryBuilderEnvironment,
        QueryQueueBuilder,
        QuerySchedulerBuilder,
    )
    from pgqueuer.adapters.persistence.queries import Queries
    from pgqueuer.domain.settings import DBSettings
    from pgqueuer.domain.types import Channel

    settings = DBSettings(db_schema=schema, channel=Channel(f"ch_{schema}"))
    return Queries(
        AsyncpgDriver(connection),
        qbe=QueryBuilderEnvironment(settings),
        qbq=QueryQueueBuilder(settings),
        qbs=QuerySchedulerBuilder(settings),
    )


def _pgqueuer_produce(
    dsn: str, schema: str, events: int, enqueue_batch: int, go: Any, started_at: Any
) -> None:
    """The peer's producer process (as ours): enqueue `events` jobs in batches."""
    import asyncpg

    async def produce() -> None:
        connection = await asyncpg.connect(dsn)
        queries = _pgqueuer_queries(connection, schema)
        payloads: list[bytes | None] = [str(index).encode() for index in range(events)]
        go.wait()
        started_at.value = time.time()
        for offset in range(0, events, enqueue_batch):
            chunk = payloads[offset : offset + enqueue_batch]
            await queries.enqueue(["stock_changed"] * len(chunk), chunk, [0] * len(chunk))
        await connection.close()

    asyncio.run(produce())


async def run_pgqueuer(
    url: str,
    schema: str,
    events: int,
    enqueue_batch: int,
    batch_size: int = 500,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """pgqueuer doing the same work: a producer process enqueues `events` jobs in batches while a
    QueueManager dequeues `batch_size` jobs at a time (as our workers) and runs them; all in `schema`."""
    import asyncpg
    from pgqueuer import QueueManager
    from pgqueuer.domain.types import Channel

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    try:
        queries = _pgqueuer_queries(connection, schema)
        await queries.install(create_schema=False)
        manager = QueueManager(queries, channel=Channel(f"ch_{schema}"))
        handled, finished_at = 0, 0.0

        @manager.entrypoint("stock_changed")
        async def stock_changed(job: Any) -> None:
            nonlocal handled, finished_at
            handled += 1
            if handled >= events:
                finished_at = time.time()
                manager.shutdown.set()

        consumer = asyncio.create_task(manager.run(batch_size=batch_size))
        await asyncio.sleep(0.5)  # the manager is listening before the stream starts, like our workers
        context = multiprocessing.get_context("spawn")
        go, started_at = context.Event(), context.Value("d", 0.0)
        producer = context.Process(
            target=_pgqueuer_produce, args=(dsn, schema, events, enqueue_batch, go, started_at), daemon=True
        )
        producer.start()
        go.set()
        while not consumer.done():
            await asyncio.wait([consumer], timeout=0.1)
            if progress is not None:
                progress(handled)
            if producer.exitcode not in (None, 0):
                manager.shutdown.set()
                raise RuntimeError("the pgqueuer producer process failed")
        await consumer
        producer.join(30)
        elapsed = finished_at - started_at.value
        return {
            "name": "pgqueuer",
            "version": _version("pgqueuer"),
            "events_per_s": round(events / elapsed, 1),
            "elapsed_s": round(elapsed, 3),
            "batch_size": batch_size,
        }
    finally:
        await connection.close()


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)
