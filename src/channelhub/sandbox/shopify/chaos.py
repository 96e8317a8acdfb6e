"""Chaos knobs: how badly the emulated Shopify behaves, with seeded randomness.

API-side knobs act on every Admin GraphQL request; webhook-side knobs act on deliveries. All
rates are probabilities in [0, 1]. Outage windows are `(start, end)` seconds on the emulator's
monotonic clock, measured from the emulator's start.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class ChaosSettings:
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    error_rate: float = 0.0  # share of API requests answered with a 5xx
    throttle_rate: float = 0.0  # share of API requests answered THROTTLED regardless of the bucket
    outages: list[tuple[float, float]] = field(default_factory=list)
    webhook_duplicate_rate: float = 0.0  # a delivery is sent twice (same webhook id)
    webhook_reorder_window_s: float = 0.0  # deliveries are held this long and sent in shuffled order
    # Share of first attempts held back and sent only once the next delivery to the same endpoint
    # has been sent (a true reorder: the later event overtakes), at most one held per endpoint.
    webhook_reorder_rate: float = 0.0
    webhook_reorder_max_hold_s: float = 2.0  # a held delivery nothing overtakes goes out after this
    webhook_delay_s: float = 0.0  # every first attempt waits this long
    webhook_drop_rate: float = 0.0  # first attempt silently skipped; redelivered later as a retry
    webhook_bad_signature_rate: float = 0.0  # HMAC header corrupted on an attempt

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


_RATES = (
    "error_rate",
    "throttle_rate",
    "webhook_duplicate_rate",
    "webhook_reorder_rate",
    "webhook_drop_rate",
    "webhook_bad_signature_rate",
)


class ChaosValueError(ValueError):
    """A chaos setting that cannot be applied."""


class Chaos:
    """Current knob values plus the seeded random source every decision draws from."""

    def __init__(self, settings: ChaosSettings, seed: int) -> None:
        self.settings = settings
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def update(self, changes: dict[str, Any]) -> ChaosSettings:
        """Apply a partial update (unknown names and out-of-range values are refused whole)."""
        known = {f.name for f in fields(ChaosSettings)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ChaosValueError(f"unknown chaos setting(s): {', '.join(unknown)}")
        merged = {**self.settings.as_json(), **changes}
        try:
            outages = [(float(a), float(b)) for a, b in merged.pop("outages")]
            candidate = ChaosSettings(outages=outages, **{k: float(v) for k, v in merged.items()})
        except (TypeError, ValueError) as exc:
            raise ChaosValueError(f"invalid chaos value: {exc}") from exc
        for name in _RATES:
            value = getattr(candidate, name)
            if not 0.0 <= value <= 1.0:
                raise ChaosValueError(f"{name} must be between 0 and 1, got {value}")
        for name in (
            "latency_ms",
            "latency_jitter_ms",
            "webhook_reorder_window_s",
            "webhook_reorder_max_hold_s",
            "webhook_delay_s",
        ):
            if getattr(candidate, name) < 0:
                raise ChaosValueError(f"{name} must not be negative")
        with self._lock:
            self.settings = candidate
        return candidate

    def chance(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def latency_s(self) -> float:
        s = self.settings
        if s.latency_ms <= 0 and s.latency_jitter_ms <= 0:
            return 0.0
        with self._lock:
            jitter = self._rng.uniform(0, s.latency_jitter_ms) if s.latency_jitter_ms > 0 else 0.0
        return (s.latency_ms + jitter) / 1000.0

    def in_outage(self, elapsed_s: float) -> bool:
        return any(start <= elapsed_s < end for start, end in self.settings.outages)

    def pick_5xx(self) -> int:
        with self._lock:
            return self._rng.choice((500, 502, 503))

    def shuffle(self, items: list[Any]) -> None:
        with self._lock:
            self._rng.shuffle(items)

    def uniform(self, upper: float) -> float:
        with self._lock:
            return self._rng.uniform(0.0, upper)
