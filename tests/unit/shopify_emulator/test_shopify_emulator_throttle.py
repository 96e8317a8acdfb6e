"""The leaky bucket behind THROTTLED, on a manual clock."""

from __future__ import annotations

import pytest

from channelhub.clock import ManualClock
from channelhub.sandbox.shopify.app import ShopifyEmulator
from channelhub.sandbox.shopify.settings import EmulatorSettings
from channelhub.sandbox.shopify.throttle import PLAN_LIMITS, CostBucket, PlanLimits

from .conftest import TOKEN, call

# Each request asks for 2 + 250 = 252 points and (12 variants in the shop) pays 2 + 12 = 14.
BIG_QUERY = "{ productVariants(first: 250) { edges { node { id } } } }"


def test_plans_use_the_published_restore_rates() -> None:
    assert {plan: limits.restore_rate for plan, limits in PLAN_LIMITS.items()} == {
        "basic": 100,
        "advanced": 200,
        "plus": 1000,
    }
    assert all(limits.bucket_size == 20 * limits.restore_rate for limits in PLAN_LIMITS.values())


def test_bucket_restores_at_the_restore_rate(clock: ManualClock) -> None:
    bucket = CostBucket(PlanLimits(bucket_size=100, restore_rate=10), clock)
    assert bucket.try_take(100)
    assert not bucket.try_take(1)
    clock.advance(2.5)
    assert bucket.status().currently_available == pytest.approx(25)
    assert not bucket.try_take(26)
    assert bucket.try_take(25)
    clock.advance(1000)
    assert bucket.status().currently_available == 100  # never above the bucket size


def test_throttled_response_has_shopify_shape(clock: ManualClock) -> None:
    emulator = ShopifyEmulator(
        EmulatorSettings(
            skus=12, access_token=TOKEN, clock=clock, deliver_webhooks=False, bucket_size=300, restore_rate=50
        )
    )
    status, first = call(emulator, BIG_QUERY)
    assert status == 200 and "errors" not in first
    assert first["extensions"]["cost"]["throttleStatus"] == {
        "maximumAvailable": 300.0,
        "currentlyAvailable": 300 - 14,
        "restoreRate": 50.0,
    }
    # A second request needs 252 up front while 286 are left: it runs. The third (272 left) too.
    call(emulator, BIG_QUERY)
    status, third = call(emulator, BIG_QUERY)
    assert "errors" not in third
    emulator.bucket.try_take(emulator.bucket.status().currently_available - 100)
    status, throttled = call(emulator, BIG_QUERY)
    assert status == 200
    assert "data" not in throttled
    assert throttled["errors"] == [
        {
            "message": "Throttled",
            "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
        }
    ]
    assert throttled["extensions"]["cost"]["requestedQueryCost"] == 252
    assert throttled["extensions"]["cost"]["actualQueryCost"] is None
    assert throttled["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 100
    assert emulator.shop.stats.throttled_requests == 1
    clock.advance((252 - 100) / 50)
    status, again = call(emulator, BIG_QUERY)
    assert "errors" not in again


def test_mutations_drain_the_bucket_by_ten(clock: ManualClock) -> None:
    emulator = ShopifyEmulator(
        EmulatorSettings(
            skus=3, access_token=TOKEN, clock=clock, deliver_webhooks=False, bucket_size=35, restore_rate=1
        )
    )
    mutation = (
        'mutation { bulkOperationCancel(id: "gid://shopify/BulkOperation/1") { userErrors { message } } }'
    )
    outcomes = [("errors" in call(emulator, mutation)[1]) for _ in range(4)]
    assert outcomes == [False, False, False, True]


def test_forced_throttling_chaos(emulator: ShopifyEmulator) -> None:
    emulator.chaos.update({"throttle_rate": 1.0})
    _, body = call(emulator, "{ shop { id } }")
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    emulator.chaos.update({"throttle_rate": 0.0})
    _, body = call(emulator, "{ shop { id } }")
    assert "errors" not in body


def test_unknown_plan_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown plan"):
        EmulatorSettings(plan="gold").plan_limits()
