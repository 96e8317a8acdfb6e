"""Chaos knobs and webhook notifications of the Odoo emulator, steered through its admin routes."""

from __future__ import annotations

import json
import threading
import time
import xmlrpc.client
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from channelhub.sandbox.server import serve_in_thread
from tests.integration.odoo_emulator.conftest import LiveOdoo, start


@pytest.fixture(scope="module")
def odoo17() -> Iterator[LiveOdoo]:
    yield from start("17.0", skus=20)


@pytest.fixture
def chaos(odoo17: LiveOdoo) -> Iterator[Any]:
    def configure(**settings: Any) -> httpx.Response:
        return httpx.put(f"{odoo17.url}/_sandbox/chaos", json=settings)

    yield configure
    assert configure().status_code == 200  # back to no chaos


def test_chaos_defaults_are_off(odoo17: LiveOdoo) -> None:
    settings = httpx.get(f"{odoo17.url}/_sandbox/chaos").json()
    assert settings["error_rate"] == 0 and settings["max_concurrency"] == 0 and settings["outages"] == []


def test_http_errors(odoo17: LiveOdoo, chaos: Any) -> None:
    assert chaos(error_rate=1.0, http_error_statuses=[502]).status_code == 200
    with pytest.raises(xmlrpc.client.ProtocolError) as caught:
        odoo17.common.version()
    assert caught.value.errcode == 502


def test_errors_are_deterministic_for_a_seed(odoo17: LiveOdoo, chaos: Any) -> None:
    def outcomes() -> list[int]:
        chaos(error_rate=0.5, seed=11)
        return [
            httpx.post(f"{odoo17.url}/web/webclient/version_info", json={"params": {}}).status_code
            for _ in range(16)
        ]

    first = outcomes()
    assert first == outcomes()
    assert 200 in first and set(first) - {200}


def test_odoo_level_fault_and_serialization_failure(odoo17: LiveOdoo, chaos: Any) -> None:
    chaos(fault_rate=1.0)
    with pytest.raises(xmlrpc.client.Fault) as caught:
        odoo17.call("res.partner", "search_count", [[]])
    assert caught.value.faultCode == 1 and "psycopg2.OperationalError" in caught.value.faultString
    chaos(serialization_failure_rate=1.0)
    assert odoo17.call("res.partner", "search_count", [[]]) > 0  # reads are not affected
    with pytest.raises(xmlrpc.client.Fault) as caught:
        odoo17.call("res.partner", "write", [[3], {"city": "Gent"}])
    assert "could not serialize access due to concurrent update" in caught.value.faultString
    assert odoo17.call("res.partner", "read", [[3], ["city"]])[0]["city"] != "Gent"


def concurrently(*calls: Any) -> list[Any]:
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            results[index] = calls[index]()
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    return results


def test_concurrent_writes_on_the_same_record_conflict(odoo17: LiveOdoo, chaos: Any) -> None:
    chaos(latency_ms=300, concurrent_write_conflicts=True)
    results = concurrently(
        lambda: odoo17.call("res.partner", "write", [[3], {"city": "A"}]),
        lambda: odoo17.call("res.partner", "write", [[3], {"city": "B"}]),
    )
    assert results[0] is True
    assert (
        isinstance(results[1], xmlrpc.client.Fault) and "could not serialize access" in results[1].faultString
    )


def test_max_concurrency_answers_503(odoo17: LiveOdoo, chaos: Any) -> None:
    chaos(latency_ms=300, max_concurrency=1)
    results = concurrently(
        lambda: odoo17.call("res.partner", "search_count", [[]]), lambda: odoo17.common.version()
    )
    assert isinstance(results[0], int)
    assert isinstance(results[1], xmlrpc.client.ProtocolError) and results[1].errcode == 503


def test_outage_window(odoo17: LiveOdoo, chaos: Any) -> None:
    chaos(outages=[[0, 60]])
    assert httpx.post(f"{odoo17.url}/jsonrpc", json={}).status_code == 503
    chaos(outages=[[60, 120]])
    assert httpx.post(f"{odoo17.url}/web/webclient/version_info", json={"params": {}}).status_code == 200


