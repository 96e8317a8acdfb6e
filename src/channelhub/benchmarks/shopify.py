"""`channelhub bench shopify`: the Shopify connector publishing N SKU quantities against the emulator.

What is measured, honestly:
* a fresh emulated shop (`--plan` sets the cost bucket: basic = 2,000 points, 100 points/s) and a
  fresh connector that knows nothing: it finds the location, reads the whole catalog into its SKU
  index (paged `productVariants`, page size planned from the cost bucket), then publishes a new
  `available` for every SKU with `inventorySetQuantities` (compare-and-set against the value it
  read, 250 quantities per call);
* the run starts with a full bucket; its theoretical minimum time is
  `max(0, (total points charged − bucket size) / restore rate)`: no client can finish faster
  without exceeding the bucket. The ratio time / minimum says how close the pacing comes;
* every THROTTLED the server answered is counted (`throttled_responses`), and a THROTTLED error
  that reached the caller would fail the run (`throttled_errors_raised` must be 0);
* `--catalog bulk` reads the catalog with one bulk operation instead (10 points plus polls): the
  run is then no longer cost-bound, which is the point of bulk reads for large catalogs;
* `--clock manual` (default) runs emulator and connector in one process on one injected manual
  clock: time passes only while the connector waits for the bucket, so the figures are exact and
  the run takes seconds; `--clock real` serves the emulator over loopback HTTP on the real clock
  (the run then takes the minimum time for real, ~8 minutes for 10,000 SKUs on basic).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

from channelhub.clock import SYSTEM_CLOCK, Clock, ManualClock
from channelhub.connectors.shopify import (
    Outcome,
    QuantityUpdate,
    ShopifyConfig,
    ShopifyConnector,
    ShopifyThrottled,
)


@dataclass(frozen=True)
class ShopifyBenchSettings:
    skus: int = 10_000
    plan: str = "basic"
    api_version: str = "2025-10"
    seed: int = 1
    clock: str = "manual"  # "manual" or "real"
    catalog: str = "paged"  # "paged" (cost-bound reads) or "bulk" (one bulk operation)


def build_emulator(settings: ShopifyBenchSettings, clock: Any) -> Any:
    from channelhub.sandbox.shopify.app import ShopifyEmulator
    from channelhub.sandbox.shopify.settings import EmulatorSettings

    return ShopifyEmulator(
        EmulatorSettings(
            seed=settings.seed,
            skus=settings.skus,
            plan=settings.plan,
            locations=1,
            deliver_webhooks=False,
            clock=clock,
        )
    )


async def drive(
    settings: ShopifyBenchSettings, emulator: Any, clock: Clock, shop_url: str, transport: Any
) -> dict[str, Any]:
    limits = emulator.bucket.limits
    config = ShopifyConfig(
        shop_url=shop_url, access_token=emulator.settings.access_token, api_version=settings.api_version
    )
    throttled_raised = 0
    started_clock = clock.monotonic()
    started_wall = time.perf_counter()
    async with ShopifyConnector(config, clock=clock, transport=transport) as connector:
        try:
            index = await connector.load_catalog(bulk=settings.catalog == "bulk")
            catalog_done = clock.monotonic()
            catalog_points = connector.client.stats.points_actual
            updates = [
                QuantityUpdate(sku, (ref.available or 0) + 1 + n % 5)
                for n, (sku, ref) in enumerate(sorted(index.by_sku.items()))
            ]
            results = await connector.set_available(updates)
        except ShopifyThrottled:
            throttled_raised += 1
            raise
        stats = connector.client.stats
    elapsed = clock.monotonic() - started_clock
    total_points = stats.points_actual
    minimum = max(0.0, (total_points - limits.bucket_size) / limits.restore_rate)
    outcomes = {o.value: sum(1 for r in results if r.outcome is o) for o in Outcome}
    return {
        "benchmark": "shopify",
        "command": f"channelhub bench shopify --skus {settings.skus} --plan {settings.plan} "
        f"--api-version {settings.api_version} --clock {settings.clock} --catalog {settings.catalog}",
        "skus": settings.skus,
        "plan": settings.plan,
        "api_version": settings.api_version,
        "clock": settings.clock,
        "catalog_read": settings.catalog,
        "bucket_size": limits.bucket_size,
        "restore_rate": limits.restore_rate,
        "sku_updates": len(results),
        "outcomes": outcomes,
        "calls": stats.calls,
        "calls_by_operation": dict(stats.by_operation),
        "throttled_responses": stats.throttled_responses,
        "throttled_errors_raised": throttled_raised,
        "emulator_throttled_requests": emulator.shop.stats.throttled_requests,
        "total_points": round(total_points, 3),
        "emulator_points_spent": round(float(emulator.shop.stats.points_spent), 3),
        "catalog_points": round(catalog_points, 3),
        "update_points": round(total_points - catalog_points, 3),
        "seconds": round(elapsed, 3),
        "catalog_seconds": round(catalog_done - started_clock, 3),
        "update_seconds": round(elapsed - (catalog_done - started_clock), 3),
        "theoretical_minimum_seconds": round(minimum, 3),
        "ratio_to_minimum": round(elapsed / minimum, 4) if minimum > 0 else None,
        "sku_updates_per_second": round(len(results) / elapsed, 2) if elapsed > 0 else None,
        "wall_seconds": round(time.perf_counter() - started_wall, 3),
    }


async def run_async(settings: ShopifyBenchSettings) -> dict[str, Any]:
    """Run in the current event loop (manual clock only: the emulator shares the loop)."""
    if settings.clock != "manual":
        raise ValueError("run_async drives the in-process emulator; use run() for --clock real")
    clock = ManualClock()
    emulator = build_emulator(settings, clock)
    transport = httpx.ASGITransport(app=emulator.app)
    return await drive(settings, emulator, clock, "http://emulator.test", transport)


def run(settings: ShopifyBenchSettings) -> dict[str, Any]:
    if settings.clock == "manual":
        return asyncio.run(run_async(settings))
    if settings.clock != "real":
        raise ValueError(f"--clock must be manual or real, not {settings.clock!r}")
    from channelhub.sandbox.server import serve_in_thread

    emulator = build_emulator(settings, None)
    with serve_in_thread(emulator.app) as server:
        return asyncio.run(drive(settings, emulator, SYSTEM_CLOCK, server.url, None))
