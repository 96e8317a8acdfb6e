"""`channelhub sandbox`: Odoo, Shopify and WooCommerce emulators plus the engine and API on loopback.

Start-up, in order:

1. the Odoo emulator (17.0) is seeded with `skus` products over three warehouses (WH, EAST, WEST);
   a seeded few of them are made *hot*: low stock, where a flash sale oversells first;
2. the Odoo stock is read once through channelhub's own ERP gateway and the Shopify and
   WooCommerce emulators are seeded with the same SKUs, each showing the SKU's available-to-sell
   (every warehouse feeds both channels, shared pool, no safety stock: ATS = free stock);
3. the engine starts (SQLite in the work directory, snapshot of Odoo, reconciliation that
   acknowledges what the channels already show) and the API listens;
4. channelhub's webhook URLs are registered in the three emulators (Shopify subscriptions, a
   WooCommerce webhook through its REST API, an Odoo automation rule on `stock.quant`);
5. pricing governance starts (one Odoo pricelist the channels follow, a price approver);
6. a dashboard user is ensured (admin, printed and written into the endpoints file);
7. the endpoints file is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import secrets
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from channelhub.bootstrap import Runtime, RuntimeSettings
from channelhub.config import Landscape, load_config, low_stock_fence_yaml
from channelhub.sandbox.server import RunningServer, free_port, serve_in_thread

if TYPE_CHECKING:
    from channelhub.api.security import SecurityStore
    from channelhub.sandbox.pricing_setup import PricingSandbox
    from channelhub.sandbox.scenarios.flash_sale import FlashSaleTarget

ODOO_DB, ODOO_LOGIN, ODOO_PASSWORD = "retail", "admin", "admin"
SHOPIFY_CHANNEL, WOO_CHANNEL = "shopify", "woocommerce"
WAREHOUSES = (("wh", "WH"), ("east", "EAST"), ("west", "WEST"))
SHOPIFY_API_VERSION = "2025-10"
SHOPIFY_TOPICS = ("orders/create", "orders/updated", "orders/paid", "orders/cancelled")
WOO_TOPICS = ("order.created", "order.updated")
DASHBOARD_USER = "sandbox"


@dataclass
class SandboxSettings:
    skus: int = 200
    seed: int = 1
    work_dir: Path | None = None  # None: a temporary directory, removed at exit
    api_port: int | None = None  # None: a free port
    hot_skus: int | None = None  # None: 5 % of the catalog (at least 3)
    database_url: str | None = None  # None: SQLite in the work directory; postgresql://: own schema
    shopify_plan: str = "basic"
    pricing: bool = True  # pricing governance (pricelist, approver, release tick)
    fence_below: int | None = None  # the low-stock fence between both channels (None: shared stock)
    runtime: RuntimeSettings = field(default_factory=RuntimeSettings)


@dataclass
class Catalog:
    """The seeded SKUs: sellable units per SKU and per warehouse (free = on hand - reserved - hold)."""

    by_warehouse: dict[str, dict[str, int]]  # sku -> warehouse -> free units
    hot: list[str]

    @property
    def skus(self) -> list[str]:
        return sorted(self.by_warehouse)

    def sellable(self, sku: str) -> int:
        return max(0, sum(self.by_warehouse.get(sku, {}).values()))


@dataclass
class Emulators:
    odoo: Any  # sandbox.odoo.OdooEmulator
    shopify: Any  # sandbox.shopify.ShopifyEmulator
    woocommerce: Any  # sandbox.woocommerce.WooCommerceEmulator
    odoo_server: RunningServer
    shopify_server: RunningServer
    woocommerce_server: RunningServer


def _lower_hot_stock(odoo: Any, hot_count: int, seed: int) -> None:
    """Make `hot_count` seeded products scarce (0-4 units per location) before anything reads them."""
    models = odoo.database.registry.models
    products = sorted(models["product.product"].rows)
    rng = random.Random(seed * 7919 + 1)
    hot_ids = set(rng.sample(products, min(hot_count, len(products))))
    for row in models["stock.quant"].rows.values():
        if row.get("product_id") in hot_ids:
            row["quantity"] = float(rng.randint(0, 4))


def start_emulators(settings: SandboxSettings, stack: contextlib.ExitStack) -> Emulators:
    """Odoo (seeded, hot SKUs scarce) and two empty channel shops, each served on loopback."""
    from channelhub.sandbox.odoo import EmulatorSettings as OdooSettings
    from channelhub.sandbox.odoo import create_emulator
    from channelhub.sandbox.shopify import EmulatorSettings as ShopifySettings
    from channelhub.sandbox.shopify import ShopifyEmulator
    from channelhub.sandbox.woocommerce.app import WooCommerceSettings
    from channelhub.sandbox.woocommerce.app import create_app as create_woocommerce

    odoo = create_emulator(
        OdooSettings(
            version="17.0",
            db=ODOO_DB,
            login=ODOO_LOGIN,
            password=ODOO_PASSWORD,
            seed=settings.seed,
            skus=settings.skus,
        )
    )
    _lower_hot_stock(odoo, settings.hot_skus or max(3, settings.skus // 20), settings.seed)
    shopify = ShopifyEmulator(
        ShopifySettings(
            seed=settings.seed, skus=0, plan=settings.shopify_plan, locations=1, webhook_time_scale=0.01
        )
    )
    woocommerce = create_woocommerce(WooCommerceSettings(seed=settings.seed, skus=0))
    odoo_server = stack.enter_context(serve_in_thread(odoo.app))
    shopify_server = stack.enter_context(serve_in_thread(shopify.app))
    woo_server = stack.enter_context(serve_in_thread(woocommerce))
    woocommerce.home = f"{woo_server.url}/"
    return Emulators(odoo, shopify, woocommerce, odoo_server, shopify_server, woo_server)


def shopify_location_gid(emulators: Emulators) -> str:
    return f"gid://shopify/Location/{emulators.shopify.shop.primary_location.id}"


def sandbox_landscape(
    emulators: Emulators,
    work_dir: Path,
    api_port: int,
    database_url: str | None = None,
    fence_below: int | None = None,
) -> tuple[Landscape, Path]:
    """The landscape of the sandbox (shared pool, no safety stock, every warehouse feeds both;
    with `fence_below`, the low-stock fence between the two channels at equal weights), written to
    `work_dir/channelhub.yaml` with its secrets in `work_dir/secrets/` so the CLI
    (`channelhub reconcile --config ...`) can use the same file."""
    database_url = database_url or f"sqlite:///{work_dir / 'channelhub.db'}"
    shopify, woo = emulators.shopify, emulators.woocommerce
    channels = f"[{SHOPIFY_CHANNEL}, {WOO_CHANNEL}]"
    fence = low_stock_fence_yaml(fence_below, (SHOPIFY_CHANNEL, WOO_CHANNEL))
    warehouses = "\n".join(
        f"  - {{code: {code}, name: {odoo_code}, odoo_code: {odoo_code}, feeds: {channels}}}"
        for code, odoo_code in WAREHOUSES
    )
    text = f"""
