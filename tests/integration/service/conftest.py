"""The Odoo emulator (17.0) on loopback, a migrated SQLite store, and the service wired through
`OdooErpGateway` and the real durable-log worker."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from channelhub.clock import SYSTEM_CLOCK
from channelhub.connectors.odoo import OdooConnection, OdooConnector, OdooResilience
from channelhub.domain import AllocationRules, ChannelAllocation, ChannelShare, SafetyStock, Sku, Warehouse
from channelhub.engine.events import NewEvent
from channelhub.engine.handlers import HandlerRegistry
from channelhub.engine.outbox import append
from channelhub.engine.worker import Worker
from channelhub.sandbox.odoo.app import EmulatorSettings, OdooEmulator, create_emulator
from channelhub.sandbox.server import serve_in_thread
from channelhub.service.adapters import OdooErpGateway
from channelhub.service.availability import AvailabilityPolicy, AvailabilityService
from channelhub.service.handlers import ServiceHandlers
from channelhub.store.db import create_store_engine, upgrade_to_head
from channelhub.store.repositories import StateRepositories

WEBHOOK_SECRET = "integration-webhook-secret-0123"


@dataclass
class RunningOdoo:
    url: str
    emulator: OdooEmulator


@pytest.fixture(scope="module")
def odoo() -> Iterator[RunningOdoo]:
    emulator = create_emulator(EmulatorSettings(version="17.0", seed=6, skus=30))
    with serve_in_thread(emulator.app) as server:
        yield RunningOdoo(server.url, emulator)


def landscape() -> AvailabilityPolicy:
    """shop: WH + EAST, 2 units safety; web: WH only. (WEST feeds nobody.)"""
    return AvailabilityPolicy(
        rules=AllocationRules(
            channels=(
                ChannelAllocation("shop", ("wh", "east"), ChannelShare.shared(), SafetyStock(units=2)),
                ChannelAllocation("web", ("wh",), ChannelShare.shared()),
            )
        ),
        warehouses=(Warehouse("wh"), Warehouse("east"), Warehouse("west")),
    )


@dataclass
class Hub:
    engine: sa.Engine
    connector: OdooConnector
    erp: OdooErpGateway
    handlers: ServiceHandlers
    worker: Worker

    def emit(self, *events: NewEvent) -> int:
        with self.engine.begin() as connection:
            return append(connection, list(events), SYSTEM_CLOCK)

    def desired(self, channel: str, sku: str) -> int | None:
        with self.engine.connect() as connection:
            state = StateRepositories.on(connection).listings.state(channel, Sku(sku))
        return None if state is None else state.desired_quantity


@pytest.fixture
async def hub(odoo: RunningOdoo, tmp_path: object) -> AsyncIterator[Hub]:
    url = f"sqlite:///{tmp_path}/hub.db"
    upgrade_to_head(url)
    engine = create_store_engine(url)
    connector = OdooConnector(
        OdooConnection(odoo.url, "retail", "admin", "admin"),
        resilience=OdooResilience.default(rng=random.Random(5), base_delay=0.005, max_delay=0.05),
    )
    await connector.connect()
    partner = (
        await connector.client.execute_kw(
            "res.partner", "search", [[("customer_rank", ">", 0)]], {"limit": 1}
        )
    )[0]
    erp = OdooErpGateway(connector, partner_id=partner, webhook_secret=WEBHOOK_SECRET)
    handlers = ServiceHandlers.build(AvailabilityService(landscape()), erp)
    registry = HandlerRegistry()
    handlers.register(registry)
    worker = Worker(engine, registry, worker_id="service-it")
    try:
        yield Hub(engine, connector, erp, handlers, worker)
    finally:
        worker.close()
        await erp.aclose()
        engine.dispose()
