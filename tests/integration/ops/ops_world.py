"""A small but real channelhub for the operations tests: a migrated SQLite store with stock,
listings (one in sync, one at oversell risk, one failing), an order with a business exception,
dead letters from a real worker, and the operations surface mounted on a FastAPI app."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI

from channelhub.api.admin import admin_router
from channelhub.api.context import ApiContext
from channelhub.api.errors import install_error_handlers
from channelhub.api.operations import OperationsContext, install_operations
from channelhub.api.pricing import install_pricing
from channelhub.api.security import Role, SecurityStore
from channelhub.connectors.errors import PermanentError
from channelhub.domain import (
    AllocationRules,
    ChannelAllocation,
    ChannelShare,
    ExceptionAction,
    SafetyStock,
    Sku,
    Warehouse,
)
from channelhub.engine.events import LoggedEvent, NewEvent, deterministic_event_id
from channelhub.engine.handlers import HandlerContext, HandlerRegistry
from channelhub.engine.outbox import append
from channelhub.engine.worker import Worker
from channelhub.resilience import CircuitBreaker, TokenBucket
from channelhub.service.availability import AvailabilityPolicy, AvailabilityService
from channelhub.service.ports import ChannelOrderLine, ChannelOrderSnapshot, PaymentState
from channelhub.store.db import create_store_engine, upgrade_to_head
from channelhub.store.repositories import LocationStock, OrderLink, StateRepositories

PASSWORD = "correct-horse-battery"
FLAKY_TOPIC = "ops.flaky.v1"
ORDER_KEY = "shop:1001"
CUSTOMER_EMAIL = "jane.doe@example.com"


@dataclass
class OpsWorld:
    engine: sa.Engine
    ctx: OperationsContext
    app: FastAPI
    store: SecurityStore
    handlers: HandlerRegistry
    tokens: dict[str, str] = field(default_factory=dict)
    """role name -> full API token"""
    partner_fixed: dict[str, bool] = field(default_factory=lambda: {"fixed": False})
    dead_event_ids: list[str] = field(default_factory=list)
    exception_id: int = 0

    def run_worker(self, on_committed: Any = None) -> int:
        """Handle everything due, in a thread of its own (callers may run an event loop)."""

        def run() -> int:
            worker = Worker(self.engine, self.handlers, poll_interval_s=0.001, on_committed=on_committed)
            try:
                return asyncio.run(worker.run_until_idle())
            finally:
                worker.close()

        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(run).result()

    def bearer(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def policy() -> AvailabilityPolicy:
    return AvailabilityPolicy(
        rules=AllocationRules(
            channels=(
                ChannelAllocation("shop", ("wh", "east"), ChannelShare.shared(), SafetyStock(units=2)),
                ChannelAllocation("web", ("wh",), ChannelShare.shared()),
            )
        ),
        warehouses=(Warehouse("wh"), Warehouse("east")),
    )


def _order(now: datetime) -> ChannelOrderSnapshot:
    return ChannelOrderSnapshot(
        channel="shop",
        channel_order_id="1001",
        name="#1001",
        currency="EUR",
        placed_at=now,
        updated_at=now,
        payment=PaymentState.PAID,
        lines=(ChannelOrderLine("l1", None, 2, Decimal("9.90")),),
        total=Decimal("19.80"),
    )


def _seed_state(engine: sa.Engine, availability: AvailabilityService, now: datetime) -> int:
    tee, cap = Sku("TEE-M"), Sku("CAP-1")
    with engine.begin() as connection:
        repos = StateRepositories.on(connection)
        repos.stock.upsert(
            [
                LocationStock(tee, "wh", "WH/Stock", on_hand=12, reserved=1),
                LocationStock(tee, "east", "EAST/Stock", on_hand=5),
                LocationStock(cap, "wh", "WH/Stock", on_hand=3),
            ],
            now,
        )
        result = availability.recompute(connection, [tee, cap], now)
        shop, web = result.for_channel("shop"), result.for_channel("web")
        repos.listings.acknowledge_quantities(
            [("shop", tee, shop[tee] + 3), ("web", tee, web[tee]), ("web", cap, web[cap])], now
        )
        repos.listings.set_desired_quantities([("web", cap, web[cap] - 1)], now)
        repos.listings.record_error("web", cap, "ThrottledError: 429 from the channel")
        repos.orders.record(OrderLink(ORDER_KEY, "shop", "1001", "placed", now), now)  # type: ignore[arg-type]
        order = _order(now)
        return repos.exceptions.record(
            "order_mapping_gap",
            ORDER_KEY,
            "line l1 has no SKU",
            (ExceptionAction.RETRY, ExceptionAction.DISMISS),
            now,
            payload={"order": order.to_payload(), "customer": {"email": CUSTOMER_EMAIL}},
        )


@dataclass(frozen=True)
class _Seeded:
    """A fully seeded database file, built once per process and copied for every world (the
    migrations, password hashing and the worker run take seconds; tests need dozens of worlds)."""

    path: Path
    tokens: dict[str, str]
    dead_event_ids: list[str]
    exception_id: int


_SEEDED: list[_Seeded] = []


def _flaky_partner_handlers(flags: dict[str, bool]) -> HandlerRegistry:
    handlers = HandlerRegistry()

    def flaky_partner(event: LoggedEvent, ctx: HandlerContext) -> None:
        if not flags["fixed"]:
            raise PermanentError("partner refused the payload: unknown carrier code")

    handlers.register(FLAKY_TOPIC, flaky_partner)
    return handlers


def _seed(path: Path) -> _Seeded:
    url = f"sqlite:///{path}"
    upgrade_to_head(url)
    engine = create_store_engine(url)
    try:
        exception_id = _seed_state(engine, AvailabilityService(policy()), datetime.now(UTC))
        dead_ids = []
        with engine.begin() as connection:
            events = []
            for number in range(3):
                event_id = deterministic_event_id(FLAKY_TOPIC, f"shipment:{number}", "v1")
                dead_ids.append(event_id)
                payload = {"shipment": number, "customer": {"email": CUSTOMER_EMAIL, "name": "Jane Doe"}}
                events.append(NewEvent(event_id, FLAKY_TOPIC, f"shipment:{number}", payload))
            append(connection, events)
        worker = Worker(engine, _flaky_partner_handlers({"fixed": False}), poll_interval_s=0.001)
        try:
            asyncio.run(worker.run_until_idle())
        finally:
            worker.close()
        store = SecurityStore(engine)
        tokens = {role.value: store.create_token(f"test {role.value}", role, "test").token for role in Role}
        store.create_user("olivia", PASSWORD, Role.OPERATOR)
        store.create_user("vic", PASSWORD, Role.VIEWER)
    finally:
        engine.dispose()  # the last connection checkpoints the WAL into the file
    return _Seeded(path, tokens, dead_ids, exception_id)


def seeded_copy(target: Path) -> tuple[str, _Seeded]:
    if not _SEEDED:
        _SEEDED.append(_seed(Path(tempfile.mkdtemp(prefix="ops-template-")) / "template.db"))
    seeded = _SEEDED[0]
    for suffix in ("", "-wal", "-shm"):
        source = seeded.path.with_name(seeded.path.name + suffix)
        if source.exists():
            shutil.copyfile(source, target.with_name(target.name + suffix))
    return f"sqlite:///{target}", seeded


def build_world(
    tmp_path: Path, bootstrap_token: str | None = "sandbox-admin-token-0123456789", *, pricing: bool = False
) -> OpsWorld:
    """`pricing`: also mount the pricing routes, with no pricing service behind them (allowed calls
    answer 503 `not_configured`, refusals are still 401/403): for walking their roles."""
    url, seeded = seeded_copy(tmp_path / "ops.db")
    engine = create_store_engine(url)
    flags = {"fixed": False}
    ctx = OperationsContext(
        engine=engine, availability=AvailabilityService(policy()), bootstrap_token=bootstrap_token
    )
    breaker = CircuitBreaker("shop:graphql", failure_threshold=1)
    breaker.record_failure()
    ctx.endpoints.register("shop:graphql", circuit=breaker, limiter=TokenBucket(rate=2, capacity=40))
    app = FastAPI(title="channelhub operations (test)")
    install_error_handlers(app)
    store = install_operations(app, ctx)
    if pricing:
        install_pricing(app)
    # The explain and health routes of `create_api`, under the same roles.
    api_context = ApiContext(engine, {}, None, ctx.need_availability(), bootstrap_token or "")
    app.include_router(admin_router(api_context))
    return OpsWorld(
        engine,
        ctx,
        app,
        store,
        _flaky_partner_handlers(flags),
        tokens=dict(seeded.tokens),
        partner_fixed=flags,
        dead_event_ids=list(seeded.dead_event_ids),
        exception_id=seeded.exception_id,
    )