version: 1
odoo:
  url: {emulators.odoo_server.url}
  database: {ODOO_DB}
  login: {ODOO_LOGIN}
  protocol: jsonrpc
  version: "17.0"
  password: {{file: secrets/odoo_password}}
  max_concurrency: 4
channels:
  - name: {SHOPIFY_CHANNEL}
    kind: shopify
    currency: USD
    shop_domain: {shopify.shop_domain}
    base_url: {emulators.shopify_server.url}
    api_version: "{SHOPIFY_API_VERSION}"
    plan: standard
    access_token: {{file: secrets/shopify_token}}
    client_secret: {{file: secrets/shopify_secret}}
    locations: {{wh: "{shopify_location_gid(emulators)}"}}
  - name: {WOO_CHANNEL}
    kind: woocommerce
    currency: USD
    url: {emulators.woocommerce_server.url}
    consumer_key: {{file: secrets/woo_key}}
    consumer_secret: {{file: secrets/woo_secret}}
    webhook_secret: {{file: secrets/woo_webhook_secret}}
    orders_poll_interval_s: 2  # webhooks go out one at a time and fall behind in a flash sale
warehouses:
{warehouses}
safety_stock:
  default: {{units: 0}}
{fence}database:
  url: {database_url}
api:
  host: 127.0.0.1
  port: {api_port}
