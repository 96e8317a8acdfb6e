"""`channelhub bench publisher`: the publisher alone, a bulk rewrite with a sale on top.

The flash-sale benchmark runs the whole landscape on two shared cores, and its runs of the same
code differ by up to 2x. This one isolates the publisher: a real store (SQLite in a temporary
directory), two in-memory channels shaped like the sandbox's (`shop`: 250 quantities per call, 2
calls in flight, compare-and-set; `web`: 100 per call, 4 in flight), and a fixed latency per call
(`latency_s` x (0.5 + quantities / (2 x per-call maximum)): a full call takes `latency_s`).

The scenario is the flash sale's hardest moment: every SKU's desired quantity drops on both
channels (a warehouse going offline, committed in 250-SKU steps with a wake-up after each, as the
runtime does), and during the rewrite a "sale" sets one SKU at a time to 0-2 units every
`sale_interval_s` (a flash-sale item selling out elsewhere: the update that prevents overselling).

Two ways of running the same `Publisher` are measured:

* `rounds`: `Publisher.run` as the runtime runs it, a loop of `publish_once` passes (scan, send
  rounds of `max_in_flight` calls; a wake-up ends the pass after its round);
* `pipeline`: `Publisher.run` with `PublisherSettings(pipeline=True)`.

Reported per mode: the time until each channel showed the whole rewrite, per-SKU propagation of
the rewrite (p50 / p99 from the commit of its step to the last channel applying it), the sale's
updates (p50 / p90 / max from the commit to every channel showing it or a newer value), calls per
channel and passes.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from channelhub.benchmarks.flash_sale_propagation import percentile
from channelhub.clock import SystemClock
from channelhub.domain import Sku
from channelhub.engine.publisher import Publisher, PublisherSettings
from channelhub.service.fakes import FakeChannelGateway
from channelhub.service.ports import PublishResult, QuantityUpdate
from channelhub.store.db import create_store_engine, upgrade_to_head
from channelhub.store.repositories import StateRepositories

MODES = ("pipeline", "rounds")
STEP = 250  # SKUs per committed step of the rewrite (the runtime's warehouse step)
BEFORE, AFTER = 10, 4  # every SKU's quantity before and after the rewrite


class TimedChannel(FakeChannelGateway):
    """An in-memory channel whose calls take a fixed time and which notes when each SKU's
    quantity was last applied."""

    def __init__(self, name: str, per_call: int, in_flight: int, latency_s: float) -> None:
        super().__init__(name, kind="bench", max_quantities_per_call=per_call, max_in_flight=in_flight)
        self.latency_s = latency_s
        self.applied_at: dict[str, float] = {}

    async def set_available(self, updates: Sequence[QuantityUpdate]) -> list[PublishResult]:
        per_call = self.limits.max_quantities_per_call
        await asyncio.sleep(self.latency_s * (0.5 + len(updates) / (2 * per_call)))
        results = await super().set_available(updates)
        now = time.monotonic()
        for update in updates:
            if self.quantities.get(update.sku) == update.quantity:
                self.applied_at[update.sku] = now
        return results


def _percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile in seconds (the flash-sale benchmark's, which works in ms)."""
    found = percentile([value * 1000.0 for value in values], pct)
    return None if found is None else round(found / 1000.0, 3)


