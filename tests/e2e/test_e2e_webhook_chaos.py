"""Shopify delivers every webhook twice and out of order; WooCommerce normally. Every channel
order still becomes exactly one Odoo sale order, and a forged delivery is refused and not stored."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import httpx
import pytest
import sqlalchemy as sa

from channelhub.bootstrap import RuntimeSettings
from channelhub.sandbox.runner import Sandbox, SandboxSettings
from channelhub.store.state_tables import webhook_inbox
from tests.e2e.conftest import eventually, odoo_order_refs, place_order

pytestmark = pytest.mark.timeout(120)


def _settings(seed: int) -> SandboxSettings:
    return SandboxSettings(skus=24, seed=seed, runtime=RuntimeSettings(reservation_check_interval_s=0.5))


async def test_duplicated_and_reordered_shopify_webhooks_make_one_odoo_order_each() -> None:
    async with Sandbox(_settings(seed=21)) as sandbox:
        assert sandbox.emulators is not None and sandbox.catalog is not None
        shopify = sandbox.emulators.shopify
        shopify.chaos.update({"webhook_duplicate_rate": 1.0, "webhook_reorder_window_s": 0.3})
        in_stock = [sku for sku in sandbox.catalog.skus if sandbox.catalog.sellable(sku) >= 3][:4]
        urls = sandbox.endpoints
        async with httpx.AsyncClient(timeout=10) as client:
            refs = [await place_order(client, urls["shopify"]["url"], "shopify", sku) for sku in in_stock]
            refs += [await place_order(client, urls["woocommerce"]["url"], "woocommerce", in_stock[0])]

        await eventually(
            lambda: set(refs) <= set(odoo_order_refs(sandbox.emulators.odoo)),
            within_s=20,
            what="orders in Odoo",
        )
        await eventually(lambda: shopify.webhooks.pending() == 0, within_s=10, what="Shopify deliveries done")
        assert sandbox.runtime is not None
        engine = sandbox.runtime.require_engine()

        def inbox(channel: str) -> tuple[int, int]:
            """(rows stored, rows still waiting to be processed) for `channel`."""
            with engine.connect() as connection:
                rows = connection.execute(
                    sa.select(webhook_inbox.c.processed_at).where(webhook_inbox.c.channel == channel)
                ).all()
            return len(rows), sum(1 for (processed,) in rows if processed is None)

        await eventually(lambda: inbox("shopify")[1] == 0, within_s=20, what="inbox processed")
        delivered = shopify.shop.stats.webhooks_delivered
        stored, _ = inbox("shopify")
        # Every delivery was sent twice (the chaos really happened) and stored once.
        assert delivered == 2 * stored and stored >= len(in_stock)
        counts = odoo_order_refs(sandbox.emulators.odoo)
        assert {ref: counts[ref] for ref in refs} == dict.fromkeys(refs, 1)


async def test_a_forged_or_unsigned_delivery_is_refused_and_nothing_is_stored() -> None:
    async with Sandbox(_settings(seed=22)) as sandbox:
        assert sandbox.runtime is not None and sandbox.emulators is not None
        engine = sandbox.runtime.require_engine()

        def stored() -> int:
            with engine.connect() as connection:
                return int(
                    connection.execute(sa.select(sa.func.count()).select_from(webhook_inbox)).scalar_one()
                )

        before = stored()
        body = json.dumps({"id": 4242, "updated_at": "2026-01-01T00:00:00Z", "line_items": []}).encode()
        wrong = base64.b64encode(hmac.new(b"not-the-app-secret", body, hashlib.sha256).digest()).decode()
        shopify_headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Shop-Domain": sandbox.emulators.shopify.shop_domain,
            "X-Shopify-Webhook-Id": "forged-1",
            "X-Shopify-API-Version": "2025-10",
        }
        hub = sandbox.runtime.url
        async with httpx.AsyncClient(base_url=hub, timeout=10) as client:
            forged = await client.post(
                "/webhooks/shopify", content=body, headers={**shopify_headers, "X-Shopify-Hmac-Sha256": wrong}
            )
            unsigned = await client.post("/webhooks/shopify", content=body, headers=shopify_headers)
            woo = await client.post(
                "/webhooks/woocommerce",
                content=body,
                headers={
                    "X-WC-Webhook-Signature": wrong,
                    "X-WC-Webhook-Topic": "order.created",
                    "X-WC-Webhook-Delivery-ID": "1",
                    "X-WC-Webhook-ID": "1",
                },
            )
            odoo = await client.post(
                "/webhooks/odoo?token=wrong-token", content=b'{"_model": "stock.quant", "_id": 1}'
            )
        assert [forged.status_code, unsigned.status_code, woo.status_code, odoo.status_code] == [401] * 4
        assert stored() == before
        assert sandbox.emulators.odoo is not None
        assert "shopify:4242" not in odoo_order_refs(sandbox.emulators.odoo)