"""
    environ = {
        "ODOO_PASSWORD": ODOO_PASSWORD,
        "SHOPIFY_TOKEN": shopify.settings.access_token,
        "SHOPIFY_SECRET": shopify.settings.api_secret,
        "WOO_KEY": woo.settings.consumer_key,
        "WOO_SECRET": woo.settings.consumer_secret,
        "WOO_WEBHOOK_SECRET": WOO_HOOK_SECRET,
    }
    secrets_dir = work_dir / "secrets"
    secrets_dir.mkdir(parents=True, exist_ok=True)
    for name, value in environ.items():
        secret = secrets_dir / name.lower()
        secret.write_text(value, encoding="utf-8")
        secret.chmod(0o600)
    path = work_dir / "channelhub.yaml"
    path.write_text(text.lstrip(), encoding="utf-8")
    return load_config(path), path


WOO_HOOK_SECRET = "sandbox-woocommerce-webhook-secret"


async def read_catalog(landscape: Landscape, hot_limit: int) -> Catalog:
    """Every SKU's free units per warehouse, read through channelhub's ERP gateway."""
    from channelhub.service.adapters.factory import erp_gateway, odoo_connector

    connector = odoo_connector(landscape.odoo)
    await connector.connect()
    gateway = erp_gateway(landscape, partner_id=0, connector=connector)
    try:
        read = await gateway.read_stock(None)
    finally:
        await gateway.aclose()
    by_warehouse: dict[str, dict[str, int]] = {sku: {} for sku in read.skus}
    for row in read.rows:
        free = row.on_hand - row.reserved - row.hold
        per = by_warehouse.setdefault(row.sku, {})
        per[row.warehouse] = per.get(row.warehouse, 0) + free
    catalog = Catalog(by_warehouse, [])
    scarce = sorted((catalog.sellable(s), s) for s in catalog.skus if catalog.sellable(s) > 0)
    catalog.hot = [sku for _, sku in scarce[:hot_limit]]
    return catalog


def seed_channels(emulators: Emulators, catalog: Catalog) -> None:
    """The same SKUs in both shops, each showing the SKU's sellable units."""
    from channelhub.sandbox.shopify.state import InventoryItem, InventoryLevel, Product, Variant
    from channelhub.sandbox.woocommerce.shop import Product as WooProduct

    shop = emulators.shopify.shop
    location = shop.primary_location.id
    now = shop.now()
    with shop.lock:
        for sku in catalog.skus:
            product_id, variant_id, item_id = shop.new_id(), shop.new_id(), shop.new_id()
            shop.products[product_id] = Product(
                product_id,
                f"Product {sku}",
                sku.lower(),
                "channelhub",
                "Sandbox",
                "ACTIVE",
                now,
                now,
                [variant_id],
            )
            shop.add_variant(
                Variant(
                    variant_id,
                    product_id,
                    "Default Title",
                    sku,
                    Decimal("20.00"),
                    None,
                    "DENY",
                    item_id,
                    1,
                    now,
                    now,
                ),
                InventoryItem(item_id, variant_id, True, now, now),
            )
            quantities = {"available": catalog.sellable(sku), "committed": 0, "incoming": 0}
            shop.add_level(InventoryLevel(item_id, location, quantities, now, now))
    woo = emulators.woocommerce.shop
    for sku in catalog.skus:
        woo.add_product(
            WooProduct(
                id=woo.next_id(),
                name=f"Product {sku}",
                type="simple",
                sku=sku,
                regular_price="20.00",
                stock_quantity=catalog.sellable(sku),
                date_created=woo.now(),
                date_modified=woo.now(),
            )
        )


