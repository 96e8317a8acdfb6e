"""The per-shop leaky bucket behind `extensions.cost.throttleStatus`, and the plan numbers.

Restore rates are the ones shopify.dev publishes today (GraphQL Admin API rate limits: Standard
100, Advanced 200, Plus 1000 points/second). The page no longer states bucket sizes; the older
published model had a bucket of 20 seconds of restore (1,000 points at 50/s, 10,000 at 500/s on
Plus), and we keep that ratio: 2,000 / 4,000 / 20,000 points. Both numbers are overridable from
the command line because they are the part most likely to drift.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

MAX_QUERY_COST = 1000


@dataclass(frozen=True)
class PlanLimits:
    bucket_size: float
    restore_rate: float


PLAN_LIMITS: dict[str, PlanLimits] = {
    "basic": PlanLimits(bucket_size=2000, restore_rate=100),
    "advanced": PlanLimits(bucket_size=4000, restore_rate=200),
    "plus": PlanLimits(bucket_size=20000, restore_rate=1000),
}


class MonotonicClock(Protocol):
    def monotonic(self) -> float: ...


@dataclass(frozen=True)
class ThrottleStatus:
    maximum_available: float
    currently_available: float
    restore_rate: float

    def as_json(self) -> dict[str, float]:
        return {
            "maximumAvailable": float(self.maximum_available),
            "currentlyAvailable": int(self.currently_available),
            "restoreRate": float(self.restore_rate),
        }


class CostBucket:
    """Points that leak back at `restore_rate` per second up to `bucket_size`."""

    def __init__(self, limits: PlanLimits, clock: MonotonicClock) -> None:
        self.limits = limits
        self._clock = clock
        self._available = float(limits.bucket_size)
        self._updated = clock.monotonic()
        self._lock = threading.Lock()

    def _restore(self) -> None:
        now = self._clock.monotonic()
        elapsed = max(0.0, now - self._updated)
        self._available = min(self.limits.bucket_size, self._available + elapsed * self.limits.restore_rate)
        self._updated = now

    def try_take(self, points: float) -> bool:
        """Take `points` if the bucket holds them; a request that cannot pay is throttled whole."""
        with self._lock:
            self._restore()
            if points > self._available:
                return False
            self._available -= points
            return True

    def give_back(self, points: float) -> None:
        """Refund the difference between requested and actual cost."""
        with self._lock:
            self._restore()
            self._available = min(self.limits.bucket_size, self._available + max(0.0, points))

    def drain(self) -> None:
        """Empty the bucket (chaos: forced throttling)."""
        with self._lock:
            self._restore()
            self._available = 0.0

    def status(self) -> ThrottleStatus:
        with self._lock:
            self._restore()
            return ThrottleStatus(self.limits.bucket_size, self._available, self.limits.restore_rate)
