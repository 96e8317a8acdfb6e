"""One benchmark arm's world: fresh Odoo, Shopify and WooCommerce emulators on loopback with the
same catalog, controlled stock and the landscape file that points channelhub at them.

Each emulator runs in its own OS process (`flash_sale_host`), so the emulators, the stream driver
and the channelhub engine (`flash_sale_engine`) never share a GIL. The `World` handle reaches them
only over HTTP: their `/_sandbox/*` control routes (bulk quantity reads and writes, stats, webhook
subscriptions, Odoo's stored rows, API-call counts), never their Python objects.

Stock layout (chosen so "the true available-to-sell" is unambiguous, see `flash_sale_truth`):

* two warehouses feed both channels, both shared 100 %, no safety stock, no packs:
  `wh` (Odoo `WH`, where sale orders reserve) and `east` (Odoo `EAST`, taken offline mid-sale);
* hot SKUs (the flash-sale items, ~1 %) hold a little stock, all of it in `WH/Stock`;
* every other SKU holds 40-80 units in `WH/Stock` and 0-40 in `EAST/Stock`;
* every channel starts showing exactly that ATS (the worlds start in sync).

The emulators are built with the same seed in every arm, so every arm faces the same shop.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import random
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import httpx

from channelhub.config import Landscape, low_stock_fence_yaml, parse_config
from channelhub.sandbox.scenarios.odoo_rpc import OdooAccess

SHOPIFY = "shopify"
WOOCOMMERCE = "woocommerce"
CHANNELS = (SHOPIFY, WOOCOMMERCE)
MAIN_WAREHOUSE = "wh"  # Odoo WH: sale orders reserve here; never goes offline
SECOND_WAREHOUSE = "east"  # Odoo EAST: goes offline mid-sale
ODOO_CODES = {MAIN_WAREHOUSE: "WH", SECOND_WAREHOUSE: "EAST"}
WEBHOOK_SECRET_ODOO = "flash-sale-odoo-webhook-token"
WOO_WEBHOOK_SECRET = "flash-sale-woocommerce-webhook-secret"
DRIVER_HEADER = b"x-bench-driver"


@dataclass(frozen=True)
class WorldSpec:
    """What every arm's world is built from (identical across arms)."""

    skus: int
    seed: int
    hot_share: float = 0.01
    shopify_duplicate_rate: float = 0.05  # share of Shopify deliveries sent twice
    shopify_reorder_rate: float = 0.05  # share held back until the next one to the endpoint is sent
    shopify_plan: str = "basic"
    shopify_webhook_time_scale: float = 1.0  # < 1 compresses Shopify's retry schedule (tests)


@dataclass
class StockPlan:
    """Units per SKU and warehouse at the start (identical across arms)."""

    on_hand: dict[str, dict[str, int]]
    hot: list[str]
    cold: list[str]

    def ats(self, sku: str, online: set[str]) -> int:
        return sum(units for wh, units in self.on_hand[sku].items() if wh in online)


@dataclass(frozen=True)
class ShopifyAccess:
    url: str
    shop_domain: str
    access_token: str
    api_secret: str
    location_gid: str


@dataclass(frozen=True)
class WooCommerceAccess:
    url: str
    consumer_key: str
    consumer_secret: str


SYSTEMS = ("odoo", SHOPIFY, WOOCOMMERCE)


