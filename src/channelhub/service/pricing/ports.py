"""What pricing governance needs from the outside: the price source (Odoo pricelists), one price
publisher per channel, and optionally recent sales velocity and order rates (preview, canary).

Adapters over the real connectors live in `adapters.py`, in-memory fakes in `fakes.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class SourcePrice:
    """A fixed price the source (an Odoo pricelist item) gives one SKU, with its window."""

    sku: str
    amount: Decimal
    currency: str
    starts: datetime | None = None
    ends: datetime | None = None
    rule_id: int | None = None
    ref: str | None = None  # the source row and its version, e.g. `product.pricelist.item:7@<write_date>`


@dataclass(frozen=True, slots=True)
class PricelistChange:
    """Prices of one pricelist changed in one write burst (becomes one change set per window)."""

    pricelist: int
    prices: tuple[SourcePrice, ...]
    stamp: str  # the newest write_date of the burst (part of the change set's identity)
    author: str | None = None  # who wrote it in the source (the proposer: maker-checker)


@dataclass(frozen=True, slots=True)
class PriceChangeBatch:
    changes: tuple[PricelistChange, ...]
    cursor: str
    has_more: bool = False


@runtime_checkable
class PriceSource(Protocol):
    async def price_changes_since(self, cursor: str | None, *, limit: int = 1000) -> PriceChangeBatch:
        """Pricelist prices written after `cursor` (None: from the start), grouped by pricelist."""
        ...

    async def prices_at(self, pricelist: int, at: datetime) -> tuple[str, dict[str, Decimal]]:
        """(currency, SKU → unit price) the pricelist gives at `at` (the snapshot)."""
        ...

    async def costs(self, skus: Sequence[str]) -> dict[str, tuple[Decimal, str]]:
        """SKU → (cost, currency): Odoo's `standard_price` in the company currency."""
        ...


@dataclass(frozen=True, slots=True)
class PushOutcome:
    sku: str
    applied: bool
    error: str | None = None
    transient: bool = False


@runtime_checkable
class PricePublisher(Protocol):
    """One channel's prices. `set_prices` never raises for one SKU's problem (it reports it);
    it raises `ConnectorError` only when the whole call failed."""

    @property
    def channel(self) -> str: ...

    async def set_prices(self, prices: Mapping[str, Decimal]) -> dict[str, PushOutcome]: ...

    async def read_prices(self, skus: Sequence[str]) -> dict[str, Decimal]:
        """The price each SKU shows now, read from the channel (not a cache); unlisted SKUs absent."""
        ...


class SalesVelocity(Protocol):
    async def units_per_day(self, channel: str, skus: Sequence[str]) -> dict[str, Decimal]: ...


class OrderRate(Protocol):
    async def orders_per_hour(self, channel: str, since: datetime, until: datetime) -> Decimal: ...
