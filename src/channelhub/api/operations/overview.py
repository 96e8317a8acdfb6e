"""The one-screen summary behind the dashboard's overview and `GET /api/v1/overview`."""

from __future__ import annotations

from typing import Any

from channelhub.api.operations.context import OperationsContext
from channelhub.api.operations.queues import dead_letters_by_topic, queue_stats
from channelhub.api.operations.state_views import channel_health, open_exceptions_by_kind, orders_waiting

LAGGING_AFTER_S = 60.0
"""A channel with a change unsent for longer than this is shown as lagging."""


def _status(channel: dict[str, Any]) -> str:
    if channel["with_errors"] or channel.get("backing_off_s"):
        return "failing"
    if channel["out_of_sync"] and (channel["oldest_unsent_s"] or 0) > LAGGING_AFTER_S:
        return "lagging"
    if channel["out_of_sync"]:
        return "syncing"
    return "in_sync"


def build_overview(ctx: OperationsContext) -> dict[str, Any]:
    now = ctx.clock.now()
    with ctx.engine.connect() as connection:
        health = {row["channel"]: row for row in channel_health(connection, now)}
        queues = queue_stats(connection, now.timestamp())
        exceptions = open_exceptions_by_kind(connection)
        waiting = orders_waiting(connection)
        dead_by_topic = dead_letters_by_topic(connection)
    publisher = ctx.publisher_snapshot()
    channels = []
    for name in sorted(set(ctx.channels) | set(health)):
        row = health.get(name) or {
            "channel": name,
            "listings": 0,
            "out_of_sync": 0,
            "with_errors": 0,
            "oversell_risk": 0,
            "oldest_unsent_s": None,
        }
        published = publisher.get(name, {})
        row = {
            **row,
            "propagation_p50_ms": published.get("propagation_p50_ms"),
            "propagation_p99_ms": published.get("propagation_p99_ms"),
            "last_publish_at": published.get("last_publish_at"),
            "backing_off_s": published.get("backing_off_s", 0.0),
            "last_error": published.get("last_error"),
        }
        row["status"] = _status(row)
        channels.append(row)
    p99s = [c["propagation_p99_ms"] for c in channels if c["propagation_p99_ms"] is not None]
    endpoints = ctx.endpoints.snapshots()
    return {
        "at": now.isoformat(),
        "channels": channels,
        "propagation_p99_ms": max(p99s) if p99s else None,
        "skus_out_of_sync": sum(c["out_of_sync"] for c in channels),
        "oversell_risk": sum(c["oversell_risk"] for c in channels),
        "orders_waiting": waiting,
        "exceptions_by_reason": exceptions,
        "open_exceptions": sum(exceptions.values()),
        "dead_letters": queues.dead_letters,
        "dead_letters_by_topic": dead_by_topic,
        "queues": [tier.to_dict(now.timestamp()) for tier in queues.tiers.values()],
        "open_circuits": [e["endpoint"] for e in endpoints if e["circuit_state"] == "open"],
        "alerts": [
            {"key": alert.key, "rule": alert.rule, "summary": alert.summary}
            for alert in (ctx.alerts.active if ctx.alerts is not None else [])
        ],
    }
