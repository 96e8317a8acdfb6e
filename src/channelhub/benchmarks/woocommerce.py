"""`channelhub bench woocommerce`: SKU stock updates per second through the WooCommerce connector.

What is measured, honestly:
* the emulator is served over real HTTP on loopback (uvicorn, in a thread of the same process, so it
  competes with the connector for the GIL and both share the machine's cores);
* the connector's SKU index is warmed first (one full paged read, timed separately as read-back);
* each round sets every SKU to a new quantity with `set_stock` (batch endpoints, ≤100 items per
  call, variations grouped per parent) and is timed from the first request to the last answer;
* after the last round every SKU is read back and compared; any mismatch fails the run.
Scenarios: plain loopback; a per-call latency like a real WordPress host's; a host rate limit the
client is not told about (it must follow 429 + Retry-After); the same limit configured in the
client's token bucket (few or no 429s). The theoretical floor of a limited run is calls / rate.
The `_variations_in_products_batch` scenarios send variations through `products/batch` with the
simple products (opt-in, see `WooCommerceConnector`) instead of one call per variable product.
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
    client_rate_limit: float | None
    in_flight: int
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


@dataclass(frozen=True)
class Scenario:
    name: str
    host_knobs: dict[str, float]
    client_rate: float | None = None
    variations_in_products_batch: bool = False


async def _run_scenario(
    scenario: Scenario, url: str, credentials: tuple[str, str], rounds: int, seed: int, in_flight: int
) -> ScenarioResult:
    name, client_rate = scenario.name, scenario.client_rate
    rng = random.Random(seed)
    retry = RetryPolicy(max_attempts=10, base_delay=0.1, max_delay=10.0, rng=random.Random(seed))
    key, secret = credentials
    async with WooCommerceClient(url, key, secret, retry=retry, requests_per_second=client_rate) as client:
        connector = WooCommerceConnector(
            client,
            max_in_flight=in_flight,
            variations_in_products_batch=scenario.variations_in_products_batch,
        )
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
            client_rate_limit=client_rate,
            in_flight=in_flight,
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
    skus: int, rounds: int, latency_ms: float, host_rate_limit: float, in_flight: int = 4, seed: int = 7
) -> dict[str, Any]:
    scenarios = [Scenario("loopback", {}), Scenario("loopback_variations_in_products_batch", {}, None, True)]
    if latency_ms > 0:
        scenarios.append(Scenario(f"latency_{latency_ms:g}ms", {"latency_ms": latency_ms}))
    if host_rate_limit > 0:
        host = {"rate_limit": host_rate_limit, "rate_burst": host_rate_limit}
        limit = f"host_limit_{host_rate_limit:g}rps"
        scenarios.append(Scenario(f"{limit}_unknown", host))
        scenarios.append(Scenario(f"{limit}_configured", host, host_rate_limit))
        scenarios.append(
            Scenario(f"{limit}_configured_variations_in_products_batch", host, host_rate_limit, True)
        )
    results: list[ScenarioResult] = []
    for scenario in scenarios:
        chaos = Chaos()
        chaos.update(scenario.host_knobs)
        settings = WooCommerceSettings(seed=seed, skus=skus, chaos=chaos)
        emulator = create_app(settings)
        with serve_in_thread(emulator) as server:
            results.append(
                asyncio.run(
                    _run_scenario(
                        scenario,
                        server.url,
                        (settings.consumer_key, settings.consumer_secret),
                        rounds,
                        seed,
                        in_flight,
                    )
                )
            )
    return {
        "benchmark": "woocommerce",
        "what": "SKU stock updates/s through WooCommerceConnector.set_stock against the emulator on loopback",
        "command": f"channelhub bench woocommerce --skus {skus} --rounds {rounds} --latency-ms {latency_ms:g} "
        f"--host-rate-limit {host_rate_limit:g} --in-flight {in_flight}",
        "results": [asdict(r) for r in results],
        "ok": all(r.failed == 0 and r.readback_mismatches == 0 for r in results),
        "environment": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": __import__("os").cpu_count(),
            "note": "emulator and connector share one process",
        },
    }
