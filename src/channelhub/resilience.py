"""Protection for every outbound endpoint (DESIGN principle 7).

- `TokenBucket`: requests per second with a burst (REST-style limits, WooCommerce, Amazon usage plans).
- `CostBucket`: a client-side model of a cost-based leaky bucket (Shopify GraphQL), resynchronised
  from the server's own `throttleStatus` after every response.
- `RetryPolicy`: exponential backoff with full jitter; transient vs permanent errors; honours a
  server's `retry_after`.
- `CircuitBreaker`: closed → open after consecutive failures → half-open trial → closed.
- `AdaptiveConcurrencyLimiter`: AIMD on latency and errors, so a slow ERP is not flooded.

Why not tenacity/aiolimiter/pybreaker: each reads the real clock (or sleeps for real), which makes
behaviour under time untestable without sleeps. Every primitive here takes an injected `Clock`, and
with `ManualClock` a test can drive hours of backoff or throttling in microseconds.
All primitives are for use inside one asyncio event loop.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from channelhub.clock import SYSTEM_CLOCK, Clock
from channelhub.connectors.errors import ThrottledError, UnavailableError

T = TypeVar("T")

_EPSILON = 1e-9


class TokenBucket:
    """`rate` tokens per second, at most `capacity` banked; starts full."""

    def __init__(self, rate: float, capacity: float, clock: Clock = SYSTEM_CLOCK) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError("rate and capacity must be positive")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._tokens = capacity
        self._updated = clock.monotonic()
        self._lock = asyncio.Lock()
        self.total_wait_s = 0.0

    def _refill(self) -> None:
        now = self._clock.monotonic()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
        self._updated = now

    @property
    def available(self) -> float:
        self._refill()
        return self._tokens

    def wait_time(self, amount: float = 1.0) -> float:
        """Seconds until `amount` tokens are available (0 when they are now)."""
        if amount > self.capacity:
            raise ValueError(f"cannot acquire {amount} from a bucket of capacity {self.capacity}")
        self._refill()
        missing = amount - self._tokens
        # A deficit below float resolution would ask for a sleep too small to move the clock
        # (an endless loop on a manual clock far from zero): treat it as paid.
        return 0.0 if missing <= _EPSILON * max(1.0, amount) else missing / self.rate

    def try_acquire(self, amount: float = 1.0) -> bool:
        if self.wait_time(amount) > 0:
            return False
        self._tokens = max(0.0, self._tokens - amount)
        return True

    async def acquire(self, amount: float = 1.0) -> float:
        """Wait until `amount` tokens are available, take them; returns the seconds waited."""
        waited = 0.0
        async with self._lock:  # FIFO: one waiter at a time keeps large requests from starving
            while True:
                delay = self.wait_time(amount)
                if delay <= 0:
                    self._tokens = max(0.0, self._tokens - amount)
                    self.total_wait_s += waited
                    return waited
                await self._clock.sleep(delay)
                waited += delay

    def snapshot(self) -> dict[str, float]:
        return {
            "rate": self.rate,
            "capacity": self.capacity,
            "available": round(self.available, 3),
            "total_wait_s": round(self.total_wait_s, 3),
        }


class CostBucket(TokenBucket):
    """A cost-based leaky bucket as the client sees it (e.g. Shopify's `throttleStatus`).

    The server is the authority: after each response `observe()` adopts its view of the bucket, so
    drift between the model and the server (other clients of the same shop, clock skew) heals.
    """

    def __init__(self, capacity: float, restore_rate: float, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(rate=restore_rate, capacity=capacity, clock=clock)

    def observe(
        self, currently_available: float, maximum: float | None = None, restore_rate: float | None = None
    ) -> None:
        if maximum is not None and maximum > 0:
            self.capacity = maximum
        if restore_rate is not None and restore_rate > 0:
            self.rate = restore_rate
        self._tokens = max(0.0, min(self.capacity, currently_available))
        self._updated = self._clock.monotonic()

    def refund(self, amount: float) -> None:
        """Give back the difference between a requested and an actual cost."""
        self._refill()
        self._tokens = min(self.capacity, self._tokens + max(0.0, amount))


@dataclass(frozen=True)
class RetryDecision:
    """What to do after a failed attempt."""

    retry: bool
    delay_s: float
    reason: str


def is_transient(error: BaseException) -> bool:
    """The default classification: connector errors say so themselves; timeouts are transient."""
    if isinstance(error, asyncio.TimeoutError | TimeoutError | ConnectionError):
        return True
    return bool(getattr(error, "transient", False))


class RetryPolicy:
    """Exponential backoff with full jitter: delay ~ U(0, min(max_delay, base·2^(attempt−1)))."""

    def __init__(
        self,
        max_attempts: int = 5,
        base_delay: float = 0.2,
        max_delay: float = 30.0,
        rng: random.Random | None = None,
        is_retryable: Callable[[BaseException], bool] = is_transient,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.rng = rng or random.Random()
        self.is_retryable = is_retryable

    def backoff_ceiling(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * math.pow(2, max(0, attempt - 1)))

    def delay(self, attempt: int) -> float:
        return self.rng.uniform(0.0, self.backoff_ceiling(attempt))

    def decide(self, attempt: int, error: BaseException) -> RetryDecision:
        """`attempt` is the number of the attempt that just failed (1-based)."""
        if not self.is_retryable(error):
            return RetryDecision(False, 0.0, f"permanent: {type(error).__name__}")
        if attempt >= self.max_attempts:
            return RetryDecision(False, 0.0, f"gave up after {attempt} attempts")
        delay = self.delay(attempt)
        retry_after = getattr(error, "retry_after", None)
        if isinstance(error, ThrottledError) and retry_after:
            delay = max(delay, float(retry_after))
        return RetryDecision(True, delay, f"transient: {type(error).__name__}")

    async def run(
        self,
        operation: Callable[[], Awaitable[T]],
        clock: Clock = SYSTEM_CLOCK,
        on_retry: Callable[[int, BaseException, float], None] | None = None,
    ) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                return await operation()
            except Exception as error:
                decision = self.decide(attempt, error)
                if not decision.retry:
                    raise
                if on_retry is not None:
                    on_retry(attempt, error, decision.delay_s)
                await clock.sleep(decision.delay_s)


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpenError(UnavailableError):
    """The circuit breaker is open: the endpoint is failing and calls are not being sent."""


class CircuitBreaker:
    """Stops calling an endpoint after `failure_threshold` consecutive failures.

    After `reset_timeout` seconds it lets `half_open_max_calls` trial calls through; a success
    closes it, a failure opens it again.
    """

    def __init__(
        self,
        name: str = "",
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        half_open_max_calls: int = 1,
        clock: Clock = SYSTEM_CLOCK,
        counts_as_failure: Callable[[BaseException], bool] = is_transient,
    ) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.half_open_max_calls = half_open_max_calls
        self.counts_as_failure = counts_as_failure
        self._clock = clock
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trials = 0
        self.opened_count = 0

    @property
    def state(self) -> CircuitState:
        if (
            self._state is CircuitState.OPEN
            and self._clock.monotonic() - self._opened_at >= self.reset_timeout
        ):
            self._state = CircuitState.HALF_OPEN
            self._trials = 0
        return self._state

    def allow(self) -> bool:
        state = self.state
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.HALF_OPEN and self._trials < self.half_open_max_calls:
            self._trials += 1
            return True
        return False

    def record_success(self) -> None:
        self._failures = 0
        self._state = CircuitState.CLOSED

    def record_failure(self) -> None:
        self._failures += 1
        if self.state is CircuitState.HALF_OPEN or self._failures >= self.failure_threshold:
            if self._state is not CircuitState.OPEN:
                self.opened_count += 1
            self._state = CircuitState.OPEN
            self._opened_at = self._clock.monotonic()

    def retry_in(self) -> float:
        if self.state is not CircuitState.OPEN:
            return 0.0
        return max(0.0, self.reset_timeout - (self._clock.monotonic() - self._opened_at))

    @asynccontextmanager
    async def guard(self) -> AsyncIterator[None]:
        if not self.allow():
            raise CircuitOpenError(
                f"circuit {self.name or 'breaker'} is open; retry in {self.retry_in():.1f}s", system=self.name
            )
        try:
            yield
        except BaseException as error:
            if isinstance(error, Exception) and self.counts_as_failure(error):
                self.record_failure()
            elif isinstance(error, Exception):
                # A permanent error proves the endpoint answers: it is not a health failure.
                self.record_success()
            raise
        else:
            self.record_success()

    def snapshot(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state.value,
            "consecutive_failures": self._failures,
            "opened_count": self.opened_count,
            "retry_in_s": round(self.retry_in(), 3),
        }


class AdaptiveConcurrencyLimiter:
    """AIMD concurrency limit: grow by one per window of good calls, shrink multiplicatively on
    slow calls (latency above target) or transient errors. Keeps a slow Odoo from being flooded."""

    def __init__(
        self,
        min_limit: int = 1,
        max_limit: int = 32,
        initial: int = 4,
        latency_target_s: float = 1.0,
        decrease_factor: float = 0.7,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if not 1 <= min_limit <= initial <= max_limit:
            raise ValueError("need 1 <= min_limit <= initial <= max_limit")
        self.min_limit = min_limit
        self.max_limit = max_limit
        self.latency_target_s = latency_target_s
        self.decrease_factor = decrease_factor
        self._clock = clock
        self._limit = float(initial)
        self._in_flight = 0
        self._condition = asyncio.Condition()
        self.decreases = 0

    @property
    def limit(self) -> int:
        return max(self.min_limit, int(self._limit))

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def record_latency(self, seconds: float) -> None:
        if seconds > self.latency_target_s:
            self._decrease()
        else:
            self._limit = min(float(self.max_limit), self._limit + 1.0 / max(1.0, self._limit))

    def record_error(self) -> None:
        self._decrease()

    def _decrease(self) -> None:
        self._limit = max(float(self.min_limit), self._limit * self.decrease_factor)
        self.decreases += 1

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._condition:
            await self._condition.wait_for(lambda: self._in_flight < self.limit)
            self._in_flight += 1
        started = self._clock.monotonic()
        try:
            yield
        except Exception as error:
            if is_transient(error):
                self.record_error()
            raise
        else:
            self.record_latency(self._clock.monotonic() - started)
        finally:
            async with self._condition:
                self._in_flight -= 1
                self._condition.notify_all()

    def snapshot(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "in_flight": self._in_flight,
            "decreases": self.decreases,
            "latency_target_s": self.latency_target_s,
        }
