"""The benchmark's view of /metrics: counts, means and bucket-estimated percentiles."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channelhub.metrics import LATENCY_BUCKETS, ChannelhubMetrics, bucket_quantile


def test_latency_summary_has_percentiles_per_label() -> None:
    metrics = ChannelhubMetrics()
    for seconds in [0.2] * 90 + [20.0] * 10:
        metrics.observe_propagation("shop", seconds, "at_risk")
    metrics.observe_ingress("shop", "inbox", 0.04)
    summary = metrics.latency_summary()
    shop = summary["propagation"]["shop/at_risk"]
    assert shop["count"] == 100
    assert shop["mean_s"] == pytest.approx(2.18)
    assert 0.1 < shop["p50_s"] <= 0.25  # inside the (0.1, 0.25] bucket
    assert 10.0 < shop["p99_s"] <= 30.0
    assert summary["ingress"]["shop/inbox"]["count"] == 1
    assert summary["handling"] == {}


def test_bucket_quantile_edges() -> None:
    assert bucket_quantile([], 0.5) is None
    assert bucket_quantile([(1.0, 0.0), (math.inf, 0.0)], 0.5) is None
    # Everything above the largest finite bound: that bound is the best estimate.
    assert bucket_quantile([(1.0, 0.0), (math.inf, 4.0)], 0.99) == 1.0
    # Linear inside the bucket, from its lower bound.
    assert bucket_quantile([(1.0, 0.0), (3.0, 10.0), (math.inf, 10.0)], 0.5) == pytest.approx(2.0)


@given(st.lists(st.floats(min_value=0.0, max_value=200.0), min_size=1, max_size=200), st.floats(0.01, 1.0))
def test_bucket_quantile_lies_in_the_bucket_of_the_true_quantile(values: list[float], q: float) -> None:
    bounds = [*LATENCY_BUCKETS, math.inf]
    cumulative = [(b, float(sum(1 for v in values if v <= b))) for b in bounds]
    estimate = bucket_quantile(cumulative, q)
    assert estimate is not None
    ordered = sorted(values)
    true = ordered[max(0, math.ceil(q * len(ordered)) - 1)]
    upper = next(b for b in bounds if true <= b)
    lower = max([0.0, *(b for b in bounds if b < upper)])
    assert lower <= estimate <= (upper if upper != math.inf else LATENCY_BUCKETS[-1])