def test_bad_chaos_settings_are_refused(odoo17: LiveOdoo, chaos: Any) -> None:
    assert chaos(error_rate=2).status_code == 400
    assert chaos(nonsense=1).status_code == 400


def test_webhook_notifications_as_odoo_sends_them(odoo17: LiveOdoo) -> None:
    received: list[tuple[dict[str, str], bytes]] = []

    async def hook(request: Request) -> Response:
        received.append((dict(request.headers), await request.body()))
        return Response("ok")

    with serve_in_thread(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as receiver:
        rule = httpx.post(f"{odoo17.url}/_sandbox/webhooks", json={
            "model": "res.partner", "url": f"{receiver.url}/hook", "fields": ["name", "parent_id", "write_date"], "trigger": "on_create_or_write",
        })  # fmt: skip
        assert rule.status_code == 201
        assert (
            httpx.post(
                f"{odoo17.url}/_sandbox/webhooks", json={"model": "nope", "url": "http://x"}
            ).status_code
            == 400
        )
        partner = odoo17.call("res.partner", "create", [{"name": "Hooked", "parent_id": 1}])
        deadline = time.monotonic() + 3
        while not received and time.monotonic() < deadline:
            time.sleep(0.02)
        assert httpx.delete(f"{odoo17.url}/_sandbox/webhooks/{rule.json()['id']}").status_code == 204
    headers, body = received[0]
    assert headers["content-type"] == "application/json"
    payload = json.loads(body)
    assert list(payload) == sorted(payload)  # json.dumps(sort_keys=True)
    assert payload["_model"] == "res.partner" and payload["_id"] == partner and payload["id"] == partner
    assert payload["_action"] == f"Send Webhook Notification(#{rule.json()['id']})"
    assert payload["parent_id"] == 1  # read with load=None: bare id
    assert payload["name"] == "Hooked" and len(payload["write_date"]) == 19
    deliveries = httpx.get(f"{odoo17.url}/_sandbox/webhooks/deliveries").json()
    assert deliveries[-1]["status"] == 200


def test_lost_response_after_commit(odoo17: LiveOdoo, chaos: Any) -> None:
    chaos(lost_response_rate=1.0)
    with pytest.raises(xmlrpc.client.ProtocolError) as caught:
        odoo17.call("res.partner", "create", [{"name": "Committed but unanswered"}])
    assert caught.value.errcode == 504
    assert odoo17.call("res.partner", "search_count", [[["name", "=", "Committed but unanswered"]]]) == 1


def test_webhook_chaos_duplicates_and_delays(odoo17: LiveOdoo) -> None:
    from channelhub.sandbox.odoo import ChaosSettings, WebhookRule

    bodies: list[dict[str, Any]] = []

    async def hook(request: Request) -> Response:
        bodies.append(json.loads(await request.body()))
        return Response("ok")

    emulator = odoo17.emulator
    with serve_in_thread(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as receiver:
        rule = emulator.webhooks.add_rule(
            WebhookRule(model="sale.order", url=f"{receiver.url}/hook", fields=["state"], trigger="on_create")
        )
        emulator.chaos.apply(ChaosSettings(webhook_duplicate_rate=1.0, webhook_max_delay_ms=50, seed=4))
        try:
            order = odoo17.call("sale.order", "create", [{"partner_id": 3}])
            deadline = time.monotonic() + 3
            while len(bodies) < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            emulator.chaos.apply(ChaosSettings())
            emulator.webhooks.remove_rule(rule.id)
    assert [(b["_id"], b["state"]) for b in bodies] == [(order, "draft"), (order, "draft")]


def test_sandbox_state_counts_the_calls_per_model_and_method(odoo17: LiveOdoo) -> None:
    before = httpx.get(f"{odoo17.url}/_sandbox/state").json()["calls"]
    odoo17.call("res.partner", "search_count", [[]])
    odoo17.call("res.partner", "search_count", [[]])
    with pytest.raises(xmlrpc.client.Fault):
        odoo17.models.execute_kw(odoo17.db, 2, "wrong", "res.partner", "search_count", [[]])
    after = httpx.get(f"{odoo17.url}/_sandbox/state").json()["calls"]
    assert (
        after["res.partner.search_count"] - before.get("res.partner.search_count", 0) == 2
    )  # refused: not counted
