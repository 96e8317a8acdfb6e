"""Shopify emulator: a true reorder rate (a held delivery is overtaken by the next one to the same
endpoint), its counters in `/_sandbox/stats`, and the bulk quantity control routes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from channelhub.sandbox.server import RunningServer, serve_in_thread
from channelhub.sandbox.shopify.app import ShopifyEmulator
from channelhub.sandbox.shopify.chaos import ChaosSettings
from channelhub.sandbox.shopify.settings import ConfiguredWebhook, EmulatorSettings


@dataclass
class Hooks:
    arrived: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = json.loads(await request.body())
            with self.lock:
                self.arrived.append((time.monotonic(), body))
            return Response(status_code=200)

        return Starlette(routes=[Route("/hooks", hook, methods=["POST"])])

    def ids(self) -> list[int]:
        with self.lock:
            return [int(body["id"]) for _, body in self.arrived]


@pytest.fixture
def hooks() -> Iterator[tuple[Hooks, RunningServer]]:
    target = Hooks()
    with serve_in_thread(target.app()) as running:
        yield target, running


def _emulator(uri: str, **chaos: Any) -> ShopifyEmulator:
    return ShopifyEmulator(
        EmulatorSettings(
            seed=5,
            skus=10,
            webhooks=[ConfiguredWebhook("orders/create", uri)],
            webhook_time_scale=0.0001,
            chaos=ChaosSettings(**chaos),
        )
    )


def _sell(url: str, sku: str) -> int:
    reply = httpx.post(f"{url}/_sandbox/orders", json={"line_items": [{"sku": sku, "quantity": 1}]})
    assert reply.status_code == 201, reply.text
    return int(reply.json()["order"]["id"])


def test_a_held_delivery_arrives_after_the_next_one_to_the_same_endpoint(
    hooks: tuple[Hooks, RunningServer],
) -> None:
    target, server = hooks
    emulator = _emulator(f"{server.url}/hooks", webhook_reorder_rate=1.0, webhook_reorder_max_hold_s=5.0)
    with serve_in_thread(emulator.app) as shop:
        placed = [_sell(shop.url, f"SKU-0000{n}") for n in range(1, 5)]
        assert emulator.webhooks.wait_idle(5)
        stats = httpx.get(f"{shop.url}/_sandbox/stats").json()
    # Rate 1: the 1st is held until the 2nd was sent, the 3rd until the 4th.
    assert target.ids() == [placed[1], placed[0], placed[3], placed[2]]
    assert stats["webhooks_reordered"] == 2 and stats["webhooks_held_alone"] == 0
    assert stats["webhooks_pending"] == 0 and stats["webhooks_held_now"] == 0


def test_a_held_delivery_nothing_overtakes_goes_out_alone_after_the_maximum_hold(
    hooks: tuple[Hooks, RunningServer],
) -> None:
    target, server = hooks
    emulator = _emulator(f"{server.url}/hooks", webhook_reorder_rate=1.0, webhook_reorder_max_hold_s=0.3)
    with serve_in_thread(emulator.app) as shop:
        started = time.monotonic()
        order = _sell(shop.url, "SKU-00001")
        assert emulator.webhooks.pending() == 1  # held, not lost
        assert emulator.webhooks.wait_idle(5)
    assert target.ids() == [order]
    assert target.arrived[0][0] - started >= 0.25
    assert emulator.webhooks.chaos_counts()["webhooks_held_alone"] == 1
    assert emulator.webhooks.reordered == 0


def test_reorder_and_duplicate_rates_are_about_what_they_say(hooks: tuple[Hooks, RunningServer]) -> None:
    target, server = hooks
    emulator = _emulator(f"{server.url}/hooks", webhook_reorder_rate=0.2, webhook_duplicate_rate=0.1)
    with serve_in_thread(emulator.app) as shop:
        httpx.post(f"{shop.url}/_sandbox/inventory", json={"sku": "SKU-00001", "available": 1000})
        placed = [_sell(shop.url, "SKU-00001") for _ in range(150)]
        assert emulator.webhooks.wait_idle(10)
    counts = emulator.webhooks.chaos_counts()
    assert 10 <= counts["webhooks_reordered"] <= 50  # ~20 % of 150, one held at a time
    assert 4 <= counts["webhooks_duplicated"] <= 30
    ids = target.ids()
    assert sorted(set(ids)) == sorted(placed) and len(ids) == 150 + counts["webhooks_duplicated"]
    firsts = list(dict.fromkeys(ids))
    assert firsts != placed  # later orders really arrived before earlier ones


def test_chaos_update_checks_the_reorder_knobs() -> None:
    emulator = _emulator("http://127.0.0.1:9/hooks")
    assert emulator.chaos.update({"webhook_reorder_rate": 0.05}).webhook_reorder_rate == 0.05
    with pytest.raises(ValueError):
        emulator.chaos.update({"webhook_reorder_rate": 5})
    with pytest.raises(ValueError):
        emulator.chaos.update({"webhook_reorder_max_hold_s": -1})


def test_bulk_quantities_are_read_and_written_without_events(hooks: tuple[Hooks, RunningServer]) -> None:
    target, server = hooks
    emulator = _emulator(f"{server.url}/hooks")
    emulator.subscribe("inventory_levels/update", f"{server.url}/hooks")
    with serve_in_thread(emulator.app) as shop:
        before = time.monotonic()
        read = httpx.post(f"{shop.url}/_sandbox/quantities/read", json={"skus": ["SKU-00001", "NOPE"]}).json()
        assert set(read["quantities"]) == {"SKU-00001"} and read["monotonic"] >= before
        written = httpx.post(
            f"{shop.url}/_sandbox/quantities/write", json={"quantities": {"SKU-00001": 7, "SKU-00002": -1}}
        )
        assert written.json() == {"written": 2}
        again = httpx.post(f"{shop.url}/_sandbox/quantities/read", json={"skus": ["SKU-00001", "SKU-00002"]})
        assert again.json()["quantities"] == {"SKU-00001": 7, "SKU-00002": -1}
        bad = httpx.post(f"{shop.url}/_sandbox/quantities/write", json={"quantities": {"SKU-00001": "x"}})
        assert bad.status_code == 422
        assert emulator.webhooks.wait_idle(2)
    assert target.arrived == []  # a direct write fires nothing
