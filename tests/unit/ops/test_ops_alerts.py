from __future__ import annotations

from typing import Any

import pytest

from channelhub.alerts import AlertDispatcher, AlertRules, Observation
from channelhub.clock import ManualClock


def dispatcher(**rules: Any) -> tuple[AlertDispatcher, list[dict[str, Any]], ManualClock]:
    clock = ManualClock()
    sent: list[dict[str, Any]] = []

    def send(url: str, body: dict[str, Any]) -> bool:
        assert url == "http://alerts.test/hook"
        sent.append(body)
        return True

    chosen = AlertRules(webhook_url="http://alerts.test/hook", **rules)
    return AlertDispatcher(chosen, clock, send), sent, clock


def test_an_alert_fires_once_repeats_late_and_resolves_once() -> None:
    alerts, sent, clock = dispatcher(propagation_p99_above_s=5.0, repeat_after_s=600)
    slow = Observation(propagation_p99_s={"shop": 9.0, "web": 1.0})
    alerts.process(slow)
    alerts.process(slow)
    clock.advance(300)
    alerts.process(slow)
    assert [(b["status"], b["key"]) for b in sent] == [("firing", "propagation_p99:shop")]
    clock.advance(301)
    alerts.process(slow)
    assert len(sent) == 2  # still firing after repeat_after_s: reminded once
    alerts.process(Observation(propagation_p99_s={"shop": 1.0}))
    alerts.process(Observation(propagation_p99_s={"shop": 1.0}))
    assert [b["status"] for b in sent] == ["firing", "firing", "resolved"]


def test_dead_letters_growing_within_the_window() -> None:
    alerts, sent, clock = dispatcher(dead_letter_window_s=60)
    alerts.process(Observation(dead_letters=2))
    assert sent == []
    clock.advance(10)
    alerts.process(Observation(dead_letters=5))
    assert sent[-1]["rule"] == "dead_letters_growing" and sent[-1]["details"] == {"from": 2, "to": 5}
    clock.advance(120)
    alerts.process(Observation(dead_letters=5))  # stable for longer than the window: resolved
    assert sent[-1]["status"] == "resolved"


def test_circuit_open_longer_than_the_limit() -> None:
    alerts, sent, clock = dispatcher(circuit_open_longer_than_s=60)
    alerts.process(Observation(circuit_states={"odoo": "open"}))
    clock.advance(30)
    alerts.process(Observation(circuit_states={"odoo": "half_open"}))  # still not closed
    assert sent == []
    clock.advance(31)
    alerts.process(Observation(circuit_states={"odoo": "open"}))
    assert sent[-1]["key"] == "circuit_open:odoo"
    alerts.process(Observation(circuit_states={"odoo": "closed"}))
    assert sent[-1]["status"] == "resolved"


def test_drift_found_by_reconciliation() -> None:
    alerts, sent, _ = dispatcher()
    alerts.process(Observation(last_drift={"run_id": 3, "drift": 0}))
    assert sent == []
    alerts.process(Observation(last_drift={"run_id": 4, "drift": 2}))
    assert sent[-1]["rule"] == "drift_found" and "run 4" in sent[-1]["summary"]


def test_a_failed_delivery_is_retried_and_never_resolved_unsent() -> None:
    clock = ManualClock()
    outcomes = [False, True]
    sent: list[dict[str, Any]] = []

    def flaky(url: str, body: dict[str, Any]) -> bool:
        if outcomes.pop(0) if outcomes else True:
            sent.append(body)
            return True
        return False

    alerts = AlertDispatcher(AlertRules(webhook_url="http://x/", propagation_p99_above_s=1), clock, flaky)
    alerts.process(Observation(propagation_p99_s={"shop": 2.0}))
    assert sent == []
    alerts.process(Observation(propagation_p99_s={"shop": 2.0}))
    assert [b["status"] for b in sent] == ["firing"]


def test_rules_from_config_are_checked() -> None:
    rules = AlertRules.from_mapping({"webhook_url": "https://hooks.example/x", "propagation_p99_above_s": 10})
    assert rules.propagation_p99_above_s == 10
    with pytest.raises(ValueError, match="unknown alert settings: p99"):
        AlertRules.from_mapping({"p99": 1})
    with pytest.raises(ValueError, match="must be positive"):
        AlertRules.from_mapping({"circuit_open_longer_than_s": 0})
