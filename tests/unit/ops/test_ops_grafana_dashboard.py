"""docs/grafana-dashboard.json only charts metrics that channelhub exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from channelhub.metrics import ChannelhubMetrics

DASHBOARD = Path(__file__).resolve().parents[3] / "docs" / "grafana-dashboard.json"


def exported_names() -> set[str]:
    metrics = ChannelhubMetrics()  # no store: only the counters and histograms
    names = set()
    for family in metrics.registry.collect():
        names.update(sample.name for sample in family.samples)
        names.add(family.name)
    # Gauges read from the store and the runtime at scrape time (see metrics._StateCollector).
    names |= {
        "channelhub_queue_depth",
        "channelhub_queue_oldest_age_seconds",
        "channelhub_queue_retrying",
        "channelhub_dead_letters",
        "channelhub_oversell_risk_skus",
        "channelhub_circuit_state",
        "channelhub_propagation_p99_seconds",
    }
    return names


def test_every_panel_queries_an_exported_metric() -> None:
    metrics = ChannelhubMetrics()
    metrics.events_in("t", "c")
    metrics.events_out_total.labels(topic="t", tier="1").inc()
    metrics.observe_propagation("c", 1.0)
    metrics.retried("t")
    metrics.dead_lettered("t")
    metrics.rate_limit_waited("e", 1.0)
    metrics.handling_seconds.labels(topic="t").observe(0.1)
    exported = exported_names() | {
        sample.name for family in metrics.registry.collect() for sample in family.samples
    }
    dashboard = json.loads(DASHBOARD.read_text())
    used = set()
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used.update(re.findall(r"channelhub_[a-z0-9_]+", target["expr"]))
    assert used and used <= exported, used - exported
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
