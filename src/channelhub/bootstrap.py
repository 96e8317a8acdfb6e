"""The composition root: the only module that knows every concrete class.

config → store engine + migrations → repositories → connectors → gateways (service adapters) →
use cases → log worker with the service handlers → publisher → inbox processor → API.

`Runtime(landscape, settings)` runs everything in one process (embedded mode):

* the **log thread** runs the durable-log `Worker` for tiers 1 and 3 on its own asyncio loop, with
  the service handlers and the start-up snapshot. The handlers that wait on Odoo are external
  (`engine.handlers`): their Odoo calls run between transactions, so no database lock is held
  while Odoo answers; the rest of a batch commits in one short transaction.
* the **ERP lane thread** runs a second `Worker` restricted to tier 2 (the ERP order sync,
  confirm and cancel follow-ups, reservation checks) with its own Odoo gateway; a batch's orders
  go to Odoo concurrently. An accepted channel order lowers ATS and wakes the publisher on the
  log thread without waiting for its Odoo order.
* the **main loop** (the caller's) owns the channels: the publisher (one task per channel), the
  inbox processor, the order backfill, the Odoo `write_date` poll and reservation-check timers and
  the scheduled reconciliation.
* the **API** runs under uvicorn on its own thread (`sandbox.server.serve_in_thread`).

Each gateway is used from one event loop only (their HTTP clients are bound to it); webhook
verification is synchronous and safe from the API thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.engine import Engine, make_url

from channelhub.alerts import AlertDispatcher, AlertRules, run_alerts
from channelhub.api import ApiContext, create_api
from channelhub.api.inbox import InboxProcessor
from channelhub.api.operations.endpoints import EndpointRegistry
from channelhub.api.operations.reconciliation_history import ReconciliationHistory
from channelhub.api.pricing import PricingHandle, install_pricing
from channelhub.api.security import SecurityStore
from channelhub.clock import SYSTEM_CLOCK, Clock
from channelhub.config import Landscape
from channelhub.engine.events import Tier
from channelhub.engine.handlers import HandlerRegistry
from channelhub.engine.outbox import append, append_unless_pending
from channelhub.engine.publisher import Publisher, PublisherSettings
from channelhub.engine.reconcile import (
    ProgressCallback,
    ReconciliationReport,
    ReconciliationSchedule,
    reconcile,
)
from channelhub.engine.worker import Worker
from channelhub.metrics import ChannelhubMetrics, combine_committed_hooks
from channelhub.observability import get_logger
from channelhub.sandbox.server import RunningServer, serve_in_thread
from channelhub.service import (
    AvailabilityOperations,
    AvailabilityPolicy,
    AvailabilityService,
    ServiceHandlers,
    WarehouseChange,
    backfill_orders,
    reservation_check_event,
    skus_sold_in,
    stock_poll_event,
)
from channelhub.service.adapters.factory import (
    UnsupportedChannel,
    channel_gateway,
    erp_gateway,
    find_channel_partner,
    odoo_connector,
)
from channelhub.service.adapters.odoo import OdooErpGateway
from channelhub.service.ports import ChannelGateway
from channelhub.store.db import create_store_engine, upgrade_to_head
from channelhub.store.log_tables import PARTITIONS

log = get_logger(__name__)


@dataclass
class RuntimeSettings:
    """How the runtime runs (the landscape says what it connects)."""

    api_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    odoo_webhook_token: str | None = None  # None: Odoo notifications refused; polling only
    database_schema: str | None = None  # PostgreSQL only: run in this schema
    api_host: str | None = None  # None: the landscape's api.host
    api_port: int | None = None  # None: the landscape's api.port; 0: any free port
    serve_api: bool = True
    snapshot_on_start: bool = True
    reconcile_on_start: bool = False  # acknowledge what channels already show before publishing
    backfill_interval_s: float = 30.0
    odoo_poll_interval_s: float = 15.0
    reservation_check_interval_s: float = 2.0
    reconcile_interval_s: float = 900.0
    worker_batch_size: int = 50  # small batches: the worker holds the SQLite write lock per batch
    # The ERP lane's handlers are external (Odoo calls between transactions): a batch's orders of
    # different keys go to Odoo concurrently, up to `erp_concurrency` at a time. More than 8 was
    # measured to slow tier 1 down (the lane's client work competes for the same interpreter).
    erp_worker_batch_size: int = 8
    erp_concurrency: int = 8
    # Both workers go on with their next batches while a batch's Odoo calls run (see
    # `Worker(overlap_external=)`): a channel order never waits for a stock read, and the ERP lane
    # keeps `erp_concurrency` calls going instead of waiting for the slowest of each batch.
    overlap_external: bool = True
    hand_over_inline: bool = False
    publisher: PublisherSettings = field(default_factory=PublisherSettings)
    # The operations surface (admin API, roles and tokens, dashboard, /metrics) on the API app;
    # off only to serve the bare webhook ingress and explain API.
    operations: bool = True
    # Alert rules evaluated with the operations surface; without a `webhook_url` the alerts are
    # only kept for the operations surface. None: no evaluation.
    alerts: AlertRules | None = field(default_factory=AlertRules)
    # Extra surfaces mounted on the API app before it serves, e.g.
    # a test's own router (the operations surface and pricing are mounted by the runtime).
    api_mounts: list[Callable[[FastAPI, ApiContext], object]] = field(default_factory=list)


def database_url(landscape: Landscape) -> str:
    """The store URL; the SQLite file's directory is created when missing."""
    url = landscape.database.connection_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database or "").parent.mkdir(parents=True, exist_ok=True)
    return url


