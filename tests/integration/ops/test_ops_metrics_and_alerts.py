"""`/metrics` in the Prometheus text format, fed by the worker hook and read from the store; alerts
delivered to a real webhook receiver on loopback."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from channelhub.alerts import AlertDispatcher, AlertRules, http_sender, observe
from channelhub.engine.events import NewEvent
from channelhub.engine.outbox import append
from channelhub.sandbox.server import serve_in_thread
from tests.integration.ops.ops_world import FLAKY_TOPIC, OpsWorld


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_count_handled_events_and_read_the_store(world: OpsWorld, client: TestClient) -> None:
    metrics = world.ctx.metrics
    assert metrics is not None
    metrics.events_in("orders/create", "shop")
    world.partner_fixed["fixed"] = True
    client.post("/api/v1/dead-letters/replay", json={"all": True}, headers=world.bearer("operator"))
    assert world.run_worker(on_committed=metrics.worker_committed) == 3
    metrics.observe_propagation("shop", 0.8)
    metrics.rate_limit_waited("shop:graphql", 0.25)
    response = client.get("/metrics", headers=world.bearer("viewer"))
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    assert found[("channelhub_events_in_total", (("channel", "shop"), ("topic", "orders/create")))] == 1
    assert found[("channelhub_events_out_total", (("tier", "1"), ("topic", FLAKY_TOPIC)))] == 3
    assert found[("channelhub_handling_seconds_count", (("topic", FLAKY_TOPIC),))] == 3
    assert found[("channelhub_propagation_seconds_count", (("channel", "shop"), ("risk", "routine")))] == 1
    assert found[("channelhub_rate_limit_wait_seconds_total", (("endpoint", "shop:graphql"),))] == 0.25
    assert found[("channelhub_dead_letters", (("tier", "1"),))] == 0
    assert found[("channelhub_queue_depth", (("tier", "1"),))] == 0
    assert found[("channelhub_oversell_risk_skus", (("channel", "shop"),))] == 1
    assert found[("channelhub_circuit_state", (("endpoint", "shop:graphql"), ("state", "open")))] == 1
    assert metrics.throughput.per_second() > 0
    assert client.get("/metrics").status_code == 401


def test_alerts_reach_a_webhook_once(world: OpsWorld) -> None:
    received: list[dict[str, Any]] = []
    receiver = FastAPI()

    @receiver.post("/hook")
    async def hook(request: Request) -> dict[str, str]:
        received.append(await request.json())
        return {"ok": "yes"}

    with serve_in_thread(receiver) as server:
        rules = AlertRules(webhook_url=f"{server.url}/hook", circuit_open_longer_than_s=None)
        dispatcher = AlertDispatcher(rules, world.ctx.clock, http_sender(timeout_s=5))
        dispatcher.process(observe(world.ctx))  # 3 dead letters: the baseline
        with world.engine.begin() as connection:
            append(connection, [NewEvent("fresh-failure", FLAKY_TOPIC, "shipment:9", {"shipment": 9})])
        world.run_worker()  # the partner still refuses: one more dead letter
        dispatcher.process(observe(world.ctx))
        dispatcher.process(observe(world.ctx))
    assert [(body["rule"], body["status"]) for body in received] == [("dead_letters_growing", "firing")]
    assert received[0]["details"] == {"from": 3, "to": 4}


async def test_the_alert_loop_evaluates_until_stopped(world: OpsWorld) -> None:
    import asyncio

    from channelhub.alerts import run_alerts
    from channelhub.engine.reconcile import ChannelReconciliation, QuantityDiff, ReconciliationReport

    result = ChannelReconciliation("shop", checked=1)
    result.diffs.append(QuantityDiff("shop", "TEE-M", 14, 20, 17))
    now = world.ctx.clock.now()
    world.ctx.reconciliations.record(ReconciliationReport(True, now, now, (result,)), trigger="schedule")
    dispatcher = AlertDispatcher(AlertRules(webhook_url=None, evaluate_every_s=0.05), world.ctx.clock)
    stop = asyncio.Event()
    task = asyncio.create_task(run_alerts(world.ctx, dispatcher, stop))
    for _ in range(200):
        if dispatcher.sent:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert [body["rule"] for body in dispatcher.sent] == ["drift_found"]
