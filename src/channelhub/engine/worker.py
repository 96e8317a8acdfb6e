"""The log worker: handles the events of the partitions it leases, in batches.

One cycle = one transaction (two when the batch holds external handlers: the keys without
external work are handled in the first, the calls to other systems run with no transaction open,
and their keys' events are handled in the second; see `handlers`): fetch ready events of our partitions (tier 1 first), call each
event's handler with the open transaction, acknowledge them all, commit. Handler effects, their
follow-up events, idempotency records and acknowledgements therefore commit together or not at
all. Acknowledgement is a compare-and-set (`status = 'pending'`): if our lease ran out and another
worker handled an event meanwhile, the count does not match and the whole batch rolls back — a
stalled worker can never apply an effect twice.

Failures: the fast path runs a batch without savepoints. When a handler raises, the transaction
rolls back and the same batch runs again in careful mode, one savepoint per event, so the failing
event is retried later (backoff with full jitter) or dead-lettered while the others commit. The
failed event's later events of the same key wait (per-key order).

Overlap (`overlap_external=True`, what the runtime uses): a cycle does not wait for its external
calls. The keys that have them are set aside (their later events wait) and applied by a background
group in a transaction of its own when the calls are done, while the next cycles go on with the
other keys; the worker's connection is used by one transaction at a time. A cycle takes at most
one external event per key and no more than the set-aside backlog holds; a key's later events wait
for a later cycle without hiding the other keys' events behind them (`_admit`), and a queued run
of a *coalescing* topic's events of one key is answered by one call (`register_external`).
A batch is chosen from the ready rows without their payloads; only the chosen events' are read.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from channelhub.clock import SYSTEM_CLOCK, Clock
from channelhub.engine.events import LoggedEvent
from channelhub.engine.handlers import (
    Apply,
    ExternalContext,
    HandlerContext,
    HandlerRegistry,
    call_handler,
    describe_error,
    is_retryable,
)
from channelhub.engine.leases import PartitionLeases
from channelhub.engine.outbox import sql_for_dialect
from channelhub.engine.scheduling import OrderingKey, cut_for_external, ordering_key, select_batch
from channelhub.resilience import RetryPolicy
from channelhub.store.db import reader

log = logging.getLogger(__name__)

# External handlers' first phases (Odoo calls) of one batch run at most this many at a time
# (the default of `Worker(external_concurrency=)`).
EXTERNAL_CONCURRENCY = 8
_NOT_READ: dict[str, Any] = {}  # a candidate's payload until it is chosen for a batch
# With `overlap_external`, at most this many times `external_concurrency` events are set aside
# waiting for (or making) their external calls; more external events wait in the log.
EXTERNAL_BACKLOG_FACTOR = 4

CommittedHook = Callable[[Sequence[LoggedEvent], float], None]
"""Called after each commit with the acknowledged events and the time of the commit."""


class LeaseLost(Exception):
    """Another worker took over one of our partitions while we were handling a batch."""


@dataclass
class _Failure:
    index: int
    error: Exception


def default_retry_policy() -> RetryPolicy:
    return RetryPolicy(max_attempts=8, base_delay=1.0, max_delay=300.0, is_retryable=is_retryable)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Worker:
    """Consumes the log. Create one per process (or several, each with its own connection)."""

    def __init__(
        self,
        engine: Engine,
        handlers: HandlerRegistry,
        *,
        worker_id: str | None = None,
        clock: Clock = SYSTEM_CLOCK,
        retry: RetryPolicy | None = None,
        batch_size: int = 500,
        lease_s: float = 10.0,
        poll_interval_s: float = 0.02,
        on_committed: CommittedHook | None = None,
        tiers: Collection[int] = (1, 2, 3),
        partitions: Sequence[int] | None = None,
        external_concurrency: int = EXTERNAL_CONCURRENCY,
        overlap_external: bool = False,
    ) -> None:
        """`tiers`: the tiers this worker handles (a lane, e.g. tier 2 only for the ERP order
        sync, so slow ERP calls never delay tier 1). `partitions`: a fixed set to handle without
        leasing (the caller guarantees one such worker per lane and store); None: lease a fair share.

        `overlap_external`: the next batches do not wait for a batch's external calls. Their keys
        are set aside (their later events wait, per-key order holds) while the calls run in the
        background, at most `external_concurrency` at a time and `EXTERNAL_BACKLOG_FACTOR` times
        that many events set aside; each set-aside group is applied in a transaction of its own
        when its calls are done. So an order event never waits for an ERP stock read that
        happened to share its batch."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.engine = engine
        self.handlers = handlers
        self.worker_id = worker_id or default_worker_id()
        self.clock = clock
        self.retry = retry or default_retry_policy()
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.on_committed = on_committed
        self._connection: sa.Connection | None = None
        self._sql = sql_for_dialect(engine.dialect.name)
        self._reader = reader(engine)  # external handlers' reads take no write lock
        self.tiers = frozenset(tiers)
        if not self.tiers or not self.tiers <= {1, 2, 3}:
            raise ValueError(f"tiers must be a non-empty subset of 1, 2, 3, not {sorted(tiers)}")
        self.leases = PartitionLeases(self.worker_id, self._sql, lease_s)
        self._fixed_partitions = list(partitions) if partitions is not None else None
        self.external_concurrency = max(1, external_concurrency)
        self.overlap_external = overlap_external
        # One transaction at a time on the worker's connection: the main cycle and the background
        # groups of set-aside external events take turns (created in the worker's loop).
        self._db_lock: asyncio.Lock | None = None
        self._external_slots: asyncio.Semaphore | None = None
        self._set_aside: dict[int, OrderingKey] = {}  # seq -> key of events whose calls run
        # Coalescing (see `HandlerRegistry.register_external`): an admitted event's seq -> the
        # queued events of its key and topic its call answers (this cycle's, then in flight).
        self._riders: dict[int, list[LoggedEvent]] = {}
        self._riding = 0  # riders in flight (in `_set_aside`, but they make no call)
        self._set_aside_tasks: set[asyncio.Task[int]] = set()
        self._passed_over = 0  # pending events the last cycle read but left for later (overlap mode)
        self._next_maintenance = 0.0
        self.handled = 0

    # -- running -------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Handle events until `stop` is set; then give the partitions back."""
        stop = stop or asyncio.Event()
        try:
            while not stop.is_set():
                try:
                    handled = await self.run_once()
                except sa.exc.DBAPIError as error:
                    if not error.connection_invalidated and not isinstance(error, sa.exc.OperationalError):
                        raise
                    log.warning("worker %s: database unavailable (%s); retrying", self.worker_id, error)
                    self._drop_connection()
                    handled = 0
                    await self.clock.sleep(max(self.poll_interval_s, 0.5))
                if handled < self.batch_size:
                    # Caught up: let work gather for a moment rather than spin on tiny batches;
                    # each cycle has a fixed cost (round trips, a commit), so fuller batches
                    # leave the CPU to producers and the database. A full batch loops at once.
                    await self.clock.sleep(self.poll_interval_s)
        finally:
            await self._give_up_set_aside()
            self.close()

    async def _give_up_set_aside(self) -> None:
        """Cancel the background groups (their events stay pending and run again) and wait until
        they have rolled back, so closing never shares the connection with one of them."""
        tasks = list(self._set_aside_tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def run_until_idle(self, max_cycles: int = 10_000) -> int:
        """Handle events until a cycle finds nothing ready (tests, one-shot jobs); returns how many
        events were processed (acknowledged, scheduled for a retry, or dead-lettered)."""
        total = 0
        for _ in range(max_cycles):
            handled = await self.run_once()
            total += handled
            if handled == 0:
                if not self._set_aside_tasks:
                    return total
                done, _ = await asyncio.wait(set(self._set_aside_tasks), return_when=asyncio.FIRST_COMPLETED)
                total += sum(task.result() for task in done if not task.cancelled())
        raise RuntimeError(f"still busy after {max_cycles} cycles")

    async def run_once(self) -> int:
        """One cycle: keep leases fresh, then handle at most one batch. Returns the events processed
        (acknowledged, scheduled for a retry, or dead-lettered); 0 means nothing was ready. With
        `overlap_external`, events set aside for their external calls count when applied (their
        background group's result), not here."""
        async with self._lock():
            return await self._run_once_locked()

    def _lock(self) -> asyncio.Lock:
        if self._db_lock is None:
            self._db_lock = asyncio.Lock()
        return self._db_lock

    async def _run_once_locked(self) -> int:
        connection = self._connect()
        now = self.clock.now().timestamp()
        if self._fixed_partitions is not None:
            self.leases.owned = self._fixed_partitions
        elif now >= self._next_maintenance:
            self.leases.maintain(connection, now)
            self._next_maintenance = now + min(self.leases.lease_s / 3, 1.0)
        if not self.leases.owned:
            return 0
        try:
            return await self._handle_batch(connection)
        except LeaseLost:
            log.info("worker %s lost a partition lease; batch rolled back", self.worker_id)
            self._next_maintenance = 0.0
            return 0

    def close(self) -> None:
        """Release partitions (others take over at once) and the connection. Set-aside external
        events still waiting for their calls are given up: they stay pending and run again."""
        busy = any(not task.done() for task in self._set_aside_tasks)
        for task in list(self._set_aside_tasks):
            task.cancel()
        self._set_aside.clear()
        self._riding = 0
        if self._connection is None:
            return
        if busy:  # a group may hold a transaction on the connection: drop it, the leases expire
            self._drop_connection()
            return
        if self._fixed_partitions is not None:
            self._drop_connection()
            return
        try:
            self.leases.release_all(self._connection)
        except sa.exc.DBAPIError:
            log.warning("worker %s could not release its leases; they expire on their own", self.worker_id)
        self._drop_connection()

    # -- one batch -----------------------------------------------------------------------------

    async def _handle_batch(self, connection: sa.Connection) -> int:
        transaction = connection.begin()
        try:
            now = self.clock.now().timestamp()
            batch = self._fetch(connection, now)
            external_keys = {ordering_key(e) for e in batch if self.handlers.is_external(e.topic)}
            if not external_keys:
                return await self._process(connection, transaction, batch, now, {}, {})
            # Keys without external work are handled (and committed) at once; the keys with some
            # wait for their external calls, which run with no transaction open. Acknowledgement
            # stays a compare-and-set, so a lease lost meanwhile still rolls their batch back.
            plain = [event for event in batch if ordering_key(event) not in external_keys]
            deferred = cut_for_external(
                [event for event in batch if ordering_key(event) in external_keys], self.handlers.is_external
            )
            handled = await self._process(connection, transaction, plain, now, {}, {})
        except BaseException:
            if transaction.is_active:
                transaction.rollback()
            raise
        if self.overlap_external:
            self._set_aside_group(deferred)
            return handled
        applies, failures = await self._call_external(deferred)
        transaction = connection.begin()
        try:
            now = self.clock.now().timestamp()
            return handled + await self._process(connection, transaction, deferred, now, applies, failures)
        except BaseException:
            if transaction.is_active:
                transaction.rollback()
            raise

    async def _process(
        self,
        connection: sa.Connection,
        transaction: sa.RootTransaction,
        events: list[LoggedEvent],
        now: float,
        applies: dict[int, Apply | None],
        failures: dict[int, Exception],
    ) -> int:
        """Handle `events` in `transaction` and commit; on a failure roll back and go careful."""
        if not events:
            transaction.commit()
            return 0
        if not failures:
            failure = await self._handle_fast(connection, events, now, applies)
            if failure is None:
                self._ack(connection, events, now)
                transaction.commit()
                self._committed(events)
                return len(events)
            failures = {**failures, failure.index: failure.error}
        transaction.rollback()
        return await self._handle_careful(connection, events, failures, applies)

    def _fetch(self, connection: sa.Connection, now: float) -> list[LoggedEvent]:
        sql, parts = self._sql, self._sql.ids(self.leases.owned)
        # A tier outside this worker's lane is fetched with LIMIT 0: another worker handles it.
        # Set-aside events are still pending: read past them (and past the events the last cycle
        # left for later: see `_admit`), so the events behind them are seen.
        size = self.batch_size + len(self._set_aside) + self._passed_over
        limits = {f"limit{tier}": size if tier in self.tiers else 0 for tier in (1, 2, 3)}
        rows = connection.exec_driver_sql(sql["ready"], {"now": now, "parts": parts, **limits}).all()
        waiting: set[OrderingKey] = {
            (int(row[4]), row[3]) for row in rows if row[0] < 0 and int(row[4]) in self.tiers
        }
        waiting.update(self._set_aside.values())
        candidates = [
            LoggedEvent(row[0], row[1], row[2], row[3], row[4], _NOT_READ, row[5], row[6])
            for row in rows
            if row[0] >= 0 and row[0] not in self._set_aside
        ]
        if self.overlap_external:
            candidates = self._admit(candidates, waiting)
        return self._with_payloads(connection, select_batch(candidates, waiting, self.batch_size))

    def _with_payloads(self, connection: sa.Connection, batch: list[LoggedEvent]) -> list[LoggedEvent]:
        """`batch` with the payloads read (only the chosen events' are: see `sql._COLUMNS`)."""
        if not batch:
            return batch
        rows = connection.exec_driver_sql(
            self._sql["payloads"], {"seqs": self._sql.ids([event.seq for event in batch])}
        ).all()
        loads = json.loads
        payloads = {row[0]: loads(row[1]) for row in rows}
        # A row gone meanwhile (a partition taken over by another worker) is not handled here.
        return [event._replace(payload=payloads[event.seq]) for event in batch if event.seq in payloads]

    def _admit(self, candidates: list[LoggedEvent], waiting: set[OrderingKey]) -> list[LoggedEvent]:
        """The candidates this cycle may take (overlap mode), in log order: none of a key that
        waits (backing off, or with an event in flight), at most one external event per key (its
        call runs before the batch is applied, so it must not follow an earlier event of its key
        in the batch), none beyond the set-aside backlog. An event left out holds back the later
        events of its key; how many were passed over widens the next cycle's read, so a key with
        a long queue (an Odoo quant notified hundreds of times) never hides the events behind it.

        (Before, a key left out was added to `waiting`, which also dropped the events of that key
        admitted earlier in the same cycle: when every candidate belonged to a few such keys the
        batch came out empty, cycle after cycle, and the lane stopped.)"""
        room = self.external_concurrency * EXTERNAL_BACKLOG_FACTOR - (len(self._set_aside) - self._riding)
        admitted: list[LoggedEvent] = []
        taken: set[OrderingKey] = set()  # keys with an event admitted this cycle
        held: set[OrderingKey] = set()  # keys whose later events wait for a later cycle
        # key -> (index in `admitted`, event) of the coalescing event that makes the key's call
        coalescing: dict[OrderingKey, tuple[int, LoggedEvent]] = {}
        self._riders.clear()  # riders of the cycle before that were not set aside stay pending
        passed_over = 0
        for event in candidates:
            key = ordering_key(event)
            if key in waiting or key in held:
                passed_over += 1
                continue
            run = coalescing.get(key)
            if run is not None and event.topic == run[1].topic:
                # The newest of the run makes the call (its payload is the latest); the others
                # ride along and are acknowledged with it.
                index, caller = run
                riders = self._riders.pop(caller.seq, [])
                riders.append(caller)
                self._riders[event.seq] = riders
                admitted[index] = event
                coalescing[key] = (index, event)
                continue
            coalescing.pop(key, None)  # another topic: the run of queued events ends
            if self.handlers.is_external(event.topic):
                if room <= 0 or key in taken:
                    held.add(key)
                    passed_over += 1
                    continue
                room -= 1
                if self.handlers.coalesces(event.topic):
                    coalescing[key] = (len(admitted), event)
            taken.add(key)
            admitted.append(event)
        self._passed_over = passed_over
        return admitted

    def _set_aside_group(self, events: list[LoggedEvent]) -> None:
        """Run `events`' external calls in the background; apply them when done (overlap mode)."""
        if not events:
            return
        riders = [rider for event in events for rider in self._riders.pop(event.seq, ())]
        for event in (*events, *riders):
            self._set_aside[event.seq] = ordering_key(event)
        self._riding += len(riders)
        task = asyncio.get_running_loop().create_task(self._finish_set_aside(events, riders))
        self._set_aside_tasks.add(task)
        task.add_done_callback(self._set_aside_tasks.discard)

    async def _finish_set_aside(self, events: list[LoggedEvent], riders: list[LoggedEvent]) -> int:
        """Make `events`' calls, then apply them; `riders` (queued events their calls answer, see
        `_admit`) are acknowledged with them, after them: as external events without an apply
        they change nothing, and a failed call blocks its key, so its riders stay pending."""
        try:
            applies, failures = await self._call_external(events)
            async with self._lock():
                connection = self._connect()
                transaction = connection.begin()
                try:
                    now = self.clock.now().timestamp()
                    return await self._process(
                        connection, transaction, [*events, *riders], now, applies, failures
                    )
                except LeaseLost:
                    log.info("worker %s lost a partition lease; set-aside events rolled back", self.worker_id)
                    self._next_maintenance = 0.0
                    return 0
                except sa.exc.DBAPIError as error:
                    log.warning(
                        "worker %s: set-aside events not applied (%s); they run again", self.worker_id, error
                    )
                    self._drop_connection()
                    return 0
                finally:
                    if transaction.is_active:
                        transaction.rollback()
        finally:
            for event in (*events, *riders):
                self._set_aside.pop(event.seq, None)
            self._riding = max(0, self._riding - len(riders))

    async def _call_external(
        self, batch: Sequence[LoggedEvent]
    ) -> tuple[dict[int, Apply | None], dict[int, Exception]]:
        """First phase of the batch's external handlers, concurrently (`cut_for_external` left at
        most one per ordering key, so they are independent)."""
        if self.overlap_external:  # one limit over every set-aside group
            if self._external_slots is None:
                self._external_slots = asyncio.Semaphore(self.external_concurrency)
            limit = self._external_slots
        else:
            limit = asyncio.Semaphore(self.external_concurrency)

        async def call(event: LoggedEvent) -> Apply | None:
            async with limit:
                ctx = ExternalContext(event, self._reader.connect, self.clock)
                return await self.handlers.external(event.topic)(event, ctx)

        indexes = [i for i, event in enumerate(batch) if self.handlers.is_external(event.topic)]
        outcomes = await asyncio.gather(*(call(batch[i]) for i in indexes), return_exceptions=True)
        applies: dict[int, Apply | None] = {}
        failures: dict[int, Exception] = {}
        for index, outcome in zip(indexes, outcomes, strict=True):
            if isinstance(outcome, Exception):
                failures[index] = outcome
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                applies[index] = outcome
        return applies, failures

    async def _run_one(
        self, connection: sa.Connection, event: LoggedEvent, now: float, apply: Apply | None, external: bool
    ) -> None:
        ctx = HandlerContext(connection, event, self._sql, self.clock, now)
        if not external:
            await call_handler(self.handlers[event.topic], event, ctx)
        elif apply is not None:
            outcome = apply(ctx)
            if outcome is not None:
                await outcome

    async def _handle_fast(
        self,
        connection: sa.Connection,
        batch: list[LoggedEvent],
        now: float,
        applies: dict[int, Apply | None],
    ) -> _Failure | None:
        for index, event in enumerate(batch):
            try:
                await self._run_one(
                    connection, event, now, applies.get(index), self.handlers.is_external(event.topic)
                )
            except Exception as error:
                return _Failure(index, error)
        return None

    async def _handle_careful(
        self,
        connection: sa.Connection,
        batch: list[LoggedEvent],
        failures: dict[int, Exception],
        applies: dict[int, Apply | None],
    ) -> int:
        done: list[LoggedEvent] = []
        blocked: set[OrderingKey] = set()
        failed = 0
        with connection.begin():
            now = self.clock.now().timestamp()
            for index, event in enumerate(batch):
                if ordering_key(event) in blocked:
                    continue
                error: Exception | None = failures.get(index)
                if error is None:
                    savepoint = connection.begin_nested()
                    try:
                        external = self.handlers.is_external(event.topic)
                        await self._run_one(connection, event, now, applies.get(index), external)
                        savepoint.commit()
                        done.append(event)
                        continue
                    except Exception as raised:
                        savepoint.rollback()
                        error = raised
                failed += 1
                if not self._record_failure(connection, event, error, now):
                    blocked.add(ordering_key(event))
            self._ack(connection, done, now)
        self._committed(done)
        return len(done) + failed

    def _record_failure(
        self, connection: sa.Connection, event: LoggedEvent, error: Exception, now: float
    ) -> bool:
        """Retry later or dead-letter; True if the event is dead (its key may go on)."""
        attempt = event.attempts + 1
        decision = self.retry.decide(attempt, error)
        text = describe_error(error)
        if decision.retry:
            params: dict[str, Any] = {"seq": event.seq, "available_at": now + decision.delay_s, "error": text}
            statement = "retry_later"
            log.info(
                "event %s (%s) failed, retry in %.2fs: %s",
                event.event_id,
                event.topic,
                decision.delay_s,
                text,
            )
        else:
            params = {"seq": event.seq, "error": text, "reason": decision.reason, "now": now}
            statement = "dead_letter"
            log.warning("event %s (%s) dead-lettered: %s", event.event_id, event.topic, decision.reason)
        if connection.exec_driver_sql(self._sql[statement], params).rowcount != 1:
            raise LeaseLost(event.event_id)
        return not decision.retry

    def _ack(self, connection: sa.Connection, events: Sequence[LoggedEvent], now: float) -> None:
        if not events:
            return
        seqs = self._sql.ids([event.seq for event in events])
        acked = connection.exec_driver_sql(self._sql["ack"], {"seqs": seqs, "now": now}).rowcount
        if acked != len(events):
            raise LeaseLost(f"acknowledged {acked} of {len(events)} events")

    def _committed(self, events: Sequence[LoggedEvent]) -> None:
        self.handled += len(events)
        if self.on_committed is not None and events:
            self.on_committed(events, self.clock.now().timestamp())

    # -- connection ----------------------------------------------------------------------------

    def _connect(self) -> sa.Connection:
        if self._connection is None:
            self._connection = self.engine.connect()
        return self._connection

    def _drop_connection(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except sa.exc.DBAPIError:
                log.debug("closing a broken connection failed", exc_info=True)
            self._connection = None


class WorkerThread:
    """Runs a `Worker` on its own thread and event loop.

    Use it inside an async application (API server, sandbox): the worker's batch transaction stays
    open while its handlers await, and on SQLite that transaction holds the single writer lock, so
    it must not share an event loop with code that writes to the same database.
    """

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name=f"log-worker-{worker.worker_id}", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> WorkerThread:
        self._thread.start()
        self._ready.wait()
        return self

    def stop(self, timeout_s: float = 30.0) -> None:
        """Finish the current batch, release the partitions, and end the thread."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise RuntimeError(f"worker {self.worker.worker_id} did not stop within {timeout_s}s")

    def _main(self) -> None:
        async def run() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._ready.set()
            await self.worker.run(self._stop)

        try:
            asyncio.run(run())
        except BaseException as error:
            self.error = error
            self._ready.set()
            raise
