"""The `channelhub` arm: the real engine (`bootstrap.Runtime`) wired to the arm's emulators.

The emulators deliver webhooks to the engine's ingress exactly as the platforms would: Shopify
`orders/*` topics signed with the app secret (with the world's duplicate/reorder chaos),
WooCommerce `order.*` signed with the webhook secret, Odoo's "Send Webhook Notification" rule on
`stock.quant` with the shared token. Polling, backfill and the reservation hand-over run at the
runtime's own settings.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from channelhub.benchmarks.flash_sale_stream import ShopperOrder
from channelhub.benchmarks.flash_sale_world import (
    SHOPIFY,
    WEBHOOK_SECRET_ODOO,
    WOO_WEBHOOK_SECRET,
    World,
)

SHOPIFY_TOPICS = ("orders/create", "orders/updated", "orders/paid", "orders/cancelled")
WOO_TOPICS = ("order.created", "order.updated")


def subscribe_webhooks(world: World, ingress_url: str, odoo_token: str = WEBHOOK_SECRET_ODOO) -> None:
    """Point every emulator's webhooks at channelhub's ingress (what an installer does once)."""
    from channelhub.sandbox.odoo import WebhookRule
    from channelhub.sandbox.woocommerce.webhooks import Webhook

    for topic in SHOPIFY_TOPICS:
        world.shopify.subscribe(topic, f"{ingress_url}/webhooks/shopify", from_config=True)
    shop = world.woocommerce.shop
    for topic in WOO_TOPICS:
        stamp = shop.now()
        webhook = Webhook(
            id=shop.next_id(),
            name=f"channelhub {topic}",
            status="active",
            topic=topic,
            delivery_url=f"{ingress_url}/webhooks/woocommerce",
            secret=WOO_WEBHOOK_SECRET,
            date_created=stamp,
            date_modified=stamp,
            pending_delivery=False,
        )
        world.woocommerce.webhooks.webhooks[webhook.id] = webhook
    world.odoo.webhooks.add_rule(
        WebhookRule(
            model="stock.quant",
            url=f"{ingress_url}/webhooks/odoo?token={odoo_token}",
            fields=["product_id", "location_id", "quantity", "reserved_quantity"],
        )
    )


@dataclass
class ChannelhubArm:
    world: World
    store_dir: Path
    name: str = "channelhub"
    runtime: Any = None
    errors: list[str] = field(default_factory=list)

    async def start(self) -> None:
        from channelhub.bootstrap import Runtime, RuntimeSettings

        landscape = self.world.landscape(f"sqlite:///{self.store_dir / 'channelhub.db'}")
        self.runtime = Runtime(
            landscape,
            RuntimeSettings(api_host="127.0.0.1", api_port=0, odoo_webhook_token=WEBHOOK_SECRET_ODOO),
        )
        await self.runtime.start()
        subscribe_webhooks(self.world, self.runtime.url)

    async def order_accepted(self, order: ShopperOrder, channel_order_id: str) -> None:
        return None  # the channel's webhook tells the engine

    async def stock_moved(self, sku: str) -> None:
        return None  # Odoo's webhook (and the write_date poll) tell the engine

    async def warehouse_offline(self, code: str, skus: list[str]) -> None:
        await self.runtime.set_warehouse(code, "offline", reason="flash-sale benchmark", by="bench")

    def unpublished(self) -> int:
        health = self.runtime.health()
        return int(sum(health["unpublished"].values()))

    async def settle(self, deadline: float) -> None:
        """Until the publisher has nothing left to send and no webhook is still on its way."""
        while time.monotonic() < deadline:
            pending = self.world.shopify.webhooks.pending() + self.world.woocommerce.webhooks.pending()
            if pending == 0 and await asyncio.to_thread(self.unpublished) == 0:
                return
            await asyncio.sleep(0.25)

    async def reconcile(self) -> None:
        report = await self.runtime.reconcile()
        for channel in (SHOPIFY, "woocommerce"):
            await self.runtime.publisher.wait_idle(channel, 30.0)
        if report.errors:
            self.errors.append(repr(report.errors))

    async def stop(self) -> None:
        if self.runtime is not None:
            await self.runtime.stop()
