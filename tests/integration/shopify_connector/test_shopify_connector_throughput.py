"""The required throttling proof: 10,000 SKU updates on the basic plan, no THROTTLED reaching the
caller, within 10 % of the cost bucket's theoretical minimum time.

Emulator and connector share one injected manual clock (the emulator's leaky bucket restores on
it; the connector's waits advance it), so simulated time is exact and the run takes seconds.
"""

from __future__ import annotations

import httpx
import pytest

from channelhub.benchmarks.shopify import ShopifyBenchSettings, build_emulator, drive
from channelhub.clock import ManualClock


@pytest.mark.parametrize("version", ["2025-10", "2026-10"])
async def test_ten_thousand_sku_updates_on_basic_plan_within_ten_percent_of_minimum(version: str) -> None:
    settings = ShopifyBenchSettings(skus=10_000, plan="basic", api_version=version)
    clock = ManualClock()
    emulator = build_emulator(settings, clock)
    shop = emulator.shop
    before = {
        v.sku: shop.level(v.inventory_item_id, shop.primary_location.id).quantity("available")
        for v in shop.variants.values()
    }

    result = await drive(
        settings, emulator, clock, "http://emulator.test", httpx.ASGITransport(app=emulator.app)
    )

    assert result["sku_updates"] == 10_000
    assert result["outcomes"] == {"applied": 10_000, "conflict": 0, "error": 0}
    assert result["throttled_errors_raised"] == 0
    assert result["emulator_throttled_requests"] == 0  # paced: the server never had to throttle
    assert result["total_points"] == result["emulator_points_spent"]
    assert result["bucket_size"] == 2000 and result["restore_rate"] == 100
    minimum = (result["total_points"] - result["bucket_size"]) / result["restore_rate"]
    assert minimum > 400  # the run is cost-bound: reading 10,000 variants costs ~50,000 points
    assert minimum <= result["seconds"] <= 1.10 * minimum
    assert result["calls_by_operation"]["set_quantities"] == 40  # 250 quantities per call
    # Every SKU now shows exactly what was published.
    after = {
        v.sku: shop.level(v.inventory_item_id, shop.primary_location.id).quantity("available")
        for v in shop.variants.values()
    }
    expected = {sku: before[sku] + 1 + n % 5 for n, sku in enumerate(sorted(before))}
    assert after == expected
