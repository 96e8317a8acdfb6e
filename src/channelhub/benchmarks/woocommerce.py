"""`channelhub bench woocommerce`: SKU stock updates per second through the WooCommerce connector.

What is measured, honestly:
* the emulator is served over real HTTP on loopback (uvicorn, in a thread of the same process, so it
  competes with the connector for the GIL and both share the machine's cores);
* the connector's SKU index is warmed first (one full paged read, timed separately as read-back);
* each round sets every SKU to a new quantity with `set_stock` (batch endpoints, ≤100 items per
  call, variations grouped per parent) and is timed from the first request to the last answer;
* after the last round every SKU is read back and compared; any mismatch fails the run.
Scenarios: plain loopback; a per-call latency like a real WordPress host's; and a host rate limit
the client is not told about, which it must discover from 429 + Retry-After.
"""

from __future__ import annotations

import asyncio
import platform
import random
import time
from dataclasses import asdict, dataclass
from typing import Any

from channelhub.connectors.woocommerce import WooCommerceClient, WooCommerceConnector
from channelhub.resilience import RetryPolicy
from channelhub.sandbox.server import serve_in_thread
from channelhub.sandbox.woocommerce.app import WooCommerceSettings, create_app
from channelhub.sandbox.woocommerce.chaos import Chaos


@dataclass
class ScenarioResult:
    scenario: str
    skus: int
    rounds: int
    updates: int
    seconds: float
    updates_per_s: float
    calls: int
    items_per_call: float
    throttled_429: int
    retries: int
    failed: int
    readback_seconds: float
    readback_skus_per_s: float
    readback_mismatches: int


async def _run_scenario(name: str, url: str, key: str, secret: str, rounds: int, seed: int) -> ScenarioResult:
    rng = random.Random(seed)
    retry = RetryPolicy(max_attempts=10, base_delay=0.1, max_delay=10.0, rng=random.Random(seed))
    async with WooCommerceClient(url, key, secret, retry=retry) as client:
        connector = WooCommerceConnector(client)
        started = time.perf_counter()
        listings = await connector.read_listings()
        readback_s = time.perf_counter() - started
        skus = sorted(listings)
        calls_before = client.calls
        updates = failed = 0
        wanted: dict[str, int] = {}
        started = time.perf_counter()
        for _ in range(rounds):
            wanted = {sku: rng.randint(0, 500) for sku in skus}
            result = await connector.set_stock(wanted)
            updates += len(result.applied)
            failed += len(result.failed) + len(result.unknown_skus)
        seconds = time.perf_counter() - started
        calls = client.calls - calls_before
        shown = await connector.read_listings()
        mismatches = sum(1 for sku, quantity in wanted.items() if shown[sku].quantity != quantity)
        return ScenarioResult(
            scenario=name,
            skus=len(skus),
            rounds=rounds,
            updates=updates,
            seconds=round(seconds, 3),
            updates_per_s=round(updates / seconds, 1) if seconds else 0.0,
            calls=calls,
            items_per_call=round(updates / calls, 1) if calls else 0.0,
            throttled_429=client.throttled,
            retries=client.retries,
            failed=failed,
            readback_seconds=round(readback_s, 3),
            readback_skus_per_s=round(len(skus) / readback_s, 1) if readback_s else 0.0,
            readback_mismatches=mismatches,
        )


def run_benchmark(
    skus: int, rounds: int, latency_ms: float, host_rate_limit: float, seed: int = 7
) -> dict[str, Any]:
    scenarios: list[tuple[str, dict[str, float]]] = [("loopback", {})]
    if latency_ms > 0:
        scenarios.append((f"latency_{latency_ms:g}ms", {"latency_ms": latency_ms}))
    if host_rate_limit > 0:
        scenarios.append(
            (
                f"host_limit_{host_rate_limit:g}rps",
                {"rate_limit": host_rate_limit, "rate_burst": host_rate_limit},
            )
        )
    results: list[ScenarioResult] = []
    for name, knobs in scenarios:
        chaos = Chaos()
        chaos.update(knobs)
        settings = WooCommerceSettings(seed=seed, skus=skus, chaos=chaos)
        emulator = create_app(settings)
        with serve_in_thread(emulator) as server:
            results.append(
                asyncio.run(
                    _run_scenario(
                        name, server.url, settings.consumer_key, settings.consumer_secret, rounds, seed
                    )
                )
            )
    return {
        "benchmark": "woocommerce",
        "what": "SKU stock updates/s through WooCommerceConnector.set_stock against the emulator on loopback",
        "command": f"channelhub bench woocommerce --skus {skus} --rounds {rounds} --latency-ms {latency_ms:g} "
        f"--host-rate-limit {host_rate_limit:g}",
        "results": [asdict(r) for r in results],
        "ok": all(r.failed == 0 and r.readback_mismatches == 0 for r in results),
        "environment": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": __import__("os").cpu_count(),
            "note": "emulator and connector share one process",
        },
    }
