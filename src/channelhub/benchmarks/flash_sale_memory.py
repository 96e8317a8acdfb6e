"""`channelhub bench memory`: resident memory of the engine holding a large catalog.

A world with `skus` SKUs on two channels (Shopify and WooCommerce, see `flash_sale_world`) and the
engine in its own process (`flash_sale_engine`): start-up snapshot of every SKU from Odoo, the
Shopify catalog read, then the first publish of every listing on both channels. The engine's RSS
(`/proc/<pid>/status`) is sampled every 0.2 s from start to settle (the backlog every second);
the result holds the peak (`VmHWM`, the kernel's own high-water mark: a spike between samples
still counts), the peak reached by the end of start-up, and the RSS once settled. A run that does
not settle within `max_wait_s` says how many listings were still unpublished.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from channelhub.benchmarks.flash_sale_channelhub import EngineProcess
from channelhub.benchmarks.flash_sale_engine import memory_kb
from channelhub.benchmarks.flash_sale_world import WorldSpec, running_world

SAMPLE_EVERY_S = 0.2  # RSS: cheap (/proc), fine enough to see start-up phases
CHECK_EVERY_S = 1.0  # the backlog: a COUNT over every listing in the engine


async def _measure(skus: int, seed: int, max_wait_s: float, progress: Any) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="flash-memory-") as tmp,
        running_world(WorldSpec(skus, seed)) as world,
    ):
        progress(f"world ready with {skus} SKUs; starting the engine")
        started = time.monotonic()
        engine, ready = await EngineProcess.launch(world, Path(tmp))
        pid = int(ready["pid"])
        started_s = time.monotonic() - started
        at_ready = memory_kb(pid)
        progress(
            f"engine ready after {started_s:.1f} s, peak RSS so far {at_ready['peak_rss_kb'] / 1024:.0f} MB"
        )
        samples: list[int] = []
        settled = False
        unpublished = -1
        deadline = time.monotonic() + max_wait_s
        next_check = next_report = time.monotonic()
        try:
            while time.monotonic() < deadline:
                samples.append(memory_kb(pid)["rss_kb"])
                now = time.monotonic()
                if now >= next_check:
                    next_check = now + CHECK_EVERY_S
                    unpublished = int((await engine.ask("unpublished"))["unpublished"])
                    if unpublished == 0:
                        settled = True
                        break
                    if now >= next_report:
                        next_report = now + 30.0
                        progress(f"{now - started:.0f} s: {unpublished} listings still unpublished")
                await asyncio.sleep(SAMPLE_EVERY_S)
            final = memory_kb(pid)
        finally:
            await engine.stop()
        return {
            "benchmark": "memory",
            "skus": skus,
            "channels": 2,
            "listings": skus * 2,
            "start_seconds": round(started_s, 1),
            "settled": settled,
            "unpublished_left": max(0, unpublished),
            "settle_seconds": round(time.monotonic() - started, 1),
            "rss_mb": round(final["rss_kb"] / 1024, 1),
            "peak_rss_mb": round(final["peak_rss_kb"] / 1024, 1),
            "start_peak_rss_mb": round(at_ready["peak_rss_kb"] / 1024, 1),
            "max_sampled_rss_mb": round(max(samples, default=0) / 1024, 1),
            "target_mb": 500,
            "under_target": final["peak_rss_kb"] / 1024 < 500,
        }


def run_memory(skus: int, seed: int = 1, max_wait_s: float = 900.0, progress: Any = print) -> dict[str, Any]:
    return asyncio.run(_measure(skus, seed, max_wait_s, progress))
