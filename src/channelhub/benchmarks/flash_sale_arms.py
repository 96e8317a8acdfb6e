"""The three ways of keeping the channels in sync that the flash-sale benchmark compares.

Every arm gets the same calls from the stream driver, on the driver's event loop:

* `order_accepted(order, channel_order_id)` after a storefront answered 201 (the sale happened);
* `stock_moved(sku)` after Odoo committed a receipt or adjustment;
* `warehouse_offline(code, skus)` when the operator takes a warehouse offline;
* `settle(deadline)` after the stream: let the arm finish what it does on its own;
* `reconcile()`: the arm's own repair pass; `stop()`.

Arms:
* `OracleArm`: near-zero-latency lower bound. Every stock-changing event writes the true ATS into
  every channel's record directly (a `/_sandbox/quantities/write` control call to each emulator
  process, no API call, no event). Orders go into Odoo after the sale.
* `CronArm`: how Odoo-side connectors sync today: two scheduled jobs every `interval_s` (60 s),
  an order import (orders changed since the last run, created + confirmed in Odoo) and a full
  stock export (Odoo's free stock of every SKU to every channel through the same connectors,
  batched to each platform's limit, paced by the same client-side buckets, written blindly:
  Shopify's compare-and-set off). No event-driven updates. Its repair pass is one more import
  and export.
* `ChannelhubArm`: the real engine (`bootstrap.Runtime`): webhooks → inbox → log → services →
  publisher, with Odoo notifications, polling, backfill and soft reservations.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from channelhub.benchmarks.flash_sale_stream import ShopperOrder, TruthLedger
from channelhub.benchmarks.flash_sale_world import CHANNELS, World
from channelhub.service.ports import (
    ChannelGateway,
    ChannelOrderLine,
    ChannelOrderSnapshot,
    ErpGateway,
    PaymentState,
    QuantityUpdate,
)


class Arm(Protocol):
    name: str

    async def start(self) -> None: ...
    async def order_accepted(self, order: ShopperOrder, channel_order_id: str) -> None: ...
    async def stock_moved(self, sku: str) -> None: ...
    async def warehouse_offline(self, code: str, skus: list[str]) -> None: ...
    async def settle(self, deadline: float) -> None: ...
    async def reconcile(self) -> None: ...
    async def stop(self) -> None: ...


def order_snapshot(order: ShopperOrder, channel_order_id: str, placed_at: datetime) -> ChannelOrderSnapshot:
    """The channel order as an order-import job sees it (paid, one line)."""
    price = Decimal("19.99")
    return ChannelOrderSnapshot(
        channel=order.channel,
        channel_order_id=channel_order_id,
        name=f"#{channel_order_id}",
        currency="USD",
        placed_at=placed_at,
        updated_at=placed_at,
        payment=PaymentState.PAID,
        lines=(ChannelOrderLine("1", order.sku, order.quantity, price),),
        total=price * order.quantity,
    )


async def import_order(erp: ErpGateway, snapshot: ChannelOrderSnapshot) -> None:
    """Create (idempotently, by client_order_ref) and confirm one order in Odoo."""
    ref = await erp.ensure_sale_order(snapshot)
    if not ref.confirmed:
        await erp.confirm_sale_order(ref)


async def odoo_gateway(world: World) -> ErpGateway:
    from channelhub.service.adapters.factory import erp_gateway, find_channel_partner, odoo_connector

    landscape = world.landscape("sqlite://")
    connector = odoo_connector(landscape.odoo)
    await connector.connect()
    partner = await find_channel_partner(connector)
    return erp_gateway(landscape, partner_id=partner, connector=connector)


def channel_gateways(world: World) -> dict[str, ChannelGateway]:
    from channelhub.service.adapters.factory import channel_gateway

    landscape = world.landscape("sqlite://")
    return {settings.name: channel_gateway(settings) for settings in landscape.channels}


async def warm_up(gateways: dict[str, ChannelGateway]) -> None:
    """Read the Shopify catalog (SKU -> inventory item) with one bulk operation before the sale.

    Every arm has been running before a flash sale starts; without this the first publish reads
    the catalog page by page (~5 cost points per variant: minutes for 10,000 SKUs on a basic
    plan), which would measure start-up, not the sale."""
    from channelhub.service.adapters.shopify import ShopifyChannelGateway

    for gateway in gateways.values():
        if isinstance(gateway, ShopifyChannelGateway):
            await gateway.connector.load_catalog(bulk=True)


@dataclass
class OracleArm:
    world: World
    ledger: TruthLedger
    name: str = "oracle"
    updates_in_line: bool = True  # every channel is updated before the driver goes on
    erp: ErpGateway | None = None
    _queue: asyncio.Queue[ChannelOrderSnapshot] = field(default_factory=asyncio.Queue)
    _importer: asyncio.Task[None] | None = None
    import_errors: int = 0

    async def start(self) -> None:
        self.erp = await odoo_gateway(self.world)

    async def _publish(self, skus: Iterable[str]) -> None:
        """The truth, written straight into every channel's record (one control call each)."""
        truths = {sku: self.ledger.ats(sku) for sku in skus}
        await asyncio.gather(*(self.world.set_shown(channel, truths) for channel in CHANNELS))

    async def order_accepted(self, order: ShopperOrder, channel_order_id: str) -> None:
        self._queue.put_nowait(order_snapshot(order, channel_order_id, datetime.now(UTC)))
        await self._publish([order.sku])

    async def stock_moved(self, sku: str) -> None:
        await self._publish([sku])

    async def warehouse_offline(self, code: str, skus: list[str]) -> None:
        await self._publish(skus)

    async def _import_orders(self) -> None:
        assert self.erp is not None
        while True:
            snapshot = await self._queue.get()
            try:
                await import_order(self.erp, snapshot)
            except Exception:  # counted; the lost-order check reports the consequence
                self.import_errors += 1
            finally:
                self._queue.task_done()

    async def settle(self, deadline: float) -> None:
        # Orders go into Odoo after the sale: the oracle's channel updates never wait for Odoo
        # (as in earlier runs, when the emulators shared the driver's process).
        self._importer = asyncio.ensure_future(self._import_orders())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), max(0.1, deadline - time.monotonic()))

    async def reconcile(self) -> None:
        await self._publish(self.ledger.all_skus())

    async def stop(self) -> None:
        if self._importer is not None:
            self._importer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._importer
        if self.erp is not None:
            await self.erp.aclose()


