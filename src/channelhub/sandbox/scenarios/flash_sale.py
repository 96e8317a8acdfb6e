"""The flash-sale scenario: a seeded storm of orders on both channels, with Odoo-side stock moves
and a warehouse going offline half way through.

Reusable by the sandbox and by every arm of `channelhub bench flash-sale`: the driver only talks to
the outside (storefront endpoints of the channel emulators, Odoo over JSON-RPC) plus two hooks
from the caller — `channel_quantities` (what each channel shows now, read in-process) and
`take_warehouse_offline` (how this arm learns that a warehouse stopped feeding) — so nothing
arm-specific lives here.

What happens, all from `settings.seed`:

* orders arrive at `rate` per second (Poisson), alternating channels at random, `hot_share` of them
  on the *hot* SKUs (the scarcest ones), 1..`max_units` units each; the storefront refuses what
  it does not show (409), which is not a sale;
* every `receipt_every_s` a hot SKU receives a few units in the first warehouse, every
  `adjustment_every_s` a count correction removes one or two units;
* at `offline_at` × duration, `offline_warehouse` goes offline: its free stock stops counting.

The driver keeps the *true* available-to-sell of every SKU: the free units of the online
warehouses (orders consume the first warehouse, where Odoo books channel orders), never below 0.
That is the value a perfect integration would show on every channel at once (every warehouse
feeds every channel, shared pool, no safety stock: the sandbox landscape). Each change is a
stock-changing event for `PropagationTracker`; sampling the channels closes them.

Overselling is counted against physical stock (all warehouses, online or not): units sold beyond
the SKU's starting free stock plus receipts minus adjustments, attributed to the channel whose
order crossed zero.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from channelhub.benchmarks.flash_sale_propagation import PropagationTracker, channels_show, is_pooled
from channelhub.sandbox.scenarios.odoo_rpc import OdooAccess, OdooRpc, OdooRpcError

ChannelQuantities = Callable[[str, Sequence[str]], Mapping[str, int]]
"""(channel name, SKUs) → what the channel shows for them now (absent: not listed)."""


@dataclass(frozen=True)
class FlashSaleSettings:
    rate: float = 10.0  # orders per second over both channels
    duration_s: float = 30.0
    seed: int = 1
    hot_share: float = 0.7
    max_units: int = 2
    receipt_every_s: float = 3.0
    adjustment_every_s: float = 5.0
    offline_warehouse: str | None = "east"
    offline_at: float = 0.5
    sample_interval_s: float = 0.05
    settle_s: float = 5.0  # keep sampling after the last order so late propagation is measured
    max_in_flight: int = 32

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.duration_s <= 0:
            raise ValueError("rate and duration must be positive")
        if not 0 <= self.hot_share <= 1 or not 0 <= self.offline_at <= 1:
            raise ValueError("hot_share and offline_at are fractions between 0 and 1")


@dataclass
class ChannelShop:
    """One channel: its name in the landscape (the Odoo reference prefix) and storefront URL."""

    name: str
    storefront_url: str
    platform: str  # "shopify" | "woocommerce": the storefront's request shape


@dataclass
class FlashSaleTarget:
    channels: Sequence[ChannelShop]
    odoo: OdooAccess
    stock: Mapping[str, Mapping[str, int]]  # SKU → warehouse code → free units at the start
    hot_skus: Sequence[str]
    channel_quantities: ChannelQuantities
    take_warehouse_offline: Callable[[str], Awaitable[None]]
    order_warehouse: str = "wh"  # where Odoo books channel orders (and receipts land)
    odoo_warehouse_codes: Mapping[str, str] = field(default_factory=dict)  # wh → WH (default upper())
    # channelhub's low-stock fence threshold: at or below it the channels share the ATS between
    # them, so their numbers must add up to it instead of each showing it. None: no fence.
    fence_below: int | None = None

    def pooled(self, truth: int) -> bool:
        return is_pooled(truth, self.fence_below)


@dataclass(frozen=True)
class FlashSaleProgress:
    elapsed_s: float
    duration_s: float
    orders: int
    refused: int
    units: int
    receipts: int
    adjustments: int
    open_events: int
    warehouse_offline: bool


@dataclass
class FlashSaleResult:
    orders: int = 0
    refused_orders: int = 0
    units_sold: int = 0
    orders_by_channel: dict[str, int] = field(default_factory=dict)
    oversold_units: int = 0
    oversold_by_channel: dict[str, int] = field(default_factory=dict)
    receipts: int = 0
    adjustments: int = 0
    order_errors: int = 0
    order_refs: list[str] = field(default_factory=list)  # "<channel>:<order id>" of accepted orders
    propagation: dict[str, Any] = field(default_factory=dict)
    truth: dict[str, int] = field(default_factory=dict)  # final true ATS per SKU

    def to_dict(self) -> dict[str, Any]:
        return {
            "orders": self.orders,
            "refused_orders": self.refused_orders,
            "units_sold": self.units_sold,
            "orders_by_channel": dict(self.orders_by_channel),
            "oversold_units": self.oversold_units,
            "oversold_by_channel": dict(self.oversold_by_channel),
            "receipts": self.receipts,
            "adjustments": self.adjustments,
            "order_errors": self.order_errors,
            **self.propagation,
        }


class _Books:
    """The true stock of the sale: free units per SKU and warehouse, and which ones are online."""

    def __init__(self, stock: Mapping[str, Mapping[str, int]], order_warehouse: str) -> None:
        self.free = {sku: dict(per) for sku, per in stock.items()}
        self.physical = {sku: sum(max(0, q) for q in per.values()) for sku, per in stock.items()}
        self.offline: set[str] = set()
        self.order_warehouse = order_warehouse

    def truth(self, sku: str) -> int:
        return max(0, sum(q for w, q in self.free.get(sku, {}).items() if w not in self.offline))

    def move(self, sku: str, units: int) -> None:
        per = self.free.setdefault(sku, {})
        per[self.order_warehouse] = per.get(self.order_warehouse, 0) + units
        self.physical[sku] = self.physical.get(sku, 0) + units


def _order_body(platform: str, sku: str, units: int) -> dict[str, Any]:
    if platform == "shopify":
        return {"line_items": [{"sku": sku, "quantity": units}], "financial_status": "paid"}
    return {"line_items": [{"sku": sku, "quantity": units}], "status": "processing"}


def _order_id(platform: str, body: Mapping[str, Any]) -> str:
    order = body.get("order", body) if platform == "shopify" else body
    return str(order["id"])


class FlashSale:
    def __init__(
        self,
        target: FlashSaleTarget,
        settings: FlashSaleSettings,
        progress: Callable[[FlashSaleProgress], None] | None = None,
    ) -> None:
        self.target = target
        self.settings = settings
        self._progress = progress
        self._rng = random.Random(settings.seed)
        self._books = _Books(target.stock, target.order_warehouse)
        self._tracker = PropagationTracker([c.name for c in target.channels])
        self._skus = sorted(target.stock)
        self._hot = [sku for sku in target.hot_skus if sku in target.stock] or self._skus[:3]
        self.result = FlashSaleResult(orders_by_channel={c.name: 0 for c in target.channels})
        self._started = 0.0
        self._sold: dict[str, int] = {}

    def _now(self) -> float:
        return time.monotonic()

    def _changed(self, sku: str) -> None:
        truth = self._books.truth(sku)
        self._tracker.stock_changed(sku, self._now(), truth, pooled=self.target.pooled(truth))

    # -- orders --------------------------------------------------------------------------------

    def _plan(self) -> list[tuple[float, ChannelShop, str, int]]:
        """(offset s, channel, SKU, units) of every order, drawn up front from the seed."""
        plan: list[tuple[float, ChannelShop, str, int]] = []
        at = 0.0
        rng, settings = self._rng, self.settings
        while True:
            at += rng.expovariate(settings.rate)
            if at >= settings.duration_s:
                return plan
            channel = rng.choice(list(self.target.channels))
            pool = self._hot if rng.random() < settings.hot_share else self._skus
            plan.append((at, channel, rng.choice(pool), rng.randint(1, settings.max_units)))

    async def _place(self, client: httpx.AsyncClient, channel: ChannelShop, sku: str, units: int) -> None:
        try:
            response = await client.post(
                f"{channel.storefront_url}/_sandbox/orders", json=_order_body(channel.platform, sku, units)
            )
        except httpx.HTTPError:
            self.result.order_errors += 1
            return
        if response.status_code == 409:
            self.result.refused_orders += 1
            return
        if response.status_code != 201:
            self.result.order_errors += 1
            return
        result = self.result
        result.orders += 1
        result.units_sold += units
        result.orders_by_channel[channel.name] = result.orders_by_channel.get(channel.name, 0) + 1
        result.order_refs.append(f"{channel.name}:{_order_id(channel.platform, response.json())}")
        before = self._books.physical.get(sku, 0)
        over = max(0, units - max(0, before))
        if over:
            result.oversold_units += over
            result.oversold_by_channel[channel.name] = result.oversold_by_channel.get(channel.name, 0) + over
        self._books.move(sku, -units)
        self._changed(sku)

    async def _orders(self, client: httpx.AsyncClient) -> None:
        gate = asyncio.Semaphore(self.settings.max_in_flight)
        tasks = []

        async def one(channel: ChannelShop, sku: str, units: int) -> None:
            async with gate:
                await self._place(client, channel, sku, units)

        for offset, channel, sku, units in self._plan():
            delay = self._started + offset - self._now()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.ensure_future(one(channel, sku, units)))
        if tasks:
            await asyncio.gather(*tasks)

    # -- Odoo and the warehouse ----------------------------------------------------------------

    async def _odoo_moves(self, rpc: OdooRpc) -> None:
        settings, rng = self.settings, random.Random(self.settings.seed + 1)
        next_receipt, next_adjustment = settings.receipt_every_s, settings.adjustment_every_s
        warehouse = self.target.order_warehouse
        odoo_code = self.target.odoo_warehouse_codes.get(warehouse, warehouse.upper())
        while (elapsed := self._now() - self._started) < settings.duration_s:
            due = min(next_receipt, next_adjustment)
            if due > elapsed:
                await asyncio.sleep(min(due - elapsed, settings.duration_s - elapsed))
                continue
            receipt = next_receipt <= next_adjustment
            sku = rng.choice(self._hot)
            delta = rng.randint(2, 6) if receipt else -rng.randint(1, 2)
            if receipt:
                next_receipt += settings.receipt_every_s
            else:
                next_adjustment += settings.adjustment_every_s
            try:
                applied = await rpc.change_stock(sku, odoo_code, delta)
            except (OdooRpcError, httpx.HTTPError):
                continue
            self._books.move(sku, applied)
            if receipt:
                self.result.receipts += 1
            else:
                self.result.adjustments += 1
            self._changed(sku)

    async def _warehouse_offline(self) -> None:
        code = self.settings.offline_warehouse
        if code is None:
            return
        await asyncio.sleep(self.settings.offline_at * self.settings.duration_s)
        await self.target.take_warehouse_offline(code)
        affected = [sku for sku, per in self._books.free.items() if per.get(code, 0) > 0]
        self._books.offline.add(code)
        for sku in affected:
            self._changed(sku)

    # -- observing -----------------------------------------------------------------------------

    def _sample(self) -> None:
        open_skus = sorted(self._tracker.open_skus())
        if not open_skus:
            return
        for channel in self.target.channels:
            shown = self.target.channel_quantities(channel.name, open_skus)
            at = self._now()
            for sku in open_skus:
                if sku in shown:
                    self._tracker.channel_shows(channel.name, sku, at, max(0, shown[sku]))

    def _report_progress(self) -> None:
        if self._progress is None:
            return
        result = self.result
        self._progress(
            FlashSaleProgress(
                elapsed_s=self._now() - self._started,
                duration_s=self.settings.duration_s,
                orders=result.orders,
                refused=result.refused_orders,
                units=result.units_sold,
                receipts=result.receipts,
                adjustments=result.adjustments,
                open_events=len(self._tracker.open_skus()),
                warehouse_offline=bool(self._books.offline),
            )
        )

    async def _observe(self, stop: asyncio.Event) -> None:
        last_progress = 0.0
        while not stop.is_set():
            self._sample()
            if self._now() - last_progress >= 0.25:
                self._report_progress()
                last_progress = self._now()
            await asyncio.sleep(self.settings.sample_interval_s)

    async def run(self) -> FlashSaleResult:
        settings = self.settings
        self._started = self._now()
        stop = asyncio.Event()
        async with httpx.AsyncClient(timeout=30) as client:
            rpc = OdooRpc(self.target.odoo, client)
            observer = asyncio.ensure_future(self._observe(stop))
            try:
                await asyncio.gather(self._orders(client), self._odoo_moves(rpc), self._warehouse_offline())
                # Late propagation is still measured, up to `settle_s` after the last order.
                for _ in range(int(settings.settle_s / settings.sample_interval_s) + 1):
                    if not self._tracker.open_skus():
                        break
                    await asyncio.sleep(settings.sample_interval_s)
            finally:
                stop.set()
                await observer
        self._sample()
        self._report_progress()
        self.result.propagation = self._tracker.summary()
        self.result.truth = {sku: self._books.truth(sku) for sku in self._skus}
        return self.result


async def run_flash_sale(
    target: FlashSaleTarget,
    settings: FlashSaleSettings,
    progress: Callable[[FlashSaleProgress], None] | None = None,
) -> FlashSaleResult:
    """Drive one flash sale against `target` and measure it (see the module docstring)."""
    return await FlashSale(target, settings, progress).run()


async def audit_odoo_orders(
    odoo: OdooAccess, order_refs: Sequence[str], channels: Sequence[str], *, wait_s: float = 30.0
) -> dict[str, int]:
    """Lost orders (accepted on a channel, absent in Odoo) and duplicates (one channel order, several
    Odoo orders), waiting up to `wait_s` for the last orders to arrive."""
    expected = set(order_refs)
    deadline = time.monotonic() + wait_s
    async with httpx.AsyncClient(timeout=30) as client:
        rpc = OdooRpc(odoo, client)
        while True:
            refs = await rpc.sale_order_refs([f"{name}:" for name in channels]) if channels else []
            missing = expected - set(refs)
            if not missing or time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.5)
    counts: dict[str, int] = {}
    for ref in refs:
        counts[ref] = counts.get(ref, 0) + 1
    return {
        "lost_orders": len(missing),
        "duplicate_odoo_orders": sum(n - 1 for ref, n in counts.items() if ref in expected and n > 1),
    }


def drift_after(target: FlashSaleTarget, truth: Mapping[str, int]) -> dict[str, Any]:
    """SKUs where some channel shows another value than the true available-to-sell (under the
    low-stock fence: where the channels' values do not add up to it)."""
    skus = sorted(truth)
    drifted: set[str] = set()
    per_channel: dict[str, int] = {}
    shown_by = {channel.name: target.channel_quantities(channel.name, skus) for channel in target.channels}
    for sku in skus:
        pooled = target.pooled(truth[sku])
        if not channels_show(truth[sku], [shown.get(sku, 0) for shown in shown_by.values()], pooled=pooled):
            drifted.add(sku)
    for name, shown in shown_by.items():  # per channel: the unfenced SKUs it shows wrong
        per_channel[name] = sum(
            1 for sku in drifted if not target.pooled(truth[sku]) and max(0, shown.get(sku, 0)) != truth[sku]
        )
    return {
        "drift_skus": len(drifted),
        "drift_by_channel": per_channel,
        "drift_examples": sorted(drifted)[:10],
    }
