"""Pricing governance end to end through the Odoo, Shopify and WooCommerce emulators on loopback,
the real connectors and a migrated SQLite store; the pricing service runs on a manual clock."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import Result
from typer.testing import CliRunner

from channelhub.cli import app as cli_app
from channelhub.clock import ManualClock
from channelhub.connectors.odoo import OdooConnection, OdooConnector, OdooResilience
from channelhub.connectors.odoo.values import format_datetime
from channelhub.connectors.shopify import ShopifyConfig, ShopifyConnector
from channelhub.connectors.woocommerce import WooCommerceClient, WooCommerceConnector
from channelhub.domain import SelfApprovalForbidden
from channelhub.sandbox.odoo.app import EmulatorSettings as OdooSettings
from channelhub.sandbox.odoo.app import create_emulator
from channelhub.sandbox.server import serve_in_thread
from channelhub.sandbox.shopify.app import ShopifyEmulator
from channelhub.sandbox.shopify.settings import EmulatorSettings as ShopifySettings
from channelhub.sandbox.woocommerce.app import WooCommerceSettings
from channelhub.sandbox.woocommerce.app import create_app as create_woo
from channelhub.service.pricing import (
    ChangeSetStatus,
    OdooOrderRate,
    OdooPriceSource,
    OdooSalesVelocity,
    PricingContext,
    PricingService,
    ShopifyPricePublisher,
    WooCommercePricePublisher,
    ensure_fixed_pricelist,
    parse_pricing,
)
from channelhub.store.db import create_store_engine, upgrade_to_head
from channelhub.store.pricing_tables import audit_log

WOO_KEY, WOO_SECRET = "ck_pricing", "cs_pricing"
BASE, COST = Decimal("100.00"), 40.0


@dataclass
class Landscape:
    odoo: OdooConnector
    shop: ShopifyPricePublisher
    web: WooCommercePricePublisher
    skus: list[str]
    pricelist: int
    items: dict[str, int]
    service: PricingService
    clock: ManualClock
    engine: sa.Engine
    url: str

    async def odoo_call(self, model: str, method: str, *args: Any) -> Any:
        return await self.odoo.client.execute_kw(model, method, list(args))

    async def shown(self, sku: str) -> tuple[Decimal, Decimal]:
        """What both channels show now, read straight from the emulators."""
        shop = await self.shop.read_prices([sku])
        web = await self.web.read_prices([sku])
        return shop[sku], web[sku]


@pytest.fixture
async def landscape(tmp_path: object) -> AsyncIterator[Landscape]:
    odoo_emulator = create_emulator(OdooSettings(version="17.0", seed=8, skus=6))
    shopify_emulator = ShopifyEmulator(ShopifySettings(seed=4, skus=12, locations=1, deliver_webhooks=False))
    woo_emulator = create_woo(
        WooCommerceSettings(seed=5, skus=12, consumer_key=WOO_KEY, consumer_secret=WOO_SECRET)
    )
    with (
        serve_in_thread(odoo_emulator.app) as odoo_server,
        serve_in_thread(shopify_emulator.app) as shopify_server,
        serve_in_thread(woo_emulator) as woo_server,
    ):
        odoo = OdooConnector(
            OdooConnection(odoo_server.url, "retail", "admin", "admin"),
            resilience=OdooResilience.default(rng=random.Random(5), base_delay=0.005, max_delay=0.05),
        )
        await odoo.connect()
        shopify = ShopifyConnector(
            ShopifyConfig(
                shop_url=shopify_server.url,
                access_token=shopify_emulator.settings.access_token,
                api_secret=shopify_emulator.settings.api_secret,
            )
        )
        woo_client = WooCommerceClient(woo_server.url, WOO_KEY, WOO_SECRET)
        woo = WooCommerceConnector(woo_client)
        try:
            yield await _prepare(odoo, shopify, woo, f"sqlite:///{tmp_path}/pricing.db")
        finally:
            await odoo.aclose()
            await shopify.aclose()
            await woo_client.aclose()


async def _prepare(
    odoo: OdooConnector, shopify: ShopifyConnector, woo: WooCommerceConnector, url: str
) -> Landscape:
    """One catalog on all three systems: 3 SKUs both shops list, given to Odoo products, an Odoo
    pricelist with a fixed price of 100.00 for each, and both channels showing 100.00."""
    on_shopify = set((await shopify.load_catalog()).by_sku)
    on_woo = set(await woo.read_listings())
    skus = sorted(on_shopify & on_woo)[:3]
    assert len(skus) == 3, (on_shopify, on_woo)
    product_ids = await odoo.client.execute_kw("product.product", "search", [[]], {"limit": 3})
    for product_id, sku in zip(product_ids, skus, strict=True):
        await odoo.client.execute_kw(
            "product.product", "write", [[product_id], {"default_code": sku, "standard_price": COST}]
        )
    pricelist, items = await ensure_fixed_pricelist(odoo, "Channels", dict.fromkeys(skus, BASE))
    assert await ensure_fixed_pricelist(odoo, "Channels", dict.fromkeys(skus, BASE)) == (pricelist, items)
    [pricelist_row] = await odoo.client.execute_kw(
        "product.pricelist", "read", [[pricelist], ["currency_id"]]
    )
    currency = pricelist_row["currency_id"][1]
    shop = ShopifyPricePublisher("shop", shopify)
    web = WooCommercePricePublisher("web", woo)
    for publisher in (shop, web):
        await publisher.set_prices(dict.fromkeys(skus, BASE))
    settings = parse_pricing(
        f"""
