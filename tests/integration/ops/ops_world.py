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

from channelhub.api.errors import install_error_handlers
from channelhub.api.operations import OperationsContext, install_operations
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


_MIGRATED: list[Path] = []


def migrated_database(target: Path) -> str:
    """A freshly migrated SQLite file at `target`: migrated once per process, then copied (the
    migrations take a second; the tests need dozens of fresh databases)."""
    if not _MIGRATED:
        template = Path(tempfile.mkdtemp(prefix="ops-template-")) / "template.db"
        upgrade_to_head(f"sqlite:///{template}")
        _MIGRATED.append(template)
    for suffix in ("", "-wal", "-shm"):
        source = _MIGRATED[0].with_name(_MIGRATED[0].name + suffix)
        if source.exists():
            shutil.copyfile(source, target.with_name(target.name + suffix))
    return f"sqlite:///{target}"


def build_world(tmp_path: Path, bootstrap_token: str | None = "sandbox-admin-token-0123456789") -> OpsWorld:
    url = migrated_database(tmp_path / "ops.db")
    engine = create_store_engine(url)
    availability = AvailabilityService(policy())
    now = datetime.now(UTC)
    exception_id = _seed_state(engine, availability, now)

    handlers = HandlerRegistry()
    world_flags = {"fixed": False}

    def flaky_partner(event: LoggedEvent, ctx: HandlerContext) -> None:
        if not world_flags["fixed"]:
            raise PermanentError("partner refused the payload: unknown carrier code")

    handlers.register(FLAKY_TOPIC, flaky_partner)
    dead_ids = []
    with engine.begin() as connection:
        events = []
        for number in range(3):
            event_id = deterministic_event_id(FLAKY_TOPIC, f"shipment:{number}", "v1")
            dead_ids.append(event_id)
            events.append(
                NewEvent(
                    event_id,
                    FLAKY_TOPIC,
                    f"shipment:{number}",
                    {"shipment": number, "customer": {"email": CUSTOMER_EMAIL, "name": "Jane Doe"}},
                )
            )
        append(connection, events)

    endpoints_ctx = OperationsContext(
        engine=engine, availability=availability, bootstrap_token=bootstrap_token
    )
    breaker = CircuitBreaker("shop:graphql", failure_threshold=1)
    breaker.record_failure()
    endpoints_ctx.endpoints.register(
        "shop:graphql", circuit=breaker, limiter=TokenBucket(rate=2, capacity=40)
    )
    app = FastAPI(title="channelhub operations (test)")
    install_error_handlers(app)
    store = install_operations(app, endpoints_ctx)
    world = OpsWorld(
        engine,
        endpoints_ctx,
        app,
        store,
        handlers,
        partner_fixed=world_flags,
        dead_event_ids=dead_ids,
        exception_id=exception_id,
    )
    world.run_worker()
    for role in Role:
        world.tokens[role.value] = store.create_token(f"test {role.value}", role, "test").token
    store.create_user("olivia", PASSWORD, Role.OPERATOR)
    store.create_user("vic", PASSWORD, Role.VIEWER)
    return world