def open_store(landscape: Landscape, schema: str | None = None) -> Engine:
    """Migrate the store to the newest schema and return an engine on it (`schema`: a PostgreSQL
    schema of its own, e.g. one sandbox run)."""
    url = database_url(landscape)
    upgrade_to_head(url, schema)
    return create_store_engine(url, schema=schema)


def availability_service(landscape: Landscape) -> AvailabilityService:
    return AvailabilityService(AvailabilityPolicy.from_landscape(landscape))


def channel_gateways(landscape: Landscape, clock: Clock = SYSTEM_CLOCK) -> dict[str, ChannelGateway]:
    """Gateways of the enabled channels this release can drive (others are logged and skipped)."""
    gateways: dict[str, ChannelGateway] = {}
    for settings in landscape.channels:
        if not settings.enabled:
            continue
        try:
            gateways[settings.name] = channel_gateway(settings, clock=clock)
        except UnsupportedChannel as error:
            log.warning("channel_skipped", channel=settings.name, reason=str(error))
    return gateways


class _CurrentSnapshot:
    """The snapshot of whatever `owner.<attribute>` is now: a client may replace its limiter
    (WooCommerce re-creates its token bucket from a server's Retry-After)."""

    def __init__(self, owner: object, attribute: str) -> None:
        self._owner, self._attribute = owner, attribute

    def snapshot(self) -> dict[str, Any]:
        current = getattr(self._owner, self._attribute, None)
        return dict(current.snapshot()) if current is not None else {}


_CHANNEL_API = {"shopify": "graphql", "woocommerce": "rest"}


def register_endpoints(
    endpoints: EndpointRegistry, channels: Mapping[str, ChannelGateway], erp: OdooErpGateway | None
) -> None:
    """Register each gateway's circuit breaker and rate or concurrency limiter, as far as the
    gateway exposes them (`gateway.connector.client`); what is not exposed is skipped."""
    for name, gateway in channels.items():
        client = getattr(getattr(gateway, "connector", None), "client", None)
        breaker = getattr(client, "breaker", None)
        if client is None or breaker is None:
            continue
        limiter = _CurrentSnapshot(client, "bucket") if hasattr(client, "bucket") else None
        endpoints.register(
            f"{name}:{_CHANNEL_API.get(gateway.kind, gateway.kind)}", circuit=breaker, limiter=limiter
        )
    resilience = getattr(getattr(getattr(erp, "connector", None), "client", None), "resilience", None)
    if resilience is not None:
        endpoints.register(
            "odoo:rpc",
            circuit=getattr(resilience, "breaker", None),
            concurrency=getattr(resilience, "limiter", None),
        )


