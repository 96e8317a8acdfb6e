"""A migrated store per test (SQLite copied from a migrated template, and PostgreSQL), a fake channel, and
helpers to set desired and acknowledged quantities the way the service layer does."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from channelhub.clock import Clock, ManualClock
from channelhub.domain import Sku
from channelhub.engine.publisher import Publisher, PublisherSettings
from channelhub.service.fakes import FakeChannelGateway
from channelhub.store.db import create_store_engine, isolated_schema, upgrade_to_head
from channelhub.store.repositories import ListingState, StateRepositories
from channelhub.store.state_tables import channel_listing


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("publisher-template") / "template.db"
    upgrade_to_head(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_store(postgres_url: str) -> Iterator[sa.Engine]:
    """One migrated PostgreSQL schema for the session; tests empty the listings they use."""
    with isolated_schema(postgres_url, prefix="publisher") as schema:
        upgrade_to_head(postgres_url, schema)
        engine = create_store_engine(postgres_url, schema=schema)
        yield engine
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, migrated_template: Path, tmp_path: Path) -> Iterator[sa.Engine]:
    """The same tests on both backends: a copy of the migrated SQLite template, or the session's
    PostgreSQL schema with the listings emptied."""
    if request.param == "postgresql":
        engine: sa.Engine = request.getfixturevalue("postgres_store")
        with engine.begin() as connection:
            connection.execute(sa.delete(channel_listing))
        yield engine
        return
    path = tmp_path / "store.db"
    shutil.copy(migrated_template, path)
    engine = create_store_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@dataclass
class Listings:
    """Set desired / acknowledged quantities of one channel and read them back."""

    engine: sa.Engine
    clock: Clock
    channel: str

    def desire(self, quantities: Mapping[str, int]) -> None:
        with self.engine.begin() as connection:
            StateRepositories.on(connection).listings.set_desired_quantities(
                [(self.channel, Sku(sku), q) for sku, q in quantities.items()],
                self.clock.now(),
            )

    def acknowledge(self, quantities: Mapping[str, int]) -> None:
        with self.engine.begin() as connection:
            StateRepositories.on(connection).listings.acknowledge_quantities(
                [(self.channel, Sku(sku), q) for sku, q in quantities.items()],
                self.clock.now(),
            )

    def state(self, sku: str) -> ListingState:
        with self.engine.connect() as connection:
            state = StateRepositories.on(connection).listings.state(self.channel, Sku(sku))
        assert state is not None, f"no listing for {sku}"
        return state

    def dirty_count(self) -> int:
        with self.engine.connect() as connection:
            return StateRepositories.on(connection).listings.count_dirty(self.channel)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def shop() -> FakeChannelGateway:
    return FakeChannelGateway("shop", kind="shopify", compare_and_set=True, max_quantities_per_call=250)


@pytest.fixture
def listings(store: sa.Engine, clock: ManualClock) -> Listings:
    return Listings(store, clock, "shop")


def make_publisher(
    store: sa.Engine, clock: ManualClock, *gateways: FakeChannelGateway, **settings: object
) -> Publisher:
    defaults: dict[str, object] = {"seed": 7}
    defaults.update(settings)
    return Publisher(store, gateways, clock=clock, settings=PublisherSettings(**defaults))  # type: ignore[arg-type]
