"""The `channelhub` arm: the real engine (`bootstrap.Runtime`) in its own process, wired to the
arm's emulators (see `flash_sale_engine` for why a separate process).

The emulators deliver webhooks to the engine's ingress exactly as the platforms would: Shopify
`orders/*` topics signed with the app secret (with the world's duplicate/reorder chaos),
WooCommerce `order.*` signed with the webhook secret, Odoo's "Send Webhook Notification" rule on
`stock.quant` with the shared token. Polling, backfill and the reservation hand-over run at the
runtime's own settings.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from channelhub.benchmarks.flash_sale_engine import ODOO_TOKEN_ENV
from channelhub.benchmarks.flash_sale_stream import ShopperOrder
from channelhub.benchmarks.flash_sale_world import (
    SHOPIFY,
    WEBHOOK_SECRET_ODOO,
    WOO_WEBHOOK_SECRET,
    WOOCOMMERCE,
    World,
)

SHOPIFY_TOPICS = ("orders/create", "orders/updated", "orders/paid", "orders/cancelled")
WOO_TOPICS = ("order.created", "order.updated")
WARM_UP_S = 600.0


async def subscribe_webhooks(world: World, ingress_url: str, odoo_token: str = WEBHOOK_SECRET_ODOO) -> None:
    """Point every emulator's webhooks at channelhub's ingress (what an installer does once),
    through the emulators' `/_sandbox/webhooks` control routes."""
    for topic in SHOPIFY_TOPICS:
        await world.control(SHOPIFY, "POST", "/_sandbox/webhooks",
                            {"topic": topic, "uri": f"{ingress_url}/webhooks/shopify"})  # fmt: skip
    for topic in WOO_TOPICS:
        await world.control(
            WOOCOMMERCE,
            "POST",
            "/_sandbox/webhooks",
            {
                "name": f"channelhub {topic}",
                "topic": topic,
                "delivery_url": f"{ingress_url}/webhooks/woocommerce",
                "secret": WOO_WEBHOOK_SECRET,
            },
        )
    await world.control(
        "odoo",
        "POST",
        "/_sandbox/webhooks",
        {
            "model": "stock.quant",
            "url": f"{ingress_url}/webhooks/odoo?token={odoo_token}",
            "fields": ["product_id", "location_id", "quantity", "reserved_quantity"],
        },
    )


class EngineProcess:
    """The engine child process and its line protocol."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._lock = asyncio.Lock()

    @classmethod
    async def launch(
        cls,
        world: World,
        store_dir: Path,
        extra_env: dict[str, str] | None = None,
        fence_below: int | None = None,
    ) -> tuple[EngineProcess, dict[str, Any]]:
        """Start the engine on `store_dir/channelhub.db` (reused when it exists: a restart)."""
        landscape = store_dir / "landscape.yaml"
        landscape.write_text(world.landscape_yaml(f"sqlite:///{store_dir / 'channelhub.db'}", fence_below))
        env = {**os.environ, **world.secrets(), ODOO_TOKEN_ENV: WEBHOOK_SECRET_ODOO, **(extra_env or {})}
        log = (store_dir / "engine.log").open("ab")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "channelhub.benchmarks.flash_sale_engine", str(landscape),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=log, env=env,
            limit=1 << 20,
        )  # fmt: skip
        engine = cls(process)
        ready = await asyncio.wait_for(engine._read(), WARM_UP_S)
        if not ready.get("ready"):
            raise RuntimeError(f"the engine did not start: {ready}; see {store_dir / 'engine.log'}")
        return engine, ready

    async def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError("the engine process exited")
        reply: dict[str, Any] = json.loads(line)
        return reply

    async def ask(self, op: str, **fields: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        async with self._lock:
            self.process.stdin.write((json.dumps({"op": op, **fields}) + "\n").encode())
            await self.process.stdin.drain()
            return await self._read()

    async def kill(self) -> None:
        """SIGKILL: no clean-up of any kind (what a power cut or the OOM killer does)."""
        self.process.kill()
        await self.process.wait()

    async def stop(self) -> None:
        if self.process.returncode is None:
            try:
                await asyncio.wait_for(self.ask("stop"), 60)
                await asyncio.wait_for(self.process.wait(), 30)
            except (TimeoutError, RuntimeError):
                self.process.kill()
                await self.process.wait()


@dataclass
class ChannelhubArm:
    world: World
    store_dir: Path
    fence_below: int | None = None  # the low-stock fence's threshold (None: no fence)
    name: str = "channelhub"
    engine: EngineProcess | None = None
    errors: list[str] = field(default_factory=list)
    memory: dict[str, int] = field(default_factory=dict)
    # The engine's own view (its /metrics histograms) when the sale has settled, before reconciling.
    engine_latency: dict[str, Any] = field(default_factory=dict)

    async def start(self) -> None:
        self.engine, ready = await EngineProcess.launch(
            self.world, self.store_dir, fence_below=self.fence_below
        )
        await subscribe_webhooks(self.world, str(ready["url"]))
        # Running before the sale: the first publish of every listing is done.
        await self.settle(time.monotonic() + WARM_UP_S)

    def _engine(self) -> EngineProcess:
        if self.engine is None:
            raise RuntimeError("the channelhub arm has not been started")
        return self.engine

    async def order_accepted(self, order: ShopperOrder, channel_order_id: str) -> None:
        return None  # the channel's webhook tells the engine

    async def stock_moved(self, sku: str) -> None:
        return None  # Odoo's webhook (and the write_date poll) tell the engine

    async def warehouse_offline(self, code: str, skus: list[str]) -> None:
        await self._engine().ask("offline", code=code)

    async def settle(self, deadline: float) -> None:
        """Until the engine is quiet: no webhook on its way, none waiting in the inbox, no event
        pending in the log (the ERP lane's order syncs included: their Odoo reservations still
        move ATS) and nothing left to publish."""
        while time.monotonic() < deadline:
            if await self.world.webhooks_pending() == 0:
                state = await self._engine().ask("unpublished")
                if state["unpublished"] == 0 and not state["pending_events"] and not state["inbox_pending"]:
                    return
            await asyncio.sleep(0.25)

    async def reconcile(self) -> None:
        self.engine_latency = await self._engine().ask("latency")
        report = await self._engine().ask("reconcile")
        if report.get("errors"):
            self.errors.append(repr(report["errors"]))
        self.memory = await self._engine().ask("memory")

    async def stop(self) -> None:
        if self.engine is not None:
            await self.engine.stop()