async def wait_for_stop_signal() -> None:
    """Wait for Ctrl-C or SIGTERM, so `channelhub run`/`sandbox` shut down cleanly either way
    (a background process started by a shell ignores SIGINT)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


class _LogThread:
    """The durable-log worker and everything that talks to Odoo, on a private event loop."""

    def __init__(self, runtime: Runtime, name: str = "channelhub-log") -> None:
        self._runtime = runtime
        self.erp: OdooErpGateway | None = None  # the gateway bound to this thread's loop
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._stop: asyncio.Event | None = None
        self._task: Future[None] | None = None

    def submit(self, coroutine: Awaitable[Any]) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)  # type: ignore[arg-type]

    async def call(self, coroutine: Awaitable[Any]) -> Any:
        """Run `coroutine` on the log thread's loop and await its result from another loop."""
        return await asyncio.wrap_future(self.submit(coroutine))

    def start(self) -> None:
        self._thread.start()

    def run_worker(self, worker: Worker) -> None:
        async def run() -> None:
            self._stop = asyncio.Event()
            await worker.run(self._stop)

        self._task = self.submit(run())

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._task is not None:
            with contextlib.suppress(Exception):
                self._task.result(timeout=15)
        if self.erp is not None:
            with contextlib.suppress(Exception):
                self.submit(self.erp.aclose()).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