policy: {{min_margin_percent: 10, max_auto_change_percent: 5, max_auto_drop_percent: 20}}
channels:
  shop: {{pricelist: {pricelist}, currency: {currency}, tax_included: false}}
  web: {{pricelist: {pricelist}, currency: {currency}, tax_included: false}}
users: {{alice: [price_approver], bob: [price_approver]}}
release: {{max_attempts: 2, retry_delay_s: 1}}
"""
    )
    upgrade_to_head(url)
    engine = create_store_engine(url)
    clock = ManualClock(datetime.now(UTC))
    partner = await odoo.client.execute_kw("res.partner", "create", [{"name": "Shop customer"}])
    order = await odoo.client.execute_kw(
        "sale.order", "create",
        [{"partner_id": partner, "client_order_ref": "shop:1001",
          "order_line": [(0, 0, {"product_id": product_ids[0], "product_uom_qty": 14.0})]}],
    )  # fmt: skip
    await odoo.client.execute_kw("sale.order", "action_confirm", [[order]])
    velocity = OdooSalesVelocity(odoo, clock=clock, days=7)
    context = PricingContext(
        engine, settings, clock, {"shop": shop, "web": web}, OdooPriceSource(odoo), velocity
    )
    service = PricingService(context)
    assert await service.capture.poll() == []  # Odoo and the channels agree: nothing to govern
    return Landscape(odoo, shop, web, skus, pricelist, items, service, clock, engine, url)


async def test_price_governance_through_the_emulators(landscape: Landscape) -> None:
    service, clock = landscape.service, landscape.clock
    cut, cheap, promo = landscape.skus
    approver = service.context.approver

    # A 50 % cut in Odoo is captured but does not reach any channel.
    await landscape.odoo_call(
        "product.pricelist.item", "write", [landscape.items[cut]], {"fixed_price": 50.0}
    )
    [proposal] = await service.capture.poll()
    assert proposal.status is ChangeSetStatus.PENDING_APPROVAL and proposal.rule == "drop_above_threshold"
    assert proposal.proposed_by == "admin"  # the Odoo user who wrote it
    assert {(i.channel, i.old_price, i.new_price) for i in proposal.items} == {
        ("shop", BASE, Decimal(50)), ("web", BASE, Decimal(50)),
    }  # fmt: skip
    assert (await service.release.run_due()).published == []
    assert await landscape.shown(cut) == (BASE, BASE)
    preview = await service.governance.preview(proposal.id, days=7)  # 14 sold on shop in 7 days
    assert preview["revenue_delta"] == "-700.00" and preview["channels"] == ["shop", "web"]
    rate = OdooOrderRate(landscape.odoo)  # the one confirmed shop order, placed just now
    now = datetime.now(UTC)
    assert await rate.orders_per_hour("shop", now - timedelta(hours=2), now + timedelta(minutes=1)) > 0
    assert await rate.orders_per_hour("web", now - timedelta(hours=2), now + timedelta(minutes=1)) == 0

    # The proposer cannot approve it; a price approver can, and both channels show it, read back.
    with pytest.raises(SelfApprovalForbidden):
        service.governance.approve(proposal.id, approver("admin"), "my own")
    service.governance.approve(proposal.id, approver("alice"), "summer clearance")
    assert (await service.release.run_due()).published == [proposal.id]
    assert await landscape.shown(cut) == (Decimal(50), Decimal(50))

    # Rollback restores the old prices on both channels.
    clock.advance(300)
    await service.release.rollback(proposal.id, approver("bob"), "clearance cancelled")
    assert await landscape.shown(cut) == (BASE, BASE)
    assert service.governance.get(proposal.id).status is ChangeSetStatus.ROLLED_BACK

    # A price below cost plus the margin floor is rejected, naming the rule.
    await landscape.odoo_call(
        "product.pricelist.item", "write", [landscape.items[cheap]], {"fixed_price": 42.0}
    )
    [below_cost] = await service.capture.poll()
    assert below_cost.status is ChangeSetStatus.REJECTED and below_cost.rule == "below_margin_floor"
    assert await landscape.shown(cheap) == (BASE, BASE)

    # A future date_start publishes at that time, date_end reverts.
    starts, ends = clock.now() + timedelta(hours=1), clock.now() + timedelta(hours=3)
    product = (await landscape.odoo_call("product.product", "search", [("default_code", "=", promo)]))[0]
    await landscape.odoo_call(
        "product.pricelist.item", "create",
        {"pricelist_id": landscape.pricelist, "applied_on": "0_product_variant", "product_id": product,
         "compute_price": "fixed", "fixed_price": 97.0, "date_start": format_datetime(starts),
         "date_end": format_datetime(ends)},
    )  # fmt: skip
    [window] = await service.capture.poll()
    assert window.status is ChangeSetStatus.SCHEDULED and window.effective_from is not None
    assert (await service.release.run_due()).published == []
    clock.advance(3600)
    assert (await service.release.run_due()).published == [window.id]
    assert await landscape.shown(promo) == (Decimal(97), Decimal(97))
    clock.advance(2 * 3600)
    assert (await service.release.run_due()).reverted == [window.id]
    assert await landscape.shown(promo) == (BASE, BASE)

    # Tampering with one audit row makes `channelhub audit verify` fail, naming that row.
    def verify() -> Result:  # the CLI runs its own event loop: call it from a thread
        return CliRunner().invoke(cli_app, ["audit", "verify", "--database", landscape.url])

    intact = await asyncio.to_thread(verify)
    assert intact.exit_code == 0, intact.output
    with landscape.engine.begin() as connection:
        connection.execute(sa.update(audit_log).where(audit_log.c.seq == 4).values(after='{"comment":"ok"}'))
    tampered = await asyncio.to_thread(verify)
    assert tampered.exit_code == 1 and "row 4" in tampered.output


async def test_cli_capture_approve_release_rollback_against_the_emulators(
    landscape: Landscape, tmp_path: Path
) -> None:
    """The CLI wires Odoo and both channels from a landscape file (`--config`) and the pricing file."""
    shopify, woo = landscape.shop.connector, landscape.web.connector
    config = tmp_path / "channelhub.yaml"
    config.write_text(
        f"""
