"""The engine is killed (SIGKILL, mid-stream) and a new one starts on the same SQLite file: every
order placed before, during and after the outage reaches Odoo exactly once, and both channels end
up showing the true available-to-sell.

The engine runs in its own process (`channelhub.benchmarks.flash_sale_engine`) so the kill is
real: no `finally`, no flush, no graceful stop. Shopify retries the deliveries that failed while
the engine was down (its retry schedule compressed); WooCommerce does not retry, so its orders
from the outage come back through the engine's order backfill."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from channelhub.benchmarks.flash_sale_channelhub import EngineProcess, subscribe_webhooks
from channelhub.benchmarks.flash_sale_engine import API_PORT_ENV, BACKFILL_ENV
from channelhub.benchmarks.flash_sale_stream import TruthLedger
from channelhub.benchmarks.flash_sale_world import CHANNELS, WorldSpec, running_world
from channelhub.sandbox.server import free_port
from tests.e2e.conftest import eventually, place_order

pytestmark = pytest.mark.timeout(180)


async def test_killed_engine_restarted_on_the_same_store_loses_nothing(tmp_path: Path) -> None:
    spec = WorldSpec(skus=40, seed=41, hot_share=0.1, shopify_webhook_time_scale=0.002)
    with running_world(spec) as world:
        env = {API_PORT_ENV: str(free_port()), BACKFILL_ENV: "1"}
        ledger = TruthLedger.starting_from(world.plan)
        engine, ready = await EngineProcess.launch(world, tmp_path, env)
        await subscribe_webhooks(world, str(ready["url"]))
        skus = world.plan.hot + world.plan.cold[:4]
        placed: list[str] = []

        async def sell(count: int, client: httpx.AsyncClient) -> None:
            for _ in range(count):
                channel = CHANNELS[len(placed) % 2]
                sku = skus[len(placed) % len(skus)]
                if (await world.read_shown(channel, [sku]))[1][sku] < 1:
                    continue
                placed.append(await place_order(client, world.urls[channel], channel, sku))
                ledger.sell(sku, 1)

        try:
            async with httpx.AsyncClient(timeout=10) as client:
                await sell(6, client)
                await engine.kill()  # mid-stream: deliveries of these orders may be in flight
                await sell(6, client)  # while nothing listens
                engine, _ = await EngineProcess.launch(world, tmp_path, env)
                await sell(6, client)

            async def all_in_odoo() -> bool:
                return set(placed) <= set(await world.odoo_order_refs())

            await eventually(all_in_odoo, within_s=60, what="every order placed around the crash in Odoo")
            refs = await world.odoo_order_refs()
            assert {ref: refs[ref] for ref in placed} == dict.fromkeys(placed, 1)

            async def channels_true() -> bool:
                for channel in CHANNELS:
                    _, shown = await world.read_shown(channel, world.plan.on_hand)
                    if any(max(0, shown[sku]) != ledger.ats(sku) for sku in world.plan.on_hand):
                        return False
                return True

            await eventually(
                channels_true,
                within_s=30,
                what="both channels showing the true available-to-sell",
            )
        finally:
            await engine.stop()
