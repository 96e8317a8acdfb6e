"""What the publisher remembers about one channel between passes (in memory only).

None of this is needed for correctness after a restart: the store's desired vs acknowledged
values are the work list. This memory only decides *when* a dirty listing is tried again:

- a transient failure of one SKU backs that SKU off (RetryPolicy delays, growing per attempt);
- a failed call (shop unreachable, throttled) backs the whole channel off;
- a permanent failure parks the SKU until its desired quantity changes or `permanent_retry_s`
  passes, so one broken listing never blocks the others and is not hammered either;
- a compare-and-set conflict that found the channel *lower* than expected (a storefront sale we
  have not ingested yet) holds back raises of that SKU above the channel's value for
  `conflict_grace_s`: the order's webhook normally lowers the desired quantity within that time,
  and raising first would put the sold unit back on sale. Lowering is always allowed.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from channelhub.engine.publish_plan import PlannedUpdate, SalesVelocity


@dataclass(slots=True)
class PublishCounters:
    """Monotonic counters of one channel (metrics-friendly: only ever grow)."""

    passes: int = 0
    calls: int = 0
    call_failures: int = 0
    updates_sent: int = 0
    applied: int = 0
    conflicts: int = 0
    transient_failures: int = 0
    permanent_failures: int = 0
    unknown_skus: int = 0
    held_back: int = 0
    last_publish_at: datetime | None = None
    last_error: str | None = None


@dataclass(slots=True)
class _Backoff:
    attempts: int
    until: float


@dataclass(slots=True)
class ChannelMemory:
    velocity: SalesVelocity
    counters: PublishCounters = field(default_factory=PublishCounters)
    sku_backoff: dict[str, _Backoff] = field(default_factory=dict)
    parked: dict[str, tuple[int, float]] = field(default_factory=dict)  # sku -> (quantity, until)
    conflict_floor: dict[str, tuple[int, float]] = field(default_factory=dict)  # sku -> (value, until)
    channel_backoff: _Backoff | None = None
    latencies_s: deque[float] = field(default_factory=lambda: deque(maxlen=4096))
    unsendable_last_pass: int = 0  # dirty rows read but not sent: the next scan reads that many more
    flying: set[str] = field(default_factory=set)  # SKUs in a call now: never sent twice at once
    # SKUs an order was just taken for (`Publisher.wake(skus=)`), oldest first: the next plan
    # reads them whatever the scan window holds and sends them first among the at-risk ones.
    selling: dict[str, None] = field(default_factory=dict)

    # -- deciding ------------------------------------------------------------------------------

    def held_until(self, update: PlannedUpdate, now: float) -> float | None:
        """When `update` may be sent, or None when it may go now."""
        backoff = self.sku_backoff.get(update.sku)
        if backoff is not None and backoff.until > now:
            return backoff.until
        parked = self.parked.get(update.sku)
        if parked is not None:
            quantity, until = parked
            if quantity == update.quantity and until > now:
                return until
            del self.parked[update.sku]
        floor = self.conflict_floor.get(update.sku)
        if floor is not None:
            value, until = floor
            if until <= now:
                del self.conflict_floor[update.sku]
            elif update.quantity > value:
                return until
        return None

    def channel_held_until(self, now: float) -> float | None:
        backoff = self.channel_backoff
        return backoff.until if backoff is not None and backoff.until > now else None

    def next_due(self, now: float) -> float | None:
        """The earliest time after `now` at which something held becomes due (None: nothing is).

        Only future times count: an expired hold whose SKU is no longer dirty (a raise held by
        `hold_raises`, a backoff or park of a SKU that settled meanwhile, a channel backoff after
        which nothing was sent) holds nothing, and reporting it as "due" would make the run loop
        wake at once, find nothing to send and go round again without ever sleeping. Expired
        parks and raise floors are dropped here; expired backoffs are kept (their attempt count
        makes the next delay grow) but not reported."""
        backoff = self.channel_held_until(now)
        if backoff is not None:
            return backoff
        for expired in [sku for sku, (_, until) in self.parked.items() if until <= now]:
            del self.parked[expired]
        for expired in [sku for sku, (_, until) in self.conflict_floor.items() if until <= now]:
            del self.conflict_floor[expired]
        dues = [b.until for b in self.sku_backoff.values() if b.until > now]
        dues.extend(until for _, until in self.parked.values())
        dues.extend(until for _, until in self.conflict_floor.values())
        return min(dues, default=None)

    # -- outcomes ------------------------------------------------------------------------------

    def applied(self, sku: str, now: float, latency_s: float | None) -> None:
        self.sku_backoff.pop(sku, None)
        self.parked.pop(sku, None)
        self.velocity.settled(sku, now)
        if latency_s is not None:
            self.latencies_s.append(max(0.0, latency_s))

    def conflicted(self, sku: str, expected: int | None, found: int, now: float, grace_s: float) -> None:
        self.sku_backoff.pop(sku, None)
        if expected is not None and found < expected and grace_s > 0:
            self.conflict_floor[sku] = (found, now + grace_s)

    def failed_transiently(self, sku: str, now: float, delay_for_attempt: Callable[[int], float]) -> None:
        previous = self.sku_backoff.get(sku)
        attempts = 1 if previous is None else previous.attempts + 1
        self.sku_backoff[sku] = _Backoff(attempts, now + delay_for_attempt(attempts))

    def failed_permanently(self, sku: str, quantity: int, now: float, retry_s: float) -> None:
        self.sku_backoff.pop(sku, None)
        self.parked[sku] = (quantity, now + retry_s)

    def call_failed(self, now: float, delay_s: float) -> None:
        attempts = 1 if self.channel_backoff is None else self.channel_backoff.attempts + 1
        self.channel_backoff = _Backoff(attempts, now + delay_s)

    def call_succeeded(self) -> None:
        self.channel_backoff = None

    def call_attempts(self) -> int:
        """Failed calls in a row, counting the one about to be recorded."""
        return 1 if self.channel_backoff is None else self.channel_backoff.attempts + 1

    # -- reporting -----------------------------------------------------------------------------

    def snapshot(self, now: float) -> dict[str, Any]:
        counters = self.counters
        samples = sorted(self.latencies_s)
        return {
            "passes": counters.passes,
            "calls": counters.calls,
            "call_failures": counters.call_failures,
            "updates_sent": counters.updates_sent,
            "applied": counters.applied,
            "conflicts": counters.conflicts,
            "transient_failures": counters.transient_failures,
            "permanent_failures": counters.permanent_failures,
            "unknown_skus": counters.unknown_skus,
            "held_back": counters.held_back,
            "last_publish_at": counters.last_publish_at.isoformat() if counters.last_publish_at else None,
            "last_error": counters.last_error,
            "backing_off_s": max(0.0, self.channel_backoff.until - now) if self.channel_backoff else 0.0,
            "skus_backing_off": len(self.sku_backoff),
            "skus_parked": len(self.parked),
            "skus_tracked_for_velocity": len(self.velocity),
            "propagation_p50_ms": _percentile_ms(samples, 0.50),
            "propagation_p99_ms": _percentile_ms(samples, 0.99),
            "propagation_max_ms": round(samples[-1] * 1000, 1) if samples else None,
        }


def _percentile_ms(sorted_samples: list[float], fraction: float) -> float | None:
    if not sorted_samples:
        return None
    if len(sorted_samples) == 1:
        return round(sorted_samples[0] * 1000, 1)
    cuts = statistics.quantiles(sorted_samples, n=100, method="inclusive")
    return round(cuts[min(98, max(0, round(fraction * 100) - 1))] * 1000, 1)
