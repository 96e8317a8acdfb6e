"""The service's use cases on PostgreSQL (the scale-out store): the same flow as on SQLite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from channelhub.clock import ManualClock
from channelhub.domain import OrderStatus, Sku
from channelhub.engine.handlers import HandlerRegistry
from channelhub.engine.outbox import append
from channelhub.engine.worker import Worker
from channelhub.service.availability import AvailabilityService
from channelhub.service.explain import explain
from channelhub.service.fakes import FakeErpGateway, order_snapshot
from channelhub.service.handlers import ServiceHandlers, order_event, stock_refresh_events
from channelhub.service.operations import WarehouseAction
from channelhub.store.db import create_store_engine, isolated_schema, upgrade_to_head
from channelhub.store.repositories import StateRepositories
from tests.unit.service.conftest import T0, policy


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[sa.Engine]:
    with isolated_schema(postgres_url, prefix="svc") as schema:
        upgrade_to_head(postgres_url, schema)
        engine = create_store_engine(postgres_url, schema=schema)
        try:
            yield engine
        finally:
            engine.dispose()


async def test_stock_order_warehouse_and_explain_on_postgresql(pg_engine: sa.Engine) -> None:
    clock = ManualClock(T0)
    erp = FakeErpGateway()
    handlers = ServiceHandlers.build(AvailabilityService(policy()), erp)
    registry = HandlerRegistry()
    handlers.register(registry)
    worker = Worker(pg_engine, registry, clock=clock, worker_id="svc-pg")
    try:
        erp.put_stock("A", "wh1", on_hand=10)
        erp.put_stock("A", "wh2", on_hand=6)
        pending = order_snapshot("web", "9", {"A": 3}, at=T0, payment="pending")
        with pg_engine.begin() as connection:
            append(connection, [*stock_refresh_events(["A"], "setup")], clock)
        await worker.run_until_idle()
        with pg_engine.begin() as connection:
            append(connection, [order_event(pending), order_event(pending)], clock)
        await worker.run_until_idle()
        with pg_engine.begin() as connection:
            handlers.operations.set_warehouse(connection, "wh2", WarehouseAction.OFFLINE, clock.now())
        with pg_engine.connect() as connection:
            repos = StateRepositories.on(connection)
            link = repos.orders.get("web:9")
            shop = repos.listings.state("shop", Sku("A"))
            why = explain(connection, handlers.availability, "A", "web")
        assert link is not None and link.state is OrderStatus.ON_HOLD and erp.created == 1
        assert shop is not None and shop.desired_quantity == 6  # 10 − 1 safety − 3 soft
        assert why["available_to_sell"] == 2 and why["soft_reserved"] == 3
    finally:
        worker.close()
