"""Resilience primitives under a manual clock: no sleeps, exact simulated time."""

from __future__ import annotations

import asyncio
import random

import pytest

from channelhub.clock import ManualClock
from channelhub.connectors.errors import PermanentError, ThrottledError, UnavailableError
from channelhub.resilience import (
    AdaptiveConcurrencyLimiter,
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    CostBucket,
    RetryPolicy,
    TokenBucket,
)


async def test_token_bucket_spends_burst_then_waits_at_rate() -> None:
    clock = ManualClock()
    bucket = TokenBucket(rate=2.0, capacity=4.0, clock=clock)
    for _ in range(4):
        assert await bucket.acquire() == 0.0
    assert not bucket.try_acquire()
    waited = await bucket.acquire(2.0)
    assert waited == pytest.approx(1.0)
    assert clock.monotonic() == pytest.approx(1.0)


def test_token_bucket_refuses_more_than_capacity() -> None:
    bucket = TokenBucket(rate=1.0, capacity=2.0, clock=ManualClock())
    with pytest.raises(ValueError, match="capacity"):
        bucket.wait_time(3.0)


async def test_cost_bucket_adopts_server_view() -> None:
    clock = ManualClock()
    bucket = CostBucket(capacity=1000, restore_rate=50, clock=clock)
    bucket.observe(currently_available=100, maximum=2000, restore_rate=100)
    assert bucket.capacity == 2000 and bucket.rate == 100
    waited = await bucket.acquire(300)
    assert waited == pytest.approx(2.0)
    bucket.refund(50)
    assert bucket.available == pytest.approx(50)


async def test_cost_bucket_total_time_matches_theory() -> None:
    clock = ManualClock()
    bucket = CostBucket(capacity=1000, restore_rate=100, clock=clock)
    for _ in range(100):
        await bucket.acquire(100)
    # 1000 points were banked; the other 9000 restore at 100/s.
    assert clock.monotonic() == pytest.approx(90.0)


def test_full_jitter_stays_under_the_exponential_ceiling() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay=0.5, max_delay=8.0, rng=random.Random(7))
    for attempt in range(1, 10):
        ceiling = min(8.0, 0.5 * 2 ** (attempt - 1))
        assert policy.backoff_ceiling(attempt) == ceiling
        assert all(0.0 <= policy.delay(attempt) <= ceiling for _ in range(50))


def test_retry_decisions_follow_error_kind() -> None:
    policy = RetryPolicy(max_attempts=3, rng=random.Random(1))
    assert not policy.decide(1, PermanentError("bad")).retry
    assert policy.decide(1, UnavailableError("down")).retry
    assert not policy.decide(3, UnavailableError("down")).retry
    throttled = policy.decide(1, ThrottledError("slow down", retry_after=4.0))
    assert throttled.retry and throttled.delay_s >= 4.0


async def test_retry_run_succeeds_after_transient_failures() -> None:
    clock = ManualClock()
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise UnavailableError("502")
        return "ok"

    result = await RetryPolicy(max_attempts=5, rng=random.Random(3)).run(flaky, clock)
    assert result == "ok" and calls == 3


async def test_retry_run_does_not_retry_permanent_errors() -> None:
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise PermanentError("validation")

    with pytest.raises(PermanentError):
        await RetryPolicy(max_attempts=5).run(broken, ManualClock())
    assert calls == 1


async def test_circuit_opens_half_opens_and_closes() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker("odoo", failure_threshold=2, reset_timeout=10, clock=clock)
    for _ in range(2):
        with pytest.raises(UnavailableError):
            async with breaker.guard():
                raise UnavailableError("503")
    assert breaker.state is CircuitState.OPEN
    with pytest.raises(CircuitOpenError):
        async with breaker.guard():
            pass
    clock.advance(10)
    assert breaker.state is CircuitState.HALF_OPEN
    async with breaker.guard():
        pass
    assert breaker.state is CircuitState.CLOSED


async def test_half_open_failure_reopens_and_permanent_errors_do_not_trip() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=5, clock=clock)
    breaker.record_failure()
    clock.advance(5)
    assert breaker.allow()
    assert not breaker.allow()  # only one trial call in half-open
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN
    clock.advance(5)
    with pytest.raises(PermanentError):
        async with breaker.guard():
            raise PermanentError("access denied")
    assert breaker.state is CircuitState.CLOSED


async def test_adaptive_limit_shrinks_on_slowness_and_grows_back() -> None:
    clock = ManualClock()
    limiter = AdaptiveConcurrencyLimiter(
        min_limit=1, max_limit=8, initial=8, latency_target_s=1.0, clock=clock
    )
    async with limiter.slot():
        clock.advance(3.0)
    assert limiter.limit == 5
    with pytest.raises(UnavailableError):
        async with limiter.slot():
            raise UnavailableError("busy")
    assert limiter.limit == 3
    for _ in range(30):
        async with limiter.slot():
            clock.advance(0.1)
    assert limiter.limit == 8


async def test_adaptive_limit_bounds_in_flight_calls() -> None:
    limiter = AdaptiveConcurrencyLimiter(min_limit=1, max_limit=2, initial=2, clock=ManualClock())
    peak = 0

    async def call() -> None:
        nonlocal peak
        async with limiter.slot():
            peak = max(peak, limiter.in_flight)
            await asyncio.sleep(0)

    await asyncio.gather(*(call() for _ in range(10)))
    assert peak == 2


async def test_bucket_acquire_terminates_when_the_deficit_is_below_float_resolution() -> None:
    clock = ManualClock()
    clock.advance(30.05)
    bucket = CostBucket(capacity=100, restore_rate=10, clock=clock)
    bucket.observe(0.5000000000000071)
    waited = await asyncio.wait_for(bucket.acquire(40.5), timeout=2)
    assert waited == pytest.approx(4.0)
