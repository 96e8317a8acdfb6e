"""The seeded flash-sale stream (identical in every arm) and the true available-to-sell.

`plan_stream(spec)` turns a seed into timed actions: shopper orders on both channels at `rate`
orders/s (exponential gaps, 70 % on the hot SKUs), Odoo receipts on hot SKUs, Odoo stock
adjustments (damage) on other SKUs, and the second warehouse going offline half way.

`TruthLedger` is what a perfect system would show on every channel (DESIGN §3 with this world's
rules: both warehouses shared 100 %, no safety stock, no packs): per SKU, units on hand in the
online warehouses minus every unit already sold on any channel, never below zero. The stream is the
only source of stock changes, so the ledger is exact without reading any system.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from channelhub.benchmarks.flash_sale_propagation import channels_show, is_pooled
from channelhub.benchmarks.flash_sale_world import CHANNELS, MAIN_WAREHOUSE, SECOND_WAREHOUSE, StockPlan

HOT_ORDER_SHARE = 0.7
RECEIPT_EVERY_S = 10.0
ADJUSTMENT_EVERY_S = 15.0


@dataclass(frozen=True)
class ShopperOrder:
    at: float  # seconds from the start of the sale
    channel: str
    sku: str
    quantity: int
    number: int
    kind: Literal["order"] = "order"


@dataclass(frozen=True)
class StockMove:
    """A receipt (positive) or an adjustment (negative) counted in Odoo."""

    at: float
    sku: str
    warehouse: str
    delta: int
    kind: Literal["stock"] = "stock"


@dataclass(frozen=True)
class WarehouseOffline:
    at: float
    warehouse: str
    kind: Literal["offline"] = "offline"


Action = ShopperOrder | StockMove | WarehouseOffline


@dataclass(frozen=True)
class StreamSpec:
    rate: float
    duration_s: float
    seed: int


def plan_stream(spec: StreamSpec, stock: StockPlan) -> list[Action]:
    """The same seed gives the same actions at the same offsets."""
    rng = random.Random(spec.seed * 104_729 + 17)
    actions: list[Action] = []
    at, number = 0.0, 0
    while True:
        at += rng.expovariate(spec.rate)
        if at >= spec.duration_s:
            break
        number += 1
        hot = rng.random() < HOT_ORDER_SHARE
        sku = rng.choice(stock.hot) if hot else rng.choice(stock.cold)
        quantity = rng.choice((1, 1, 1, 2, 2, 3)) if hot else rng.choice((1, 1, 2))
        actions.append(ShopperOrder(at, rng.choice(CHANNELS), sku, quantity, number))
    tick = RECEIPT_EVERY_S
    while tick < spec.duration_s:
        actions.append(StockMove(tick, rng.choice(stock.hot), MAIN_WAREHOUSE, rng.randint(5, 15)))
        tick += RECEIPT_EVERY_S
    tick = ADJUSTMENT_EVERY_S / 2
    while tick < spec.duration_s:
        actions.append(StockMove(tick, rng.choice(stock.cold), MAIN_WAREHOUSE, -rng.randint(1, 3)))
        tick += ADJUSTMENT_EVERY_S
    actions.append(WarehouseOffline(spec.duration_s / 2, SECOND_WAREHOUSE))
    actions.sort(key=lambda action: action.at)
    return actions


@dataclass
class TruthLedger:
    """The true ATS per SKU as the stream unfolds, and the units sold beyond it."""

    on_hand: dict[str, dict[str, int]]
    online: set[str] = field(default_factory=lambda: {MAIN_WAREHOUSE, SECOND_WAREHOUSE})
    sold: dict[str, int] = field(default_factory=dict)
    oversold_units: int = 0
    oversold_by_sku: dict[str, int] = field(default_factory=dict)
    oversold_by_channel: dict[str, int] = field(default_factory=dict)
    # Each sale that oversold: (planned offset s, channel, SKU, units sold, units not there).
    oversold_sales: list[tuple[float, str, str, int, int]] = field(default_factory=list)
    # The arm's low-stock fence threshold (`channelhub.domain.fence`): at or below it the channels
    # share the ATS between them instead of each showing it. None: every channel shows the ATS.
    fence_below: int | None = None

    @classmethod
    def starting_from(cls, stock: StockPlan) -> TruthLedger:
        return cls({sku: dict(units) for sku, units in stock.on_hand.items()})

    def ats(self, sku: str) -> int:
        pool = sum(units for wh, units in self.on_hand[sku].items() if wh in self.online)
        return max(0, pool - self.sold.get(sku, 0))

    def pooled(self, sku: str) -> bool:
        """Whether the channels share the SKU's ATS between them now (the fence is up)."""
        return is_pooled(self.ats(sku), self.fence_below)

    def shows_truth(self, sku: str, shown: Iterable[int]) -> bool:
        """Whether the channels' quantities are right (`channels_show`)."""
        return channels_show(self.ats(sku), shown, pooled=self.pooled(sku))

    def sell(self, sku: str, quantity: int, channel: str = "", at: float = 0.0) -> int:
        """`channel` accepted `quantity` units (at offset `at` of the stream); returns how many of
        them were not there."""
        short = max(0, quantity - self.ats(sku))
        self.sold[sku] = self.sold.get(sku, 0) + quantity
        if short:
            self.oversold_units += short
            self.oversold_by_sku[sku] = self.oversold_by_sku.get(sku, 0) + short
            self.oversold_by_channel[channel] = self.oversold_by_channel.get(channel, 0) + short
            self.oversold_sales.append((round(at, 2), channel, sku, quantity, short))
        return short

    def move(self, sku: str, warehouse: str, delta: int) -> int:
        """Apply a receipt/adjustment; returns the delta really applied (never below zero)."""
        current = self.on_hand[sku].get(warehouse, 0)
        applied = max(-current, delta)
        self.on_hand[sku][warehouse] = current + applied
        return applied

    def take_offline(self, warehouse: str) -> list[str]:
        """The SKUs whose ATS the warehouse going offline changes."""
        before = {sku: self.ats(sku) for sku, units in self.on_hand.items() if units.get(warehouse)}
        self.online.discard(warehouse)
        return [sku for sku, value in before.items() if self.ats(sku) != value]

    def all_skus(self) -> Iterable[str]:
        return self.on_hand.keys()
