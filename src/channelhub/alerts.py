"""Alerts: rules evaluated over what the operations surface observes, delivered to a webhook URL,
deduplicated.

Rules (all optional, from the landscape's `alerts:` section via `AlertRules.from_mapping`):
- `propagation_p99_above_s`: a channel's p99 change-to-acknowledgement latency is above X;
- `dead_letters_growing`: the dead-letter count grew within `dead_letter_window_s`;
- `circuit_open_longer_than_s`: an endpoint's breaker has not been closed for longer than Y;
- `drift_found`: the last reconciliation found drift (the channel showed something else).

Deduplication: an alert is identified by rule and subject (`propagation_p99:shopify`). It is
sent once when it starts firing, again only every `repeat_after_s` while it keeps firing, and once
as `resolved` when it stops. A failed delivery is retried at the next evaluation.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from channelhub.clock import SYSTEM_CLOCK, Clock
from channelhub.observability import get_logger

if TYPE_CHECKING:
    from channelhub.api.operations.context import OperationsContext

log = get_logger(__name__)


@dataclass(frozen=True)
class AlertRules:
    webhook_url: str | None = None
    propagation_p99_above_s: float | None = 30.0
    dead_letters_growing: bool = True
    dead_letter_window_s: float = 300.0
    circuit_open_longer_than_s: float | None = 120.0
    drift_found: bool = True
    repeat_after_s: float = 3600.0
    evaluate_every_s: float = 30.0

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> AlertRules:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"unknown alert settings: {', '.join(unknown)} (known: {', '.join(sorted(known))})"
            )
        rules = cls(**dict(values))
        for name in ("propagation_p99_above_s", "circuit_open_longer_than_s"):
            value = getattr(rules, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive")
        if rules.repeat_after_s <= 0 or rules.dead_letter_window_s <= 0 or rules.evaluate_every_s <= 0:
            raise ValueError("repeat_after_s, dead_letter_window_s and evaluate_every_s must be positive")
        return rules


@dataclass(frozen=True)
class Observation:
    """What the rules look at, gathered at one moment."""

    propagation_p99_s: Mapping[str, float] = field(default_factory=dict)
    dead_letters: int = 0
    circuit_states: Mapping[str, str] = field(default_factory=dict)
    last_drift: Mapping[str, Any] | None = None
    """Summary of the newest reconciliation run (with `run_id` and `drift`)."""


@dataclass(frozen=True)
class Alert:
    key: str
    rule: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


class AlertEvaluator:
    """Stateful: remembers dead-letter counts over the window and since when circuits are open."""

    def __init__(self, rules: AlertRules, clock: Clock = SYSTEM_CLOCK) -> None:
        self.rules = rules
        self.clock = clock
        self._dead_history: deque[tuple[float, int]] = deque()
        self._not_closed_since: dict[str, float] = {}

    def evaluate(self, seen: Observation) -> list[Alert]:
        now = self.clock.monotonic()
        rules = self.rules
        firing: list[Alert] = []
        if rules.propagation_p99_above_s is not None:
            for channel, p99 in sorted(seen.propagation_p99_s.items()):
                if p99 > rules.propagation_p99_above_s:
                    firing.append(
                        Alert(
                            f"propagation_p99:{channel}",
                            "propagation_p99",
                            f"{channel}: p99 propagation {p99:.1f}s is above {rules.propagation_p99_above_s:g}s",
                            {"channel": channel, "p99_s": p99},
                        )
                    )
        if rules.dead_letters_growing:
            firing.extend(self._dead_letters(now, seen.dead_letters))
        if rules.circuit_open_longer_than_s is not None:
            firing.extend(self._circuits(now, seen.circuit_states, rules.circuit_open_longer_than_s))
        drift = seen.last_drift
        if rules.drift_found and drift is not None and int(drift.get("drift") or 0) > 0:
            firing.append(
                Alert(
                    "drift_found",
                    "drift_found",
                    f"reconciliation run {drift.get('run_id')} found {drift.get('drift')} listings drifted",
                    dict(drift),
                )
            )
        return firing

    def _dead_letters(self, now: float, count: int) -> list[Alert]:
        history = self._dead_history
        history.append((now, count))
        while len(history) > 1 and history[0][0] < now - self.rules.dead_letter_window_s:
            history.popleft()
        oldest = min(value for _, value in history)
        if count > oldest:
            return [
                Alert(
                    "dead_letters_growing",
                    "dead_letters_growing",
                    f"dead letters grew from {oldest} to {count} within {self.rules.dead_letter_window_s:g}s",
                    {"from": oldest, "to": count},
                )
            ]
        return []

    def _circuits(self, now: float, states: Mapping[str, str], limit_s: float) -> list[Alert]:
        alerts = []
        for endpoint, state in sorted(states.items()):
            if state == "closed" or state == "none":
                self._not_closed_since.pop(endpoint, None)
                continue
            since = self._not_closed_since.setdefault(endpoint, now)
            if now - since > limit_s:
                alerts.append(
                    Alert(
                        f"circuit_open:{endpoint}",
                        "circuit_open",
                        f"{endpoint}: circuit not closed for {now - since:.0f}s (limit {limit_s:g}s)",
                        {"endpoint": endpoint, "state": state, "for_s": round(now - since, 1)},
                    )
                )
        return alerts


Sender = Callable[[str, dict[str, Any]], bool]
"""`send(url, body) -> delivered`."""


def http_sender(timeout_s: float = 5.0) -> Sender:
    def send(url: str, body: dict[str, Any]) -> bool:
        try:
            response = httpx.post(url, json=body, timeout=timeout_s)
        except httpx.HTTPError as error:
            log.warning("alert_delivery_failed", error=type(error).__name__)
            return False
        if response.status_code >= 300:
            log.warning("alert_delivery_refused", status=response.status_code)
            return False
        return True

    return send


class AlertDispatcher:
    """Sends what changed since the last evaluation: new alerts, repeats, resolutions."""

    def __init__(self, rules: AlertRules, clock: Clock = SYSTEM_CLOCK, send: Sender | None = None) -> None:
        self.rules = rules
        self.clock = clock
        self.evaluator = AlertEvaluator(rules, clock)
        self._send = send or http_sender()
        self._last_sent: dict[str, float] = {}
        self._active: dict[str, Alert] = {}
        self.sent: list[dict[str, Any]] = []
        """Every delivered notification (newest last), for the dashboard and tests."""

    @property
    def active(self) -> list[Alert]:
        return list(self._active.values())

    def process(self, seen: Observation) -> list[dict[str, Any]]:
        """Evaluate and deliver; returns the notifications delivered by this call."""
        now = self.clock.monotonic()
        firing = {alert.key: alert for alert in self.evaluator.evaluate(seen)}
        delivered: list[dict[str, Any]] = []
        for key, alert in firing.items():
            last = self._last_sent.get(key)
            due = last is None or now - last >= self.rules.repeat_after_s
            if due and self._deliver("firing", alert, delivered):
                self._last_sent[key] = now
        for key in list(self._active):
            if key not in firing and self._deliver("resolved", self._active[key], delivered):
                self._last_sent.pop(key, None)
                del self._active[key]
        # Only alerts that went out can be resolved later.
        self._active.update({key: alert for key, alert in firing.items() if key in self._last_sent})
        return delivered

    def _deliver(self, status: str, alert: Alert, delivered: list[dict[str, Any]]) -> bool:
        body = {
            "source": "channelhub",
            "status": status,
            "key": alert.key,
            "rule": alert.rule,
            "summary": alert.summary,
            "details": alert.details,
            "at": self.clock.now().isoformat(),
        }
        # Without a destination the alert still counts as delivered (the dashboard shows it).
        ok = True if self.rules.webhook_url is None else self._send(self.rules.webhook_url, body)
        if ok:
            delivered.append(body)
            self.sent.append(body)
            del self.sent[:-200]
        return ok


def observe(ctx: OperationsContext) -> Observation:
    """Gather an observation from the running system."""
    from channelhub.api.operations.queues import queue_stats

    with ctx.engine.connect() as connection:
        dead = queue_stats(connection, ctx.clock.now().timestamp()).dead_letters
    p99: dict[str, float] = {}
    for channel, snapshot in ctx.publisher_snapshot().items():
        if snapshot.get("propagation_p99_ms") is not None:
            p99[channel] = float(snapshot["propagation_p99_ms"]) / 1000.0
    states = {e["endpoint"]: e["circuit_state"] for e in ctx.endpoints.snapshots()}
    runs = ctx.reconciliations.runs()
    last = runs[0].summary() if runs else None
    return Observation(p99, dead, states, last)


async def run_alerts(ctx: OperationsContext, dispatcher: AlertDispatcher, stop: asyncio.Event) -> None:
    """Evaluate every `evaluate_every_s` until `stop` is set (the runtime starts this task)."""
    while not stop.is_set():
        seen = await asyncio.to_thread(observe, ctx)
        await asyncio.to_thread(dispatcher.process, seen)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=dispatcher.rules.evaluate_every_s)
