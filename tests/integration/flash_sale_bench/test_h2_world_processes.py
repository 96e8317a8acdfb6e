"""The flash-sale world with each emulator in its own process, reached only over HTTP."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from channelhub.benchmarks.flash_sale import shopify_chaos
from channelhub.benchmarks.flash_sale_channelhub import subscribe_webhooks
from channelhub.benchmarks.flash_sale_world import (
    CHANNELS,
    DRIVER_HEADER,
    MAIN_WAREHOUSE,
    SECOND_WAREHOUSE,
    World,
    WorldSpec,
    running_world,
)
from channelhub.sandbox.server import RunningServer, serve_in_thread

pytestmark = pytest.mark.timeout(120)
BOTH = {MAIN_WAREHOUSE, SECOND_WAREHOUSE}


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with running_world(
        WorldSpec(skus=30, seed=3, hot_share=0.1, shopify_webhook_time_scale=0.001)
    ) as running:
        yield running


class Ingress:
    """Stands in for channelhub's webhook ingress: records the paths it was posted to."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.lock = threading.Lock()

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            await request.body()
            with self.lock:
                self.paths.append(request.url.path)
            return Response(status_code=200)

        return Starlette(routes=[Route("/webhooks/{system}", hook, methods=["POST"])])


@pytest.fixture
def ingress() -> Iterator[tuple[Ingress, RunningServer]]:
    target = Ingress()
    with serve_in_thread(target.app()) as running:
        yield target, running


def test_every_emulator_runs_in_its_own_process_and_starts_in_sync(world: World) -> None:
    pids = set(world.pids.values())
    assert len(pids) == 3 and os.getpid() not in pids

    async def check() -> None:
        for channel in CHANNELS:
            at, shown = await world.read_shown(channel, world.plan.on_hand)
            assert abs(at - time.monotonic()) < 5  # one monotonic clock for every process
            assert shown == {sku: world.plan.ats(sku, BOTH) for sku in world.plan.on_hand}
        await world.aclose()

    asyncio.run(check())
    assert world.shown(CHANNELS[0], world.plan.hot[0]) == world.plan.ats(world.plan.hot[0], BOTH)


def test_the_oracle_path_writes_channels_directly_and_calls_are_counted(world: World) -> None:
    sku = world.plan.cold[0]

    async def check() -> None:
        before = await world.api_calls()
        for channel in CHANNELS:
            await world.set_shown(channel, {sku: 3})
            assert (await world.read_shown(channel, [sku]))[1] == {sku: 3}
        async with httpx.AsyncClient(base_url=world.urls["odoo"]) as client:
            body = {
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"service": "common", "method": "version", "args": []},
            }
            await client.post("/jsonrpc", json=body)  # an arm's call: counted
            await client.post("/jsonrpc", json=body, headers={DRIVER_HEADER.decode(): "1"})  # the driver's
        after = await world.api_calls()
        assert {system: after[system] - before[system] for system in after} == {
            "odoo": 1,
            "shopify": 0,
            "woocommerce": 0,
        }
        assert isinstance(await world.odoo_order_refs(), dict)
        for channel in CHANNELS:
            await world.set_shown(channel, {sku: world.plan.ats(sku, BOTH)})
        await world.aclose()

    asyncio.run(check())


def test_subscribed_webhooks_reach_the_ingress_from_every_emulator(
    world: World, ingress: tuple[Ingress, RunningServer]
) -> None:
    target, server = ingress
    sku = world.plan.cold[1]

    async def check() -> dict[str, Any]:
        await subscribe_webhooks(world, server.url)
        async with httpx.AsyncClient() as client:
            for channel in CHANNELS:
                body: dict[str, Any] = {"line_items": [{"sku": sku, "quantity": 1}]}
                reply = await client.post(world.urls[channel] + "/_sandbox/orders", json=body)
                assert reply.status_code == 201, reply.text
        for _ in range(200):  # up to ~20 s
            arrived = {"/webhooks/shopify", "/webhooks/woocommerce"} <= set(target.paths)
            if arrived and not await world.webhooks_pending():
                break
            await asyncio.sleep(0.1)
        stats = await world.channel_stats()
        await world.aclose()
        return stats

    stats = asyncio.run(check())
    assert {"/webhooks/shopify", "/webhooks/woocommerce"} <= set(target.paths)
    assert stats["shopify"]["webhooks_pending"] == 0 and stats["woocommerce"]["webhooks_pending"] == 0
    summary = shopify_chaos(stats["shopify"])
    assert summary["deliveries"] >= 1 and {"duplicated", "reordered", "reordered_pct"} <= set(summary)


def test_the_same_seed_builds_the_same_world(world: World) -> None:
    with running_world(WorldSpec(skus=30, seed=3, hot_share=0.1)) as again:
        assert again.plan == world.plan
        assert again.shopify.location_gid == world.shopify.location_gid
        assert set(again.pids.values()).isdisjoint(world.pids.values())