class Runtime:
    """The engine and the API in one process. `await start()`, then `await stop()`."""

    def __init__(
        self,
        landscape: Landscape,
        settings: RuntimeSettings | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
        channels: Mapping[str, ChannelGateway] | None = None,
    ) -> None:
        """`channels`: gateways to use instead of building them from the landscape (benchmarks
        wrap them to count calls); they must be usable from the event loop that calls `start`."""
        self._given_channels = dict(channels) if channels is not None else None
        self.landscape = landscape
        self.settings = settings or RuntimeSettings()
        self.clock = clock
        self.engine: Engine | None = None
        self.availability = availability_service(landscape)
        self.operations = AvailabilityOperations(self.availability)
        self.channels: dict[str, ChannelGateway] = {}
        self.erp: OdooErpGateway | None = None
        self.handlers: ServiceHandlers | None = None
        self.worker: Worker | None = None
        self.publisher: Publisher | None = None
        self.processor: InboxProcessor | None = None
        self.api: RunningServer | None = None
        self.last_reconciliation: ReconciliationReport | None = None
        # Protections of every outbound endpoint, read by the admin API, /metrics and alerts.
        self.endpoints = EndpointRegistry()
        self.metrics: ChannelhubMetrics | None = None
        self.reconciliations = ReconciliationHistory()  # scheduled, start-up, API and dashboard runs
        self.alerts = AlertDispatcher(self.settings.alerts, clock) if self.settings.alerts else None
        self._operations_context: Any = None  # the OperationsContext the surface was built with
        self.security: SecurityStore | None = None  # users and tokens, once the API is built
        # Pricing governance: the API reads the service from the handle, which whoever runs the
        # pricing service (the sandbox's `setup_pricing`) fills after start.
        self.pricing_handle = PricingHandle()
        self._log_thread = _LogThread(self)
        # The ERP order lane: tier 2 (order sync, confirm, cancel, reservation checks) on its own
        # thread, loop and Odoo gateway, so Odoo's speed never delays tier 1 (channel orders,
        # reservations, ATS). Its handlers are external: no transaction is open while it awaits
        # Odoo, so tier 1 keeps the store's write lock between the lane's short commits.
        self._erp_thread = _LogThread(self, name="channelhub-erp")
        # The order backfill reads and parses every order a channel changed since its cursor
        # (hundreds per pass during a sale): on its own thread, loop and channel clients, so the
        # parsing never stalls the publisher on the main loop. Injected gateways (tests, fakes)
        # are used on the main loop instead.
        self._backfill_thread = _LogThread(self, name="channelhub-backfill")
        self._backfill_gateways: dict[str, ChannelGateway] | None = None
        self.erp_worker: Worker | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._exit = contextlib.ExitStack()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.started = False

    # -- wiring --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self.api is None:
            raise RuntimeError("the API is not serving")
        return self.api.url

    def require_engine(self) -> Engine:
        if self.engine is None:
            raise RuntimeError("the runtime has not been started")
        return self.engine

    async def _connect_odoo(self) -> OdooErpGateway:
        """On the calling thread's loop: connect, find the channel partner, build an ERP gateway."""
        connector = odoo_connector(self.landscape.odoo, clock=self.clock)
        await connector.connect()
        partner = await find_channel_partner(connector)
        return erp_gateway(
            self.landscape,
            partner_id=partner,
            connector=connector,
            webhook_secret=self.settings.odoo_webhook_token,
            clock=self.clock,
        )

    async def start(self) -> None:
        """Start everything; on failure whatever was started is stopped again and the error raised."""
        if self.started:
            raise RuntimeError("the runtime is already running")
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        settings = self.settings
        self._loop = asyncio.get_running_loop()
        self.engine = engine = await asyncio.to_thread(open_store, self.landscape, settings.database_schema)
        self.metrics = ChannelhubMetrics(
            engine, self.endpoints, self._publisher_snapshot, now=lambda: self.clock.now().timestamp()
        )
        self.channels = (
            self._given_channels
            if self._given_channels is not None
            else channel_gateways(self.landscape, self.clock)
        )
        self._log_thread.start()
        self.erp = self._log_thread.erp = await self._log_thread.call(self._connect_odoo())
        self._erp_thread.start()
        lane_erp = self._erp_thread.erp = await self._erp_thread.call(self._connect_odoo())
        # One SKU -> product id memory for both connections: ids the start-up snapshot or a stock
        # read learnt save the order lane its lookups (plain dict reads and writes, thread-safe).
        lane_erp.connector.client.product_ids = self.erp.connector.client.product_ids
        register_endpoints(self.endpoints, self.channels, self.erp)
        self.handlers = ServiceHandlers.build(
            self.availability, self.erp, hand_over_inline=settings.hand_over_inline
        )
        registry = HandlerRegistry()
        self.handlers.register(registry)
        self.publisher = Publisher(
            engine,
            self.channels.values(),
            clock=self.clock,
            settings=settings.publisher,
            on_propagated=self.metrics.observe_propagation,
            selling_of=skus_sold_in,  # the SKUs of the orders just taken go first
        )
        on_committed = combine_committed_hooks(self.publisher.on_committed, self.metrics.worker_committed)
        self.worker = Worker(
            engine,
            registry,
            clock=self.clock,
            batch_size=settings.worker_batch_size,
            on_committed=on_committed,
            tiers=(Tier.REALTIME, Tier.BATCH),
            overlap_external=settings.overlap_external,
        )
        lane_registry = HandlerRegistry()
        ServiceHandlers.build(
            self.availability, lane_erp, hand_over_inline=settings.hand_over_inline
        ).register(lane_registry)
        self.erp_worker = Worker(
            engine,
            lane_registry,
            clock=self.clock,
            batch_size=settings.erp_worker_batch_size,
            external_concurrency=settings.erp_concurrency,
            overlap_external=settings.overlap_external,
            on_committed=on_committed,
            tiers=(Tier.MINUTES,),
            partitions=range(PARTITIONS),
        )
        if settings.snapshot_on_start:
            await self.take_snapshot()
        if settings.reconcile_on_start and self.channels:
            self.reconciliations.record(await self.reconcile(), trigger="start")
        self.processor = InboxProcessor(
            engine,
            self.channels,
            self.erp,
            odoo_token=settings.odoo_webhook_token,
            clock=self.clock,
            on_appended=self.metrics.ingress_hook("inbox"),
        )
        self._log_thread.run_worker(self.worker)
        self._erp_thread.run_worker(self.erp_worker)
        self._spawn(self.publisher.run(self._stop), "publisher")
        self._spawn(self.processor.run(self._stop), "inbox")
        await self._start_backfill_thread()
        for name in self.channels:
            self._spawn(
                self._every(self.orders_poll_interval(name), self._backfill_job(name)), f"backfill:{name}"
            )
        self._spawn(self._every(settings.odoo_poll_interval_s, self._append_poll), "odoo-poll")
        if not settings.hand_over_inline:
            self._spawn(
                self._every(settings.reservation_check_interval_s, self._append_reservation_check),
                "reservations",
            )
        schedule = ReconciliationSchedule(
            engine,
            self.publisher,
            interval_s=settings.reconcile_interval_s,
            clock=self.clock,
            on_report=self._remember_report,
        )
        self._spawn(schedule.run(self._stop), "reconcile")
        if settings.serve_api:
            app = self.build_api()
            if self.alerts is not None and self._operations_context is not None:
                self._spawn(run_alerts(self._operations_context, self.alerts, self._stop), "alerts")
            self.api = self._exit.enter_context(
                serve_in_thread(
                    app,
                    host=settings.api_host or self.landscape.api.host,
                    port=settings.api_port if settings.api_port is not None else self.landscape.api.port,
                )
            )
        self.started = True
        log.info("runtime_started", channels=sorted(self.channels), api=self.api.url if self.api else None)

    def build_api(self) -> FastAPI:
        """The API app: webhook ingress and explain API, the operations surface (unless turned
        off), pricing governance, then the extra mounts of `settings.api_mounts`."""
        context = self.api_context()
        app = create_api(context)
        if self.settings.operations:
            from channelhub.api.operations import OperationsContext, install_operations

            self._operations_context = OperationsContext.from_api_context(context)
            self.security = install_operations(app, self._operations_context)
        install_pricing(app, self.pricing_handle)
        for mount in self.settings.api_mounts:
            mount(app, context)
        return app

    def _publisher_snapshot(self) -> dict[str, dict[str, Any]]:
        """The publisher's counters for /metrics. It runs on the main loop while the API thread
        scrapes: a copy that races an append raises RuntimeError, so it is taken again."""
        if self.publisher is None:
            return {}
        for _ in range(5):
            with contextlib.suppress(RuntimeError):
                return self.publisher.snapshot()
        return {}

    def api_context(self) -> ApiContext:
        return ApiContext(
            engine=self.require_engine(),
            channels=self.channels,
            erp=self.erp,
            availability=self.availability,
            api_token=self.settings.api_token,
            clock=self.clock,
            on_accepted=self.processor.wake if self.processor is not None else None,
            on_delivery_lag=self.metrics.ingress_hook("delivery") if self.metrics is not None else None,
            health=self.health,
            # For the operations surface (channelhub.api.operations.OperationsContext.from_api_context).
            extra={
                "publisher": self.publisher,
                "orders": self.handlers.orders if self.handlers is not None else None,
                "reconcile": self.reconcile_from_any_thread,
                "metrics": self.metrics,
                "endpoints": self.endpoints,
                "reconciliations": self.reconciliations,
                "alerts": self.alerts,
            },
        )

    def _spawn(self, coroutine: Awaitable[Any], name: str) -> None:
        self._tasks.append(asyncio.ensure_future(coroutine))
        self._tasks[-1].set_name(f"channelhub:{name}")

    async def stop(self) -> None:
        self._stop.set()
        self._exit.close()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)
            for task in self._tasks:
                task.cancel()
        await asyncio.to_thread(self._stop_backfill_thread)
        await asyncio.to_thread(self._erp_thread.stop)
        await asyncio.to_thread(self._log_thread.stop)
        for gateway in self.channels.values():
            with contextlib.suppress(Exception):
                await gateway.aclose()
        if self.engine is not None:
            self.engine.dispose()
        self.started = False
        log.info("runtime_stopped")

    # -- jobs ----------------------------------------------------------------------------------

    async def _every(self, interval_s: float, job: Callable[[], Awaitable[Any]]) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), interval_s)
            if self._stop.is_set():
                return
            try:
                await job()
            except Exception as error:  # a periodic safety net must outlive one failure; it is logged
                log.warning("periodic_job_failed", job=getattr(job, "__name__", "job"), error=repr(error))

    def orders_poll_interval(self, channel: str) -> float:
        """Seconds between order backfills of `channel`: its `orders_poll_interval_s` in the
        landscape, else `RuntimeSettings.backfill_interval_s`."""
        for settings in self.landscape.channels:
            if settings.name == channel and settings.orders_poll_interval_s is not None:
                return settings.orders_poll_interval_s
        return self.settings.backfill_interval_s

    def _backfill_job(self, channel: str) -> Callable[[], Awaitable[None]]:
        async def backfill() -> None:
            await self._backfill(channel)

        backfill.__name__ = f"backfill:{channel}"
        return backfill

    async def _backfill(self, channel: str) -> None:
        """Read the orders `channel` changed since its cursor (on the backfill thread, with its own
        clients, unless the channels were injected)."""
        if self._backfill_gateways is None:
            await self._backfill_with({channel: self.channels[channel]})
            return
        await self._backfill_thread.call(self._backfill_with({channel: self._backfill_gateways[channel]}))

    async def _backfill_with(self, gateways: Mapping[str, ChannelGateway]) -> None:
        for gateway in gateways.values():
            added = await backfill_orders(self.require_engine(), gateway, self.clock)
            if added:
                log.info("backfill_found_orders", channel=gateway.name, events=added)

    async def _start_backfill_thread(self) -> None:
        """Clients of their own for the backfill thread (an HTTP client belongs to one loop)."""
        if self._given_channels is not None or not self.channels:
            return
        self._backfill_thread.start()

        async def build() -> dict[str, ChannelGateway]:
            return {
                settings.name: channel_gateway(settings, clock=self.clock, background=True)
                for settings in self.landscape.channels
                if settings.name in self.channels
            }

        self._backfill_gateways = await self._backfill_thread.call(build())

    def _stop_backfill_thread(self) -> None:
        gateways, self._backfill_gateways = self._backfill_gateways, None
        for gateway in (gateways or {}).values():
            with contextlib.suppress(Exception):
                self._backfill_thread.submit(gateway.aclose()).result(timeout=5)
        self._backfill_thread.stop()

    def _append(self, events: list[Any]) -> int:
        with self.require_engine().begin() as connection:
            return append(connection, events, self.clock)

    def _append_tick(self, event: Any) -> int:
        with self.require_engine().begin() as connection:
            return append_unless_pending(connection, event, self.clock)

    async def _append_poll(self) -> None:
        # Appends wait for the store's write lock: in a thread, so the event loop never stalls.
        # A tick still queued (behind a backlog) makes the next one redundant: not appended.
        await asyncio.to_thread(self._append_tick, stock_poll_event(self.clock.now()))

    async def _append_reservation_check(self) -> None:
        await asyncio.to_thread(self._append_tick, reservation_check_event(self.clock.now()))

    def _remember_report(self, report: ReconciliationReport) -> None:
        self.last_reconciliation = report
        self.reconciliations.record(report, trigger="schedule")

    # -- operations ------------------------------------------------------------------------------

    async def take_snapshot(self) -> int:
        """Read every SKU's stock from Odoo now (on the log thread); returns the SKUs stored."""
        assert self.handlers is not None and self.erp is not None
        capture, erp, engine = self.handlers.capture, self.erp, self.require_engine()
        result = await self._log_thread.call(capture.take_snapshot(engine, erp, self.clock))
        if self.publisher is not None:
            self.publisher.wake()
        return len(result.skus)

    async def reconcile(
        self, channel: str | None = None, *, dry_run: bool = False, progress: ProgressCallback | None = None
    ) -> ReconciliationReport:
        assert self.publisher is not None
        report = await reconcile(
            self.require_engine(),
            self.publisher,
            channel=channel,
            dry_run=dry_run,
            clock=self.clock,
            progress=progress,
        )
        self.last_reconciliation = report
        return report

    async def reconcile_from_any_thread(self, channel: str | None, dry_run: bool) -> ReconciliationReport:
        """`reconcile` for callers on another event loop (the API's thread): the channel gateways
        are bound to the main loop, so the work runs there."""
        if self._loop is None or asyncio.get_running_loop() is self._loop:
            return await self.reconcile(channel, dry_run=dry_run)
        future = asyncio.run_coroutine_threadsafe(self.reconcile(channel, dry_run=dry_run), self._loop)
        return await asyncio.wrap_future(future)

    async def set_warehouse(self, code: str, action: str, reason: str = "", by: str = "") -> WarehouseChange:
        """In a thread and in steps: recomputing thousands of SKUs must neither stall the event
        loop (the publisher runs on it) nor hold the store's write lock for seconds."""
        publisher = self.publisher
        started = time.monotonic()
        change = await asyncio.to_thread(
            self.operations.set_warehouse_in_steps,
            self.require_engine(),
            code,
            action,
            self.clock.now(),
            reason=reason,
            by=by,
            after_step=None if publisher is None else publisher.wake,  # each step goes out at once
        )
        log.info(
            "warehouse_action_applied",
            warehouse=code,
            action=action,
            changed=change.changed,
            listings_recomputed=len(change.recompute.quantities),
            seconds=round(time.monotonic() - started, 3),
        )
        return change

    def health(self) -> Mapping[str, Any]:
        engine = self.require_engine()
        with engine.connect() as connection:
            dirty = connection.execute(
                sa.text(
                    "SELECT channel, count(*) FROM channel_listing "
                    "WHERE desired_quantity IS NOT NULL AND "
                    "(acknowledged_quantity IS NULL OR acknowledged_quantity != desired_quantity) GROUP BY channel"
                )
            ).all()
        return {
            "worker_handled": (self.worker.handled if self.worker else 0)
            + (self.erp_worker.handled if self.erp_worker else 0),
            "unpublished": {str(channel): int(count) for channel, count in dirty},
            "publisher": self.publisher.snapshot() if self.publisher else {},
            "last_reconciliation": (
                None if self.last_reconciliation is None else self.last_reconciliation.finished_at.isoformat()
            ),
        }
