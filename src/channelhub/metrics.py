"""Prometheus metrics of channelhub (`GET /metrics`, text exposition format).

Two kinds:
- *counted as it happens* (counters, histograms), fed by hooks the runtime wires:
  `events_in(topic, channel)` at ingress, `Worker(on_committed=metrics.worker_committed)` for
  events handled and their handling latency, `observe_propagation(channel, s, risk)` from the
  publisher, `observe_ingress(channel, stage, s)` from the webhook door and the inbox processor,
  `retried`, `dead_lettered`, `rate_limit_waited(endpoint, s)`;
- *read at scrape time* (gauges) from the database and the runtime registries: queue depth and
  age of the oldest event per tier, dead letters, SKUs at oversell risk per channel, circuit state
  per endpoint, propagation p99 per channel from the publisher.

Each `ChannelhubMetrics` owns its own `CollectorRegistry`, so several apps (tests, the sandbox)
in one process never clash.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from channelhub.api.operations.endpoints import EndpointRegistry

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
CIRCUIT_STATES = ("closed", "half_open", "open")


class Throughput:
    """Events handled per second over the last `window_s` seconds (in this process)."""

    def __init__(self, window_s: float = 60.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, count: int) -> None:
        now = self._monotonic()
        with self._lock:
            self._samples.append((now, count))
            self._trim(now)

    def per_second(self) -> float:
        now = self._monotonic()
        with self._lock:
            self._trim(now)
            total = sum(count for _, count in self._samples)
        return round(total / self.window_s, 3)

    def _trim(self, now: float) -> None:
        while self._samples and self._samples[0][0] < now - self.window_s:
            self._samples.popleft()


class _StateCollector(Collector):
    """Gauges computed at scrape time from the database and the runtime's registries."""

    def __init__(self, metrics: ChannelhubMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[GaugeMetricFamily]:
        metrics = self._metrics
        if metrics.engine is not None:
            yield from self._from_database(metrics.engine, metrics.now())
        if metrics.endpoints is not None:
            circuit = GaugeMetricFamily(
                "channelhub_circuit_state",
                "1 for the state each endpoint's circuit breaker is in",
                labels=["endpoint", "state"],
            )
            for endpoint in metrics.endpoints.snapshots():
                for state in CIRCUIT_STATES:
                    circuit.add_metric(
                        [endpoint["endpoint"], state], 1.0 if endpoint["circuit_state"] == state else 0.0
                    )
            yield circuit
        if metrics.publisher_snapshot is not None:
            p99 = GaugeMetricFamily(
                "channelhub_propagation_p99_seconds",
                "p99 of recent change-to-acknowledgement latency",
                labels=["channel"],
            )
            for channel, snapshot in sorted(metrics.publisher_snapshot().items()):
                value = snapshot.get("propagation_p99_ms")
                if value is not None:
                    p99.add_metric([channel], float(value) / 1000.0)
            yield p99

    def _from_database(self, engine: Engine, now: float) -> Iterable[GaugeMetricFamily]:
        from channelhub.api.operations.queues import queue_stats
        from channelhub.api.operations.state_views import oversell_risk_count

        with engine.connect() as connection:
            stats = queue_stats(connection, now)
            oversell = oversell_risk_count(connection)
        depth = GaugeMetricFamily("channelhub_queue_depth", "Events pending per tier", labels=["tier"])
        age = GaugeMetricFamily(
            "channelhub_queue_oldest_age_seconds", "Age of the oldest pending event per tier", labels=["tier"]
        )
        retrying = GaugeMetricFamily(
            "channelhub_queue_retrying", "Pending events that failed before", labels=["tier"]
        )
        dead = GaugeMetricFamily("channelhub_dead_letters", "Dead letters per tier", labels=["tier"])
        for tier in stats.tiers.values():
            label = [str(tier.tier)]
            depth.add_metric(label, tier.pending)
            retrying.add_metric(label, tier.retrying)
            dead.add_metric(label, tier.dead)
            oldest = tier.oldest_pending_at
            age.add_metric(label, 0.0 if oldest is None else max(0.0, now - oldest))
        risk = GaugeMetricFamily(
            "channelhub_oversell_risk_skus",
            "SKUs a channel shows with more than can be sold",
            labels=["channel"],
        )
        for channel, count in sorted(oversell.items()):
            risk.add_metric([channel], count)
        yield from (depth, age, retrying, dead, risk)


class ChannelhubMetrics:
    def __init__(
        self,
        engine: Engine | None = None,
        endpoints: EndpointRegistry | None = None,
        publisher_snapshot: Callable[[], Mapping[str, Mapping[str, Any]]] | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.endpoints = endpoints
        self.publisher_snapshot = publisher_snapshot
        self.now = now
        self.registry = CollectorRegistry(auto_describe=False)
        self.throughput = Throughput()
        r = self.registry
        self.events_in_total = Counter(
            "channelhub_events_in", "Events received, per topic and channel", ["topic", "channel"], registry=r
        )
        self.events_out_total = Counter(
            "channelhub_events_out", "Events handled, per topic and tier", ["topic", "tier"], registry=r
        )
        self.handling_seconds = Histogram(
            "channelhub_handling_seconds",
            "From append to acknowledgement, per topic",
            ["topic"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.propagation_seconds = Histogram(
            "channelhub_propagation_seconds",
            "From a channel's desired quantity changing to its acknowledgement, per channel and the "
            "publisher's risk class (at_risk, fast, routine)",
            ["channel", "risk"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ingress_seconds = Histogram(
            "channelhub_ingress_seconds",
            "Webhook ingress per channel: stage=delivery from the state a delivery carries (its "
            "resource's updated_at) to receipt, stage=inbox from receipt to its events in the log",
            ["channel", "stage"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.retries_total = Counter(
            "channelhub_retries", "Handler attempts that will be retried", ["topic"], registry=r
        )
        self.dead_letters_total = Counter(
            "channelhub_dead_lettered", "Events dead-lettered", ["topic"], registry=r
        )
        self.rate_limit_wait_seconds = Counter(
            "channelhub_rate_limit_wait_seconds",
            "Time spent waiting for rate limiters",
            ["endpoint"],
            registry=r,
        )
        self.registry.register(_StateCollector(self))

    # -- hooks -----------------------------------------------------------------------------------

    def events_in(self, topic: str, channel: str, count: int = 1) -> None:
        self.events_in_total.labels(topic=topic, channel=channel).inc(count)

    def worker_committed(self, events: Sequence[Any], at: float) -> None:
        """`Worker(on_committed=...)`: events are `LoggedEvent`s, `at` the commit time (unix s)."""
        for event in events:
            self.events_out_total.labels(topic=event.topic, tier=str(event.tier)).inc()
            self.handling_seconds.labels(topic=event.topic).observe(max(0.0, at - event.created_at))
        self.throughput.add(len(events))

    def observe_propagation(self, channel: str, seconds: float, risk: str = "routine") -> None:
        self.propagation_seconds.labels(channel=channel, risk=risk).observe(max(0.0, seconds))

    def observe_ingress(self, channel: str, stage: str, seconds: float) -> None:
        self.ingress_seconds.labels(channel=channel, stage=stage).observe(max(0.0, seconds))

    def ingress_hook(self, stage: str) -> Callable[[str, float], None]:
        """`(channel, seconds)` observer of one ingress stage, for `InboxProcessor(on_appended=)`
        ("inbox") and `ApiContext(on_delivery_lag=)` ("delivery")."""

        def observe(channel: str, seconds: float) -> None:
            self.observe_ingress(channel, stage, seconds)

        return observe

    def retried(self, topic: str) -> None:
        self.retries_total.labels(topic=topic).inc()

    def dead_lettered(self, topic: str) -> None:
        self.dead_letters_total.labels(topic=topic).inc()

    def rate_limit_waited(self, endpoint: str, seconds: float) -> None:
        if seconds > 0:
            self.rate_limit_wait_seconds.labels(endpoint=endpoint).inc(seconds)

    # -- exposition ------------------------------------------------------------------------------

    def latency_summary(self) -> dict[str, dict[str, dict[str, float]]]:
        """Count, mean and bucket-estimated p50 / p90 / p99 seconds per label of the latency
        histograms: `handling` (append to acknowledgement, per topic), `propagation` (desired
        change to channel acknowledgement, per `channel/risk`) and `ingress` (per `channel/stage`); what a
        benchmark report keeps of /metrics."""
        found: dict[str, dict[str, dict[str, float]]] = {}
        for name, histogram in (
            ("handling", self.handling_seconds),
            ("propagation", self.propagation_seconds),
            ("ingress", self.ingress_seconds),
        ):
            per_label: dict[str, dict[str, float]] = {}
            for metric in histogram.collect():
                sums: dict[str, float] = {}
                counts: dict[str, float] = {}
                buckets: dict[str, list[tuple[float, float]]] = {}
                for sample in metric.samples:
                    labels = dict(sample.labels)
                    bound = labels.pop("le", None)
                    label = "/".join(labels.values())
                    if sample.name.endswith("_sum"):
                        sums[label] = sample.value
                    elif sample.name.endswith("_count"):
                        counts[label] = sample.value
                    elif sample.name.endswith("_bucket") and bound is not None:
                        buckets.setdefault(label, []).append((float(bound), sample.value))
                for label, count in counts.items():
                    if count:
                        summary = {"count": count, "mean_s": round(sums.get(label, 0.0) / count, 3)}
                        for quantile in (0.5, 0.9, 0.99):
                            estimate = bucket_quantile(buckets.get(label, []), quantile)
                            if estimate is not None:
                                summary[f"p{round(quantile * 100)}_s"] = round(estimate, 3)
                        per_label[label] = summary
            found[name] = per_label
        return found

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def bucket_quantile(buckets: Sequence[tuple[float, float]], quantile: float) -> float | None:
    """The `quantile` of a cumulative histogram (`(upper bound, count)` pairs, the last one
    `+Inf`), interpolated linearly inside its bucket the way PromQL's `histogram_quantile` does;
    the largest finite bound when it falls in the `+Inf` bucket; None without observations."""
    ordered = sorted(buckets)
    if not ordered or ordered[-1][1] <= 0:
        return None
    rank = quantile * ordered[-1][1]
    lower, below = 0.0, 0.0
    for bound, cumulative in ordered:
        if cumulative >= rank:
            if bound == float("inf"):
                return lower
            inside = cumulative - below
            return lower + (bound - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = bound, cumulative
    return lower


def combine_committed_hooks(
    *hooks: Callable[[Sequence[Any], float], None] | None,
) -> Callable[[Sequence[Any], float], None]:
    """One `Worker(on_committed=...)` calling several hooks (e.g. the publisher's and the metrics')."""
    chosen = [hook for hook in hooks if hook is not None]

    def committed(events: Sequence[Any], at: float) -> None:
        for hook in chosen:
            hook(events, at)

    return committed


def metrics_router(metrics: ChannelhubMetrics) -> APIRouter:
    """`GET /metrics` (role `viewer`: Prometheus sends a bearer token, `authorization` in its
    scrape config)."""
    from starlette.concurrency import run_in_threadpool

    from channelhub.api.security import Principal, Role, require_role

    router = APIRouter(tags=["metrics"])

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def scrape(_: Principal = require_role(Role.VIEWER)) -> Response:
        body = await run_in_threadpool(metrics.exposition)
        return Response(body, media_type=CONTENT_TYPE)

    return router