@dataclass
class CronArm:
    world: World
    interval_s: float = 60.0
    name: str = "cron"
    erp: ErpGateway | None = None
    channels: dict[str, ChannelGateway] = field(default_factory=dict)
    offline: set[str] = field(default_factory=set)
    cursors: dict[str, str | None] = field(default_factory=dict)
    imported: set[str] = field(default_factory=set)
    runs: int = 0
    errors: list[str] = field(default_factory=list)
    _loop_task: asyncio.Task[None] | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _ran: asyncio.Event = field(default_factory=asyncio.Event)
    _next_run: float = 0.0

    async def start(self) -> None:
        self.erp = await odoo_gateway(self.world)
        self.channels = channel_gateways(self.world)
        await warm_up(self.channels)
        for name, gateway in self.channels.items():
            # The connector starts from "now": orders before the sale are not its business.
            _, self.cursors[name] = await gateway.orders_since(None)
        self._next_run = time.monotonic() + self.interval_s
        self._loop_task = asyncio.ensure_future(self._loop())

    async def _loop(self) -> None:
        """Two scheduled jobs, as Odoo connectors have them: the order import and the stock
        export run on their own schedules (a slow order import does not hold up the export)."""
        await asyncio.gather(self._every(self._import_orders), self._every(self._export_stock, count=True))

    async def _every(self, job: Callable[[], Awaitable[None]], count: bool = False) -> None:
        next_run = self._next_run
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), max(0.0, next_run - time.monotonic()))
            if self._stop.is_set():
                return
            next_run += self.interval_s
            try:
                await job()
            except Exception as error:  # a cron job logs and waits for its next run
                self.errors.append(repr(error))
            if count:
                self.runs += 1
                self._ran.set()

    async def run_once(self) -> None:
        try:
            await self._import_orders()
            await self._export_stock()
        except Exception as error:  # a cron job logs and waits for the next run
            self.errors.append(repr(error))
        self.runs += 1
        self._ran.set()

    async def _import_orders(self) -> None:
        assert self.erp is not None
        for name, gateway in self.channels.items():
            orders, self.cursors[name] = await gateway.orders_since(self.cursors.get(name))
            for snapshot in orders:
                if snapshot.order_key in self.imported:
                    continue
                await import_order(self.erp, snapshot)
                self.imported.add(snapshot.order_key)

    async def _export_stock(self) -> None:
        assert self.erp is not None
        read = await self.erp.read_stock(None)
        free: dict[str, int] = dict.fromkeys(read.skus, 0)
        for row in read.rows:
            if row.warehouse in self.offline:
                continue
            free[row.sku] = free.get(row.sku, 0) + row.on_hand - row.reserved - row.hold
        updates = [QuantityUpdate(sku, max(0, units)) for sku, units in sorted(free.items())]
        for gateway in self.channels.values():
            await overwrite(gateway, updates)

    async def order_accepted(self, order: ShopperOrder, channel_order_id: str) -> None:
        return None  # a cron connector hears of it at its next run

    async def stock_moved(self, sku: str) -> None:
        return None

    async def warehouse_offline(self, code: str, skus: list[str]) -> None:
        self.offline.add(code)  # a configuration change the next export picks up

    async def settle(self, deadline: float) -> None:
        """Wait for the next scheduled run (the one that carries the last minute's changes)."""
        self._ran.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ran.wait(), max(0.1, deadline - time.monotonic()))

    async def reconcile(self) -> None:
        await self.run_once()  # a cron connector's repair is its next full export

    async def stop(self) -> None:
        self._stop.set()
        if self._loop_task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._loop_task, 30)
        for gateway in self.channels.values():
            await gateway.aclose()
        if self.erp is not None:
            await self.erp.aclose()


async def overwrite(gateway: ChannelGateway, updates: list[QuantityUpdate]) -> None:
    """A cron export writes blindly: Shopify's compare-and-set is switched off (`force`, i.e.
    `ignoreCompareQuantity`), WooCommerce has none."""
    from channelhub.connectors.shopify import QuantityUpdate as ShopifyQuantityUpdate
    from channelhub.service.adapters.shopify import ShopifyChannelGateway

    if isinstance(gateway, ShopifyChannelGateway):
        await gateway.connector.set_available(
            [ShopifyQuantityUpdate(u.sku, u.quantity) for u in updates], force=True
        )
    else:
        await gateway.set_available(updates)


def describe_errors(errors: list[str]) -> dict[str, Any]:
    return {"count": len(errors), "first": errors[:3]}