async def run_mode(
    mode: str, skus: int, latency_s: float, sale_interval_s: float, seed: int, directory: Path
) -> dict[str, Any]:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    url = f"sqlite:///{directory / f'{mode}.db'}"
    upgrade_to_head(url)
    engine = create_store_engine(url)
    clock = SystemClock()
    channels = [TimedChannel("shop", 250, 2, latency_s), TimedChannel("web", 100, 4, latency_s)]
    names = [f"SKU-{n:06d}" for n in range(skus)]
    for channel in channels:
        for sku in names:
            channel.stock_listing(sku, BEFORE)

    writing = threading.RLock()  # a sale and a rewrite step never write the same SKU at once

    def desire(quantities: dict[str, int]) -> float:
        with writing, engine.begin() as connection:
            StateRepositories.on(connection).listings.set_desired_quantities(
                [(c.name, Sku(sku), q) for c in channels for sku, q in quantities.items()], clock.now()
            )
        return time.monotonic()

    with engine.begin() as connection:
        listings = StateRepositories.on(connection).listings
        rows = [(c.name, Sku(sku), BEFORE) for c in channels for sku in names]
        listings.set_desired_quantities(rows, clock.now())
        listings.acknowledge_quantities(rows, clock.now())

    settings = PublisherSettings(seed=seed, pipeline=mode == "pipeline")
    publisher = Publisher(engine, channels, clock=clock, settings=settings)
    stop = asyncio.Event()
    running = asyncio.ensure_future(publisher.run(stop))
    await asyncio.sleep(0.2)

    rng = random.Random(seed)
    sold: dict[str, tuple[float, int]] = {}  # sale SKU -> (committed at, quantity)
    sale_delays: list[float] = []
    committed: dict[str, float] = {}
    started = time.monotonic()

    async def sale() -> None:
        while True:
            sku = names[rng.randrange(len(names))]
            quantity = rng.randrange(3)
            with writing:
                sold[sku] = (desire({sku: quantity}), quantity)
            publisher.wake()
            await asyncio.sleep(sale_interval_s)

    selling = asyncio.ensure_future(sale()) if sale_interval_s > 0 else None

    def rewrite(step: list[str]) -> float:
        with writing:  # the SKUs sold so far keep their sale's value
            return desire({sku: AFTER for sku in step if sku not in sold})

    for start in range(0, skus, STEP):
        step = names[start : start + STEP]
        at = await asyncio.to_thread(rewrite, step)
        committed.update(dict.fromkeys(step, at))
        publisher.wake()

    def shown(sku: str, quantity: int) -> bool:
        return all(c.quantities[sku] == quantity for c in channels)

    done: dict[str, float] = {}
    watched_sales: dict[str, tuple[float, int]] = {}
    while len(done) < len(channels) or any(not shown(s, q) for s, (_, q) in sold.items()):
        now = time.monotonic()
        for sku, (at, quantity) in list(sold.items()):
            if watched_sales.get(sku) != (at, quantity) and shown(sku, quantity):
                watched_sales[sku] = (at, quantity)
                sale_delays.append(now - at)
        for channel in channels:
            if channel.name not in done and all(
                channel.quantities[sku] == AFTER for sku in names if sku not in sold
            ):
                done[channel.name] = round(now - started, 3)
        if selling is not None and len(done) == len(channels):
            selling.cancel()
            selling = None
        if now - started > 600:
            raise TimeoutError("the publisher did not finish the rewrite within 600 s")
        await asyncio.sleep(0.005)
    if selling is not None:
        selling.cancel()

    rewritten = [
        max(c.applied_at[sku] for c in channels) - committed[sku]
        for sku in names
        if sku not in sold and sku in committed
    ]
    snapshot = publisher.snapshot()
    stop.set()
    await running
    engine.dispose()
    return {
        "rewrite_done_s": done,
        "rewrite_p50_s": _percentile(rewritten, 50),
        "rewrite_p99_s": _percentile(rewritten, 99),
        "sale_updates": len(sale_delays),
        "sale_p50_s": _percentile(sale_delays, 50),
        "sale_p90_s": _percentile(sale_delays, 90),
        "sale_max_s": round(max(sale_delays), 3) if sale_delays else None,
        "calls": {name: counters["calls"] for name, counters in snapshot.items()},
        "passes": {name: counters["passes"] for name, counters in snapshot.items()},
    }


def run_publisher_bench(
    skus: int,
    latency_s: float,
    sale_interval_s: float,
    seed: int,
    modes: Sequence[str] = MODES,
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-publisher-") as tmp:
        for mode in modes:
            progress(f"[{mode}] {skus} SKUs x 2 channels, {latency_s} s per full call")
            results[mode] = asyncio.run(run_mode(mode, skus, latency_s, sale_interval_s, seed, Path(tmp)))
            progress(f"[{mode}] {results[mode]}")
    return {
        "params": {
            "skus": skus,
            "latency_s": latency_s,
            "sale_interval_s": sale_interval_s,
            "seed": seed,
        },
        "modes": results,
    }
