"""A small landscape on a migrated SQLite file (copied from one migrated template per session),
the fake gateways, and the service handlers running under the real durable-log worker."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from channelhub.clock import ManualClock
from channelhub.domain import AllocationRules, ChannelAllocation, ChannelShare, SafetyStock, Sku, Warehouse
from channelhub.engine.events import NewEvent
from channelhub.engine.handlers import HandlerRegistry
from channelhub.engine.outbox import append
from channelhub.engine.worker import Worker
from channelhub.service.availability import AvailabilityPolicy, AvailabilityService
from channelhub.service.fakes import FakeChannelGateway, FakeErpGateway
from channelhub.service.handlers import ServiceHandlers
from channelhub.store.db import create_store_engine, upgrade_to_head
from channelhub.store.repositories import StateRepositories

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def policy() -> AvailabilityPolicy:
    """shop (wh1 + wh2, shared, 1 unit safety), web (wh1 only, 50 %), pack of 2 for PACK on web."""
    return AvailabilityPolicy(
        rules=AllocationRules(
            channels=(
                ChannelAllocation("shop", ("wh1", "wh2"), ChannelShare.shared(), SafetyStock(units=1)),
                ChannelAllocation("web", ("wh1",), ChannelShare.percentage(50)),
            )
        ),
        warehouses=(Warehouse("wh1", "Main"), Warehouse("wh2", "Outlet")),
        pack_sizes={("web", "PACK"): 2},
    )


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("service-template") / "template.db"
    upgrade_to_head(f"sqlite:///{path}")
    return path


@dataclass
class World:
    engine: sa.Engine
    clock: ManualClock
    erp: FakeErpGateway
    shop: FakeChannelGateway
    handlers: ServiceHandlers
    worker: Worker

    def emit(self, *events: NewEvent) -> int:
        with self.engine.begin() as connection:
            return append(connection, list(events), self.clock)

    async def settle(self) -> int:
        return await self.worker.run_until_idle()

    def desired(self, channel: str, sku: str) -> int | None:
        with self.engine.connect() as connection:
            state = StateRepositories.on(connection).listings.state(channel, Sku(sku))
        return None if state is None else state.desired_quantity

    def repos(self, connection: sa.Connection) -> StateRepositories:
        return StateRepositories.on(connection)


@pytest.fixture
def world(migrated_template: Path, tmp_path: Path) -> Iterator[World]:
    yield from make_world(migrated_template, tmp_path, policy())


def make_world(migrated_template: Path, tmp_path: Path, rules: AvailabilityPolicy) -> Iterator[World]:
    """A world on its own copy of the migrated store, under `rules`."""
    path = tmp_path / "service.db"
    shutil.copyfile(migrated_template, path)
    engine = create_store_engine(f"sqlite:///{path}")
    clock = ManualClock(T0)
    erp = FakeErpGateway()
    handlers = ServiceHandlers.build(AvailabilityService(rules), erp)
    registry = HandlerRegistry()
    handlers.register(registry)
    worker = Worker(engine, registry, clock=clock, worker_id="test-worker")
    try:
        yield World(engine, clock, erp, FakeChannelGateway("shop"), handlers, worker)
    finally:
        worker.close()
        engine.dispose()
