"""Concurrent bulk writes of channel listings on PostgreSQL take row locks in one order (channel,
SKU), so they wait for each other instead of deadlocking ("deadlock detected").

Each test holds one listing row in the middle of the range (a third session's `FOR UPDATE`) until
both writers are blocked, then lets go: writers that lock in different orders (a recompute in
SKU order against the publisher acknowledging in risk order) would each hold rows the other needs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from channelhub.clock import ManualClock
from channelhub.domain import Sku
from channelhub.engine.publisher import Publisher, _Outcome
from channelhub.service.availability import AvailabilityService
from channelhub.service.fakes import FakeChannelGateway
from channelhub.store.db import create_store_engine, isolated_schema, upgrade_to_head
from channelhub.store.repositories import StateRepositories
from channelhub.store.state_tables import channel_listing
from tests.unit.service.conftest import T0, policy

SKUS = [Sku(f"S{n:03d}") for n in range(200)]
GATE = Sku("S100")


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[sa.Engine]:
    with isolated_schema(postgres_url, prefix="svclock") as schema:
        upgrade_to_head(postgres_url, schema)
        engine = create_store_engine(postgres_url, schema=schema)
        try:
            with engine.begin() as connection:  # every listing exists, showing 5
                StateRepositories.on(connection).listings.set_desired_quantities(
                    [(channel, sku, 5) for channel in ("shop", "web") for sku in SKUS], T0
                )
            yield engine
        finally:
            engine.dispose()


def blocked_sessions(engine: sa.Engine, gate_pid: int) -> int:
    with engine.connect() as connection:
        query = sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE pid <> :gate AND datname = current_database()"
            " AND cardinality(pg_blocking_pids(pid)) > 0 AND query ILIKE '%channel_listing%'"
        )
        return int(connection.execute(query, {"gate": gate_pid}).scalar_one())


def race(engine: sa.Engine, writers: list[Callable[[], None]]) -> list[BaseException]:
    """Run `writers` in threads while row (shop, GATE) is locked; release it once both wait."""
    errors: list[BaseException] = []

    def run(writer: Callable[[], None]) -> None:
        try:
            writer()
        except BaseException as error:
            errors.append(error)

    with engine.connect() as gate:
        transaction = gate.begin()
        gate_pid = int(gate.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
        gate.execute(
            sa.select(channel_listing.c.sku)
            .where(channel_listing.c.channel == "shop", channel_listing.c.sku == GATE.value)
            .with_for_update()
        )
        threads = [threading.Thread(target=run, args=(writer,)) for writer in writers]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while blocked_sessions(engine, gate_pid) < len(writers) and time.monotonic() < deadline:
            time.sleep(0.02)
        transaction.rollback()
    for thread in threads:
        thread.join(30)
    return errors


def test_a_recompute_and_the_publisher_acknowledging_in_risk_order_do_not_deadlock(
    pg_engine: sa.Engine,
) -> None:
    availability = AvailabilityService(policy())
    clock = ManualClock(T0 + timedelta(seconds=1))
    publisher = Publisher(pg_engine, [FakeChannelGateway("shop")], clock=clock)
    # The riskiest (lowest) quantities first: the highest SKUs here, the reverse of SKU order.
    acknowledged = [("shop", sku, 199 - n) for n, sku in enumerate(SKUS)][::-1]

    def recompute() -> None:
        with pg_engine.begin() as connection:
            availability.recompute(connection, list(reversed(SKUS)), clock.now())

    def acknowledge() -> None:
        publisher._record("shop", _Outcome(acknowledged=acknowledged))

    errors = race(pg_engine, [recompute, acknowledge])

    assert errors == []
    with pg_engine.connect() as connection:
        listings = StateRepositories.on(connection).listings
        shop = [listings.state("shop", sku) for sku in SKUS]
    assert {state.desired_quantity for state in shop if state} == {0}  # no stock anywhere
    assert [state.acknowledged_quantity for state in shop if state] == [199 - n for n in range(200)]


def test_two_recomputes_over_overlapping_skus_do_not_deadlock(pg_engine: sa.Engine) -> None:
    availability = AvailabilityService(policy())
    at = T0 + timedelta(seconds=1)

    def recompute(skus: list[Sku]) -> Callable[[], None]:
        def write() -> None:
            with pg_engine.begin() as connection:
                availability.recompute(connection, skus, at)

        return write

    warehouse_wide = recompute(list(reversed(SKUS)))
    worker_batch = recompute([sku for n, sku in enumerate(SKUS) if n % 4 == 0 or n > 150])  # has GATE
    assert race(pg_engine, [warehouse_wide, worker_batch]) == []