version: 1
odoo: {{url: "{landscape.odoo.client.connection.url}", database: retail, login: admin, password: {{env: ODOO_PW}}}}
channels:
  - {{name: shop, kind: shopify, currency: EUR, shop_domain: pricing-test.myshopify.com,
      base_url: "{shopify.config.shop_url}", access_token: {{env: SHOP_TOKEN}}, client_secret: {{env: SHOP_SECRET}}}}
  - {{name: web, kind: woocommerce, currency: EUR, url: "{woo.client.base.removesuffix("/wp-json/wc/v3/")}",
      consumer_key: {{env: WOO_KEY}}, consumer_secret: {{env: WOO_SECRET}}, webhook_secret: {{env: WOO_HOOK}}}}
warehouses: [{{code: wh, feeds: [shop, web]}}]
database: {{url: "{landscape.url}"}}
""",
        encoding="utf-8",
    )
    channel = landscape.service.context.settings.channels["shop"]
    pricing = tmp_path / "pricing.yaml"
    pricing.write_text(
        f"""
policy: {{min_margin_percent: 10, max_auto_change_percent: 5}}
channels:
  shop: {{pricelist: {landscape.pricelist}, currency: {channel.currency}}}
  web: {{pricelist: {landscape.pricelist}, currency: {channel.currency}}}
users: {{alice: [price_approver], bob: [price_approver]}}
release: {{max_attempts: 2, retry_delay_s: 0.05}}
""",
        encoding="utf-8",
    )
    env = {
        "ODOO_PW": "admin", "SHOP_TOKEN": shopify.config.access_token, "SHOP_SECRET": shopify.config.api_secret or "",
        "WOO_KEY": WOO_KEY, "WOO_SECRET": WOO_SECRET, "WOO_HOOK": "hook-secret",
    }  # fmt: skip
    common = ["--config", str(config), "--pricing", str(pricing)]

    def cli(*args: str) -> Result:  # the CLI runs its own event loop: call it from a thread
        return CliRunner().invoke(cli_app, [*args, *common], env=env)

    cut = landscape.skus[0]
    await landscape.odoo_call(
        "product.pricelist.item", "write", [landscape.items[cut]], {"fixed_price": 60.0}
    )
    captured = await asyncio.to_thread(cli, "price", "capture")
    assert captured.exit_code == 0, captured.output
    [change_set] = json.loads(captured.stdout)
    assert change_set["status"] == "pending_approval"
    approved = await asyncio.to_thread(cli, "price", "approve", str(change_set["id"]), "--as", "alice")
    assert approved.exit_code == 0 and "scheduled" in approved.output
    released = await asyncio.to_thread(cli, "price", "release")
    assert released.exit_code == 0, released.output
    assert json.loads(released.stdout)["published"] == [change_set["id"]]
    assert await landscape.shown(cut) == (Decimal(60), Decimal(60))
    rolled = await asyncio.to_thread(
        cli, "price", "rollback", str(change_set["id"]), "--as", "bob", "--reason", "test"
    )
    assert rolled.exit_code == 0, rolled.output
    assert await landscape.shown(cut) == (BASE, BASE)