@dataclass
class World:
    """Running emulator processes and what channelhub (and the benchmark) needs to reach them."""

    spec: WorldSpec
    odoo: OdooAccess
    shopify: ShopifyAccess
    woocommerce: WooCommerceAccess
    plan: StockPlan
    pids: dict[str, int] = field(default_factory=dict)
    _clients: dict[int, httpx.AsyncClient] = field(default_factory=dict, repr=False)

    @property
    def urls(self) -> dict[str, str]:
        return {"odoo": self.odoo.url, SHOPIFY: self.shopify.url, WOOCOMMERCE: self.woocommerce.url}

    @property
    def shopify_location_gid(self) -> str:
        return self.shopify.location_gid

    # -- HTTP to the emulators' control routes -------------------------------------------------
    def _client(self) -> httpx.AsyncClient:
        """One client per event loop (the benchmark runs one loop per arm)."""
        loop = id(asyncio.get_running_loop())
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = httpx.AsyncClient(timeout=60)
        return client

    async def control(self, system: str, method: str, path: str, body: Any = None) -> Any:
        """One call to an emulator's `/_sandbox/*` control route; the decoded JSON answer."""
        return await self._call(system, method, path, body)

    async def _call(self, system: str, method: str, path: str, body: Any = None) -> Any:
        reply = await self._client().request(method, self.urls[system] + path, json=body)
        reply.raise_for_status()
        return reply.json()

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            with contextlib.suppress(RuntimeError):
                await client.aclose()

    # -- what a channel stores right now (control route, not counted as an API call) -----------
    async def read_shown(self, channel: str, skus: Iterable[str]) -> tuple[float, dict[str, int]]:
        """Every given SKU's stored quantity on `channel` in one call, and when it was read (the
        emulator's `time.monotonic()`: CLOCK_MONOTONIC, one clock for every process here)."""
        reply = await self._call(channel, "POST", "/_sandbox/quantities/read", {"skus": list(skus)})
        return float(reply["monotonic"]), {str(k): int(v) for k, v in reply["quantities"].items()}

    def shown(self, channel: str, sku: str) -> int:
        """One SKU's stored quantity (blocking; tests)."""
        reply = httpx.post(self.urls[channel] + "/_sandbox/quantities/read", json={"skus": [sku]}, timeout=30)
        reply.raise_for_status()
        return int(reply.json()["quantities"][sku])

    async def set_shown(self, channel: str, quantities: dict[str, int]) -> None:
        """Write channel quantities directly, no event (the oracle's zero-latency path)."""
        await self._call(channel, "POST", "/_sandbox/quantities/write", {"quantities": quantities})

    # -- Odoo, counters, stats ----------------------------------------------------------------
    async def odoo_order_refs(self) -> Counter[str]:
        """`client_order_ref` of every Odoo sale order, counted."""
        rows = await self._call("odoo", "GET", "/_sandbox/records/sale.order?fields=client_order_ref")
        return Counter(str(row["client_order_ref"]) for row in rows if row.get("client_order_ref"))

    async def api_calls(self) -> dict[str, int]:
        """API calls each emulator has answered so far (see `flash_sale_host.CallCounter`)."""
        replies = await asyncio.gather(*(self._call(s, "GET", "/_sandbox/bench/calls") for s in SYSTEMS))
        return {system: int(reply["calls"]) for system, reply in zip(SYSTEMS, replies, strict=True)}

    async def channel_stats(self) -> dict[str, dict[str, Any]]:
        replies = await asyncio.gather(*(self._call(c, "GET", "/_sandbox/stats") for c in CHANNELS))
        return dict(zip(CHANNELS, replies, strict=True))

    async def webhooks_pending(self) -> int:
        """Channel webhook deliveries queued, held back or in flight."""
        return sum(int(stats.get("webhooks_pending", 0)) for stats in (await self.channel_stats()).values())

    def landscape(self, database_url: str) -> Landscape:
        """The landscape file channelhub would be given for this world."""
        return parse_config(self.landscape_yaml(database_url), environ=self.secrets())

    def secrets(self) -> dict[str, str]:
        return {
            "ODOO_PASSWORD": self.odoo.password,
            "SHOPIFY_TOKEN": self.shopify.access_token,
            "SHOPIFY_SECRET": self.shopify.api_secret,
            "WOO_KEY": self.woocommerce.consumer_key,
            "WOO_SECRET": self.woocommerce.consumer_secret,
            "WOO_WEBHOOK_SECRET": WOO_WEBHOOK_SECRET,
        }

    def landscape_yaml(self, database_url: str, fence_below: int | None = None) -> str:
        """`fence_below`: put up the low-stock fence between the two channels (equal weights) at
        that many units left (`channelhub.domain.fence`); None: plain shared stock."""
        return (
            low_stock_fence_yaml(fence_below, (SHOPIFY, WOOCOMMERCE))
            + f"""
version: 1
odoo:
  url: {self.urls["odoo"]}
  database: {self.odoo.db}
  login: {self.odoo.login}
  password: {{env: ODOO_PASSWORD}}
  version: "{self.odoo.version}"
channels:
  - name: {SHOPIFY}
    kind: shopify
    currency: USD
    shop_domain: {self.shopify.shop_domain}
    base_url: {self.urls["shopify"]}
    plan: standard
    access_token: {{env: SHOPIFY_TOKEN}}
    client_secret: {{env: SHOPIFY_SECRET}}
    locations:
      {MAIN_WAREHOUSE}: {self.shopify_location_gid}
  - name: {WOOCOMMERCE}
    kind: woocommerce
    currency: USD
    url: {self.urls["woocommerce"]}
    consumer_key: {{env: WOO_KEY}}
    consumer_secret: {{env: WOO_SECRET}}
    webhook_secret: {{env: WOO_WEBHOOK_SECRET}}
    orders_poll_interval_s: 2
warehouses:
  - code: {MAIN_WAREHOUSE}
    odoo_code: WH
    feeds: [{SHOPIFY}, {WOOCOMMERCE}]
  - code: {SECOND_WAREHOUSE}
    odoo_code: EAST
    feeds: [{SHOPIFY}, {WOOCOMMERCE}]
database:
  url: {database_url}
"""
        )


