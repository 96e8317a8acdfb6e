"""In-memory price source, publishers, velocity and order rate (public: tests and demos use them)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from channelhub.connectors.errors import UnavailableError
from channelhub.service.pricing.ports import PriceChangeBatch, PricelistChange, PushOutcome


@dataclass
class FakePriceSource:
    """Queue changes with `push`; `pricelists` holds the snapshot prices, `cost_of` the costs."""

    currency: str = "EUR"
    pending: list[PricelistChange] = field(default_factory=list)
    pricelists: dict[int, dict[str, Decimal]] = field(default_factory=dict)
    cost_of: dict[str, Decimal] = field(default_factory=dict)
    delivered: int = 0

    def push(self, change: PricelistChange) -> None:
        self.pending.append(change)

    async def price_changes_since(self, cursor: str | None, *, limit: int = 1000) -> PriceChangeBatch:
        start = int(cursor or 0)
        batch = self.pending[start : start + limit]
        self.delivered += len(batch)
        end = start + len(batch)
        return PriceChangeBatch(tuple(batch), str(end), has_more=end < len(self.pending))

    async def prices_at(self, pricelist: int, at: datetime) -> tuple[str, dict[str, Decimal]]:
        return self.currency, dict(self.pricelists.get(pricelist, {}))

    async def costs(self, skus: Sequence[str]) -> dict[str, tuple[Decimal, str]]:
        return {sku: (self.cost_of[sku], self.currency) for sku in skus if sku in self.cost_of}


@dataclass
class FakePricePublisher:
    """A channel's prices in memory, with knobs: `fail_calls` (whole calls failing, transient),
    `refuse` (SKUs refused permanently), `drift` (SKUs that read back a different price)."""

    name: str
    prices: dict[str, Decimal] = field(default_factory=dict)
    fail_calls: int = 0
    refuse: set[str] = field(default_factory=set)
    drift: dict[str, Decimal] = field(default_factory=dict)
    calls: int = 0
    reads: int = 0

    @property
    def channel(self) -> str:
        return self.name

    async def set_prices(self, prices: Mapping[str, Decimal]) -> dict[str, PushOutcome]:
        await asyncio.sleep(0)  # a real channel is IO: let other tasks run in between
        self.calls += 1
        if self.fail_calls > 0:
            self.fail_calls -= 1
            raise UnavailableError("fake channel is down", system=self.name, operation="set_prices")
        outcomes: dict[str, PushOutcome] = {}
        for sku, price in prices.items():
            if sku not in self.prices:
                outcomes[sku] = PushOutcome(sku, False, "SKU not listed")
            elif sku in self.refuse:
                outcomes[sku] = PushOutcome(sku, False, "refused by the channel")
            else:
                self.prices[sku] = price
                outcomes[sku] = PushOutcome(sku, True)
        return outcomes

    async def read_prices(self, skus: Sequence[str]) -> dict[str, Decimal]:
        await asyncio.sleep(0)
        self.reads += 1
        return {sku: self.drift.get(sku, self.prices[sku]) for sku in skus if sku in self.prices}


@dataclass
class StaticSalesVelocity:
    """Units per day per (channel, SKU); unknown pairs sell nothing."""

    units: dict[tuple[str, str], Decimal] = field(default_factory=dict)

    async def units_per_day(self, channel: str, skus: Sequence[str]) -> dict[str, Decimal]:
        return {sku: self.units[(channel, sku)] for sku in skus if (channel, sku) in self.units}


@dataclass
class StaticOrderRate:
    """Orders per hour per channel before and after a moment (`switch_at`)."""

    before: Decimal = Decimal(10)
    after: Decimal = Decimal(10)
    switch_at: datetime | None = None

    async def orders_per_hour(self, channel: str, since: datetime, until: datetime) -> Decimal:
        if self.switch_at is None or until <= self.switch_at:
            return self.before
        return self.after
