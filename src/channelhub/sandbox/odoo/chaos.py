"""Chaos knobs: latency, HTTP and Odoo-level errors, worker saturation, serialization failures, outages.

All randomness comes from one `random.Random(seed)`, so a scenario replays identically for a seed
(given the same sequence of requests). Everything defaults to off.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from channelhub.sandbox.odoo.errors import DatabaseError, serialization_failure

HTTP_ERROR_PAGES = {
    500: "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n"
    "<p>The server encountered an internal error and was unable to complete your request. Either the server is "
    "overloaded or there is an error in the application.</p>\n",
    502: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
    503: "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
    504: "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
}


@dataclass
class ChaosSettings:
    #: added to every RPC call, in milliseconds, plus a uniform jitter in [0, jitter_ms]
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    #: share of requests answered with an HTTP error instead (status drawn from `http_error_statuses`)
    error_rate: float = 0.0
    http_error_statuses: tuple[int, ...] = (500, 502, 504)
    #: share of RPC calls failing with an Odoo-level fault (psycopg2 OperationalError, transient)
    fault_rate: float = 0.0
    #: more requests in flight than this are answered 503 (Odoo workers busy); 0 = unlimited
    max_concurrency: int = 0
    #: share of writing calls failing with "could not serialize access due to concurrent update"
    serialization_failure_rate: float = 0.0
    #: share of successful writing calls whose answer is lost after commit (HTTP 504): tests idempotency
    lost_response_rate: float = 0.0
    #: a write overlapping another in-flight write on the same records fails with a serialization failure
    concurrent_write_conflicts: bool = False
    #: webhook notifications sent a second time (Odoo never does; receivers must dedupe anyway)
    webhook_duplicate_rate: float = 0.0
    #: webhook notifications held back up to this many ms, so they can arrive out of order
    webhook_max_delay_ms: float = 0.0
    #: [start, end] seconds after the settings were applied during which every request gets 503
    outages: list[tuple[float, float]] = field(default_factory=list)
    seed: int = 0

    @classmethod
    def from_mapping(cls, values: dict[str, Any], base: ChaosSettings | None = None) -> ChaosSettings:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown chaos settings: {sorted(unknown)}; known: {sorted(known)}")
        merged = {**asdict(base or cls()), **values}
        merged["http_error_statuses"] = tuple(int(s) for s in merged["http_error_statuses"])
        merged["outages"] = [(float(a), float(b)) for a, b in merged["outages"]]
        settings = cls(**merged)
        settings.validate()
        return settings

    def validate(self) -> None:
        for name in (
            "error_rate",
            "fault_rate",
            "serialization_failure_rate",
            "lost_response_rate",
            "webhook_duplicate_rate",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if min(self.latency_ms, self.jitter_ms, self.max_concurrency, self.webhook_max_delay_ms) < 0:
            raise ValueError("latency_ms, jitter_ms and max_concurrency must not be negative")
        for status in self.http_error_statuses:
            if status not in HTTP_ERROR_PAGES:
                raise ValueError(f"http error status {status} not one of {sorted(HTTP_ERROR_PAGES)}")

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["http_error_statuses"] = list(self.http_error_statuses)
        values["outages"] = [list(window) for window in self.outages]
        return values


class Chaos:
    """The live chaos state of one emulator (settings, seeded randomness, in-flight bookkeeping)."""

    def __init__(
        self, settings: ChaosSettings | None = None, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._monotonic = monotonic
        self.in_flight = 0
        self._active_writes: list[tuple[str, frozenset[int]]] = []
        self.apply(settings or ChaosSettings())

    def apply(self, settings: ChaosSettings) -> None:
        settings.validate()
        self.settings = settings
        self.rng = random.Random(settings.seed)
        self.started_at = self._monotonic()

    def in_outage(self) -> bool:
        elapsed = self._monotonic() - self.started_at
        return any(start <= elapsed < end for start, end in self.settings.outages)

    def saturated(self) -> bool:
        limit = self.settings.max_concurrency
        return bool(limit) and self.in_flight >= limit

    def draw_http_error(self) -> int | None:
        if self.settings.error_rate and self.rng.random() < self.settings.error_rate:
            return self.rng.choice(self.settings.http_error_statuses)
        return None

    def webhook_delays(self) -> list[float]:
        """One delay (seconds) per copy of a webhook notification to send: usually one copy, no delay."""
        settings = self.settings
        copies = (
            2
            if settings.webhook_duplicate_rate and self.rng.random() < settings.webhook_duplicate_rate
            else 1
        )
        return [
            self.rng.uniform(0, settings.webhook_max_delay_ms) / 1000
            if settings.webhook_max_delay_ms
            else 0.0
            for _ in range(copies)
        ]

    def lose_response(self) -> bool:
        rate = self.settings.lost_response_rate
        return bool(rate) and self.rng.random() < rate

    async def around_call(self, model: str, ids: frozenset[int], writes: bool) -> None:
        """Before an RPC call runs: latency, injected faults, serialization conflicts."""
        settings = self.settings
        key = (model, ids)
        conflict = (
            writes
            and settings.concurrent_write_conflicts
            and any(
                other_model == model and (not other_ids or not ids or bool(other_ids & ids))
                for other_model, other_ids in self._active_writes
            )
        )
        if writes:
            self._active_writes.append(key)
        try:
            delay = settings.latency_ms + (
                self.rng.uniform(0, settings.jitter_ms) if settings.jitter_ms else 0.0
            )
            if delay > 0:
                await asyncio.sleep(delay / 1000)
            if settings.fault_rate and self.rng.random() < settings.fault_rate:
                raise DatabaseError(
                    "OperationalError",
                    "server closed the connection unexpectedly\n\tThis probably means the server terminated "
                    "abnormally\n\tbefore or while processing the request.\n",
                    wire_module="psycopg2",
                )
            if writes and (
                conflict
                or (
                    settings.serialization_failure_rate
                    and self.rng.random() < settings.serialization_failure_rate
                )
            ):
                raise serialization_failure()
        finally:
            if writes:
                self._active_writes.remove(key)
