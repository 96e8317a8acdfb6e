"""Failure knobs: latency, server errors, throttling, outages, and webhook misbehaviour.

Real WooCommerce core has no REST rate limit; hosts and WAFs in front of it do, answering 429 with
`Retry-After`. `rate_limit` models that host limit (a token bucket per site); `throttle_rate`
forces 429s at random on top of it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from channelhub.sandbox.woocommerce.errors import WPError


@dataclass
class Chaos:
    latency_ms: float = 0.0
    error_rate: float = 0.0  # share of REST calls answered 500
    throttle_rate: float = 0.0  # share of REST calls answered 429 regardless of the rate limit
    rate_limit: float = 0.0  # requests per second the host allows (0: unlimited)
    rate_burst: float = 0.0  # bucket size (0: same as rate_limit, at least 1)
    outage_seconds: float = 0.0  # length of an outage (starts when set, or `outage_after_s` later)
    outage_after_s: float = 0.0
    webhook_duplicate_rate: float = 0.0
    webhook_reorder_rate: float = 0.0
    webhook_delay_s: float = 0.0
    webhook_drop_rate: float = 0.0
    webhook_redeliver_after_s: float = 0.0  # dropped deliveries arrive this much later (0: never)
    webhook_bad_signature_rate: float = 0.0

    def update(self, changes: Mapping[str, Any]) -> None:
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise WPError(
                "sandbox_invalid_chaos",
                f"Unknown chaos knob(s): {', '.join(unknown)}",
                400,
                known=sorted(known),
            )
        for name, value in changes.items():
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or value < 0
                or math.isnan(value)
            ):
                raise WPError("sandbox_invalid_chaos", f"{name} must be a non-negative number", 400)
            if name.endswith("_rate") and name != "rate_limit" and value > 1:
                raise WPError("sandbox_invalid_chaos", f"{name} is a share between 0 and 1", 400)
        for name, value in changes.items():
            setattr(self, name, float(value))

    def snapshot(self) -> dict[str, float]:
        return asdict(self)


class HostLimiter:
    """The host's request limit and outage window, on an injected monotonic clock."""

    def __init__(self, chaos: Chaos, monotonic: Callable[[], float], rng: random.Random) -> None:
        self._chaos = chaos
        self._monotonic = monotonic
        self._rng = rng
        self._tokens = 0.0
        self._updated = monotonic()
        self._configured: tuple[float, float] = (0.0, 0.0)
        self.outage_from = 0.0
        self.outage_until = 0.0
        self.throttled = 0
        self.server_errors = 0

    def start_outage(self, seconds: float, after_s: float = 0.0) -> None:
        self.outage_from = self._monotonic() + after_s
        self.outage_until = self.outage_from + seconds

    def outage_left(self) -> float:
        now = self._monotonic()
        return max(0.0, self.outage_until - now) if now >= self.outage_from else 0.0

    def retry_after_if_throttled(self) -> int | None:
        """Seconds the client must wait, or None when the call may proceed."""
        chaos = self._chaos
        if chaos.throttle_rate and self._rng.random() < chaos.throttle_rate:
            self.throttled += 1
            return 1
        if chaos.rate_limit <= 0:
            return None
        capacity = max(1.0, chaos.rate_burst or chaos.rate_limit)
        now = self._monotonic()
        if self._configured != (chaos.rate_limit, capacity):
            self._configured = (chaos.rate_limit, capacity)
            self._tokens = capacity
            self._updated = now
        self._tokens = min(capacity, self._tokens + (now - self._updated) * chaos.rate_limit)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return None
        self.throttled += 1
        return max(1, math.ceil((1 - self._tokens) / chaos.rate_limit))

    def server_error(self) -> bool:
        if self._chaos.error_rate and self._rng.random() < self._chaos.error_rate:
            self.server_errors += 1
            return True
        return False