def plan_stock(skus: list[str], spec: WorldSpec) -> StockPlan:
    rng = random.Random(spec.seed * 7919 + 1)
    hot_count = max(5, round(len(skus) * spec.hot_share))
    order = list(skus)
    rng.shuffle(order)
    hot = sorted(order[:hot_count])
    cold = sorted(order[hot_count:])
    on_hand: dict[str, dict[str, int]] = {}
    for sku in skus:
        if sku in hot:
            on_hand[sku] = {MAIN_WAREHOUSE: rng.randint(5, 30), SECOND_WAREHOUSE: 0}
        else:
            on_hand[sku] = {MAIN_WAREHOUSE: rng.randint(40, 80), SECOND_WAREHOUSE: rng.randint(0, 40)}
    return StockPlan(on_hand, hot, cold)


class _EmulatorProcess:
    """One `flash_sale_host` child: started, read until ready, stopped by closing its stdin."""

    def __init__(self, system: str, config: dict[str, Any], folder: Path) -> None:
        self.system = system
        config_path = folder / f"{system}.json"
        config_path.write_text(json.dumps(config))
        self.log_path = folder / f"{system}.log"
        self._log: IO[bytes] = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "channelhub.benchmarks.flash_sale_host", system, str(config_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )

    def ready(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait()
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the {self.system} emulator did not start: {tail}")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log.close()


@contextlib.contextmanager
def running_world(spec: WorldSpec) -> Iterator[World]:
    """Build and serve the three emulators, each in its own process; stop them on exit.

    Odoo starts first (its seeded catalog decides the SKUs and the stock plan), then Shopify and
    WooCommerce together, built from that plan."""
    processes: list[_EmulatorProcess] = []
    with tempfile.TemporaryDirectory(prefix="flash-world-") as tmp:
        folder = Path(tmp)
        plan_path = folder / "plan.json"
        base = {"spec": dataclasses.asdict(spec)}
        try:
            odoo = _EmulatorProcess("odoo", {**base, "plan_out": str(plan_path)}, folder)
            processes.append(odoo)
            odoo_ready = odoo.ready()
            shops = [_EmulatorProcess(c, {**base, "plan_in": str(plan_path)}, folder) for c in CHANNELS]
            processes.extend(shops)
            shop_ready = dict(zip(CHANNELS, (shop.ready() for shop in shops), strict=True))
            raw_plan = json.loads(plan_path.read_text())
            shopify, woo = shop_ready[SHOPIFY], shop_ready[WOOCOMMERCE]
            world = World(
                spec=spec,
                odoo=OdooAccess(
                    odoo_ready["url"],
                    odoo_ready["db"],
                    odoo_ready["login"],
                    odoo_ready["password"],
                    odoo_ready["version"],
                ),
                shopify=ShopifyAccess(
                    shopify["url"],
                    shopify["shop_domain"],
                    shopify["access_token"],
                    shopify["api_secret"],
                    shopify["location_gid"],
                ),
                woocommerce=WooCommerceAccess(woo["url"], woo["consumer_key"], woo["consumer_secret"]),
                plan=StockPlan(raw_plan["on_hand"], raw_plan["hot"], raw_plan["cold"]),
                pids={"odoo": int(odoo_ready["pid"]), **{c: int(r["pid"]) for c, r in shop_ready.items()}},
            )
            yield world
        finally:
            for process in reversed(processes):
                process.stop()


def utc_now() -> datetime:
    return datetime.now(UTC)