async def register_webhooks(
    emulators: Emulators, landscape: Landscape, hub_url: str, odoo_token: str
) -> None:
    """Point every emulator's webhooks at channelhub."""
    from channelhub.connectors.woocommerce import WooCommerceClient, WooCommerceConnector
    from channelhub.sandbox.odoo import WebhookRule

    for topic in SHOPIFY_TOPICS:
        emulators.shopify.subscribe(topic, f"{hub_url}/webhooks/shopify", api_version=SHOPIFY_API_VERSION)
    emulators.odoo.webhooks.add_rule(
        WebhookRule(
            model="stock.quant",
            url=f"{hub_url}/webhooks/odoo?token={odoo_token}",
            fields=["product_id", "location_id", "quantity", "reserved_quantity"],
            # On-hand changes only (receipts, counts, deliveries): reservations of channel orders
            # are channelhub's own doing and reach it through the reservation check.
            trigger="on_create_or_write",
            trigger_fields=["quantity"],
        )
    )
    woo = emulators.woocommerce.settings
    async with WooCommerceClient(
        emulators.woocommerce_server.url, woo.consumer_key, woo.consumer_secret
    ) as client:
        connector = WooCommerceConnector(client)
        for topic in WOO_TOPICS:
            await connector.ensure_webhook(topic, f"{hub_url}/webhooks/woocommerce", WOO_HOOK_SECRET)


def endpoints(emulators: Emulators, runtime: Runtime) -> dict[str, Any]:
    shopify, woo = emulators.shopify.settings, emulators.woocommerce.settings
    return {
        "odoo": {
            "url": emulators.odoo_server.url,
            "db": ODOO_DB,
            "login": ODOO_LOGIN,
            "password": ODOO_PASSWORD,
        },
        "shopify": {
            "url": emulators.shopify_server.url,
            "token": shopify.access_token,
            "api_version": SHOPIFY_API_VERSION,
        },
        "woocommerce": {
            "url": emulators.woocommerce_server.url,
            "key": woo.consumer_key,
            "secret": woo.consumer_secret,
        },
        "channelhub": {"url": runtime.url, "token": runtime.settings.api_token},
    }


def ensure_dashboard_user(security: SecurityStore) -> str:
    """The sandbox's dashboard login (admin role) with a fresh password: `ensure_user` resets an
    existing user, so a reused work directory prints working credentials too."""
    from channelhub.api.security import Role

    password = secrets.token_urlsafe(12)
    security.ensure_user(DASHBOARD_USER, password, Role.ADMIN)
    return password


class Sandbox:
    """`async with Sandbox(settings) as sandbox:` everything runs; `sandbox.endpoints` says where."""

    def __init__(self, settings: SandboxSettings | None = None) -> None:
        self.settings = settings or SandboxSettings()
        self._stack = contextlib.ExitStack()
        self.emulators: Emulators | None = None
        self.runtime: Runtime | None = None
        self.catalog: Catalog | None = None
        self.landscape: Landscape | None = None
        self.config_path: Path | None = None
        self.endpoints: dict[str, Any] = {}
        self.started_at: datetime | None = None
        self.pricing: PricingSandbox | None = None

    async def __aenter__(self) -> Sandbox:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        settings = self.settings
        self.started_at = datetime.now(UTC)
        work_dir = settings.work_dir
        if work_dir is None:
            work_dir = Path(
                self._stack.enter_context(tempfile.TemporaryDirectory(prefix="channelhub-sandbox-"))
            )
        work_dir.mkdir(parents=True, exist_ok=True)
        self.emulators = emulators = start_emulators(settings, self._stack)
        port = settings.api_port or free_port()
        if settings.database_url is not None:
            from channelhub.store.db import isolated_schema

            schema = self._stack.enter_context(isolated_schema(settings.database_url, prefix="sandbox"))
            settings.runtime.database_schema = schema
        self.landscape, self.config_path = sandbox_landscape(
            emulators, work_dir, port, settings.database_url, settings.fence_below
        )
        landscape = self.landscape
        self.catalog = catalog = await read_catalog(
            landscape, settings.hot_skus or max(3, settings.skus // 20)
        )
        seed_channels(emulators, catalog)
        runtime_settings = settings.runtime
        runtime_settings.api_port = port
        runtime_settings.reconcile_on_start = True
        runtime_settings.odoo_webhook_token = runtime_settings.odoo_webhook_token or secrets.token_urlsafe(16)
        self.runtime = runtime = Runtime(landscape, runtime_settings)
        await runtime.start()
        await register_webhooks(emulators, landscape, runtime.url, runtime_settings.odoo_webhook_token)
        if settings.pricing:
            from channelhub.sandbox.pricing_setup import emulator_price_aligner, setup_pricing

            self.pricing = await setup_pricing(
                landscape,
                runtime.require_engine(),
                runtime.channels,
                skus=catalog.skus,
                handle=runtime.pricing_handle,
                security=runtime.security,
                work_dir=work_dir,
                align_channels=emulator_price_aligner(emulators),
            )
        self.endpoints = endpoints(emulators, runtime)
        self.endpoints["config"] = str(self.config_path)
        if runtime.security is not None:
            password = await asyncio.to_thread(ensure_dashboard_user, runtime.security)
            self.endpoints["channelhub"].update(dashboard_user=DASHBOARD_USER, dashboard_password=password)
        if self.pricing is not None:
            self.pricing.add_to(self.endpoints)

    def write_endpoints(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.endpoints, indent=2) + "\n", encoding="utf-8")

    async def stop(self) -> None:
        if self.pricing is not None:
            await self.pricing.stop()
            self.pricing = None
        if self.runtime is not None and self.runtime.started:
            await self.runtime.stop()
        self._stack.close()


def channel_quantities(emulators: Emulators) -> Callable[[str, Sequence[str]], dict[str, int]]:
    """What each shop shows per SKU, read from the emulators' records (no API calls)."""
    shop, woo = emulators.shopify.shop, emulators.woocommerce.shop
    location = shop.primary_location.id

    def shown(channel: str, skus: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for sku in skus:
            if channel == SHOPIFY_CHANNEL:
                variant = shop.variant_by_sku(sku)
                level = shop.level(variant.inventory_item_id, location) if variant is not None else None
                if level is not None:
                    found[sku] = level.quantity("available")
            elif channel == WOO_CHANNEL:
                product = woo.by_sku(sku)
                if product is not None and product.stock_quantity is not None:
                    found[sku] = product.stock_quantity
        return found

    return shown


def flash_sale_target(sandbox: Sandbox) -> FlashSaleTarget:
    """The sandbox as a flash-sale target: its storefronts, its Odoo, channelhub's warehouse switch."""
    from channelhub.sandbox.scenarios.flash_sale import ChannelShop, FlashSaleTarget
    from channelhub.sandbox.scenarios.odoo_rpc import OdooAccess

    emulators, runtime, catalog = sandbox.emulators, sandbox.runtime, sandbox.catalog
    assert emulators is not None and runtime is not None and catalog is not None

    async def offline(code: str) -> None:
        await runtime.set_warehouse(code, "offline", reason="flash sale: warehouse feed down", by="sandbox")

    return FlashSaleTarget(
        channels=[
            ChannelShop(SHOPIFY_CHANNEL, emulators.shopify_server.url, "shopify"),
            ChannelShop(WOO_CHANNEL, emulators.woocommerce_server.url, "woocommerce"),
        ],
        odoo=OdooAccess(emulators.odoo_server.url, ODOO_DB, ODOO_LOGIN, ODOO_PASSWORD),
        stock=catalog.by_warehouse,
        hot_skus=catalog.hot,
        channel_quantities=channel_quantities(emulators),
        take_warehouse_offline=offline,
        order_warehouse="wh",
        odoo_warehouse_codes=dict(WAREHOUSES),
        fence_below=sandbox.settings.fence_below,
    )
