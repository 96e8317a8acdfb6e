"""One benchmark arm's world: fresh Odoo, Shopify and WooCommerce emulators on loopback with the
same catalog, controlled stock and the landscape file that points channelhub at them.

Stock layout (chosen so "the true available-to-sell" is unambiguous, see `flash_sale_truth`):

* two warehouses feed both channels, both shared 100 %, no safety stock, no packs:
  `wh` (Odoo `WH`, where sale orders reserve) and `east` (Odoo `EAST`, taken offline mid-sale);
* hot SKUs (the flash-sale items, ~1 %) hold a little stock, all of it in `WH/Stock`;
* every other SKU holds 40-80 units in `WH/Stock` and 0-40 in `EAST/Stock`;
* every channel starts showing exactly that ATS (the worlds start in sync).

The emulators are built with the same seed in every arm, so every arm faces the same shop.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from channelhub.config import Landscape, parse_config
from channelhub.sandbox.odoo import OdooEmulator
from channelhub.sandbox.odoo import create_emulator as create_odoo
from channelhub.sandbox.odoo.app import EmulatorSettings as OdooSettings
from channelhub.sandbox.server import serve_in_thread
from channelhub.sandbox.shopify import ChaosSettings as ShopifyChaos
from channelhub.sandbox.shopify import EmulatorSettings as ShopifySettings
from channelhub.sandbox.shopify import ShopifyEmulator
from channelhub.sandbox.shopify.state import ON_HAND_PARTS, InventoryItem, InventoryLevel, Product, Variant
from channelhub.sandbox.woocommerce.app import WooCommerceEmulator, WooCommerceSettings
from channelhub.sandbox.woocommerce.app import create_app as create_woocommerce
from channelhub.sandbox.woocommerce.shop import Product as WooProduct

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
    shopify_duplicate_rate: float = 0.05
    shopify_reorder_window_s: float = 0.06  # ~5 % of neighbouring deliveries swap at 25 orders/s
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


class CallCounter:
    """ASGI wrapper counting the API calls an arm makes (storefront/sandbox doors and the stream
    driver's own Odoo calls, marked with `X-Bench-Driver`, are not counted)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and not scope["path"].startswith("/_sandbox")
            and not any(name == DRIVER_HEADER for name, _ in scope.get("headers", ()))
        ):
            self.calls += 1
        await self.app(scope, receive, send)


@dataclass
class World:
    """Running emulators and what channelhub needs to reach them."""

    spec: WorldSpec
    odoo: OdooEmulator
    shopify: ShopifyEmulator
    woocommerce: WooCommerceEmulator
    urls: dict[str, str]
    plan: StockPlan
    shopify_location_gid: str
    counters: dict[str, CallCounter] = field(default_factory=dict)
    _woo_by_sku: dict[str, WooProduct] = field(default_factory=dict)
    _shopify_levels: dict[str, InventoryLevel] = field(default_factory=dict)

    # -- what a channel stores right now (in-process, no API call) -----------------------------
    def shown(self, channel: str, sku: str) -> int:
        if channel == SHOPIFY:
            return self._shopify_levels[sku].quantity("available")
        product = self._woo_by_sku[sku]
        return int(product.stock_quantity or 0)

    def woocommerce_product_id(self, sku: str) -> int:
        return self._woo_by_sku[sku].id

    def set_shown(self, channel: str, sku: str, quantity: int) -> None:
        """Write a channel's quantity directly (the oracle's zero-latency path)."""
        if channel == SHOPIFY:
            shop = self.shopify.shop
            with shop.lock:
                level = self._shopify_levels[sku]
                level.quantities["available"] = quantity
                level.updated_at = shop.now()
        else:
            product = self._woo_by_sku[sku]
            product.stock_quantity = quantity
            self.woocommerce.shop.touch(product)

    def landscape(self, database_url: str) -> Landscape:
        """The landscape file channelhub would be given for this world."""
        return parse_config(self.landscape_yaml(database_url), environ=self.secrets())

    def secrets(self) -> dict[str, str]:
        return {
            "ODOO_PASSWORD": self.odoo.settings.password,
            "SHOPIFY_TOKEN": self.shopify.settings.access_token,
            "SHOPIFY_SECRET": self.shopify.settings.api_secret,
            "WOO_KEY": self.woocommerce.settings.consumer_key,
            "WOO_SECRET": self.woocommerce.settings.consumer_secret,
            "WOO_WEBHOOK_SECRET": WOO_WEBHOOK_SECRET,
        }

    def landscape_yaml(self, database_url: str) -> str:
        return f"""
version: 1
odoo:
  url: {self.urls["odoo"]}
  database: {self.odoo.settings.db}
  login: {self.odoo.settings.login}
  password: {{env: ODOO_PASSWORD}}
  version: "{self.odoo.settings.version}"
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


def _odoo_skus(odoo: OdooEmulator) -> dict[str, int]:
    products = odoo.database.model("product.product").rows
    return {str(row["default_code"]): rid for rid, row in products.items() if row.get("default_code")}


def _place_odoo_stock(odoo: OdooEmulator, product_ids: dict[str, int], plan: StockPlan) -> None:
    """Replace the seeded quants by the plan (before anything listens: no webhooks to fire)."""
    database = odoo.database
    quants = database.model("stock.quant")
    locations = database.model("stock.location").rows
    stock_location = {
        wh: next(rid for rid, row in locations.items() if row.get("complete_name") == f"{code}/Stock")
        for wh, code in ODOO_CODES.items()
    }
    with database.env() as env:
        for rid in list(quants.rows):
            quants.remove(env, rid)
        now = env.now()
        defaults = quants.default_get(env, list(quants.fields))
        stored = [name for name, fld in quants.fields.items() if fld.store and name != "id"]
        base = {name: defaults.get(name, False) for name in stored}
        base.update(create_date=now, write_date=now, create_uid=env.uid, write_uid=env.uid)
        for sku, per_warehouse in plan.on_hand.items():
            for wh, units in per_warehouse.items():
                if units:
                    quants.insert(
                        None,
                        {
                            **base,
                            "product_id": product_ids[sku],
                            "location_id": stock_location[wh],
                            "quantity": float(units),
                            "reserved_quantity": 0.0,
                            "in_date": now,
                        },
                    )


def _add_shopify_catalog(shopify: ShopifyEmulator, plan: StockPlan) -> dict[str, InventoryLevel]:
    shop = shopify.shop
    location = shop.primary_location
    created = shop.now()
    levels: dict[str, InventoryLevel] = {}
    with shop.lock:
        for number, sku in enumerate(sorted(plan.on_hand), start=1):
            product_id, variant_id, item_id = shop.new_id(), shop.new_id(), shop.new_id()
            title = f"Flash item {number:06d}"
            shop.products[product_id] = Product(
                id=product_id,
                title=title,
                handle=title.lower().replace(" ", "-"),
                vendor="Flash",
                product_type="Item",
                status="ACTIVE",
                created_at=created,
                updated_at=created,
            )
            variant = Variant(
                id=variant_id,
                product_id=product_id,
                title="Default Title",
                sku=sku,
                price=_price(number),
                compare_at_price=None,
                inventory_policy="DENY",
                inventory_item_id=item_id,
                position=1,
                created_at=created,
                updated_at=created,
                barcode=None,
            )
            shop.add_variant(variant, InventoryItem(id=item_id, variant_id=variant_id, tracked=True,
                                                    created_at=created, updated_at=created))  # fmt: skip
            shop.products[product_id].variant_ids.append(variant_id)
            quantities = dict.fromkeys(ON_HAND_PARTS, 0)
            quantities["incoming"] = 0
            quantities["available"] = plan.ats(sku, {MAIN_WAREHOUSE, SECOND_WAREHOUSE})
            level = InventoryLevel(
                item_id=item_id,
                location_id=location.id,
                quantities=quantities,
                created_at=created,
                updated_at=created,
            )
            shop.add_level(level)
            levels[sku] = level
    return levels


def _add_woocommerce_catalog(woo: WooCommerceEmulator, plan: StockPlan) -> dict[str, WooProduct]:
    shop = woo.shop
    products: dict[str, WooProduct] = {}
    for number, sku in enumerate(sorted(plan.on_hand), start=1):
        products[sku] = shop.add_product(
            WooProduct(
                id=shop.next_id(),
                name=f"Flash item {number:06d}",
                type="simple",
                sku=sku,
                regular_price=str(_price(number)),
                stock_quantity=plan.ats(sku, {MAIN_WAREHOUSE, SECOND_WAREHOUSE}),
                backorders="no",
            )
        )
    return products


def _price(number: int) -> Any:
    from decimal import Decimal

    return Decimal(10 + number % 90) + Decimal("0.99")


@contextlib.contextmanager
def running_world(spec: WorldSpec) -> Iterator[World]:
    """Build and serve the three emulators; stop them on exit."""
    odoo = create_odoo(OdooSettings(version="17.0", seed=spec.seed, skus=spec.skus))
    product_ids = _odoo_skus(odoo)
    plan = plan_stock(sorted(product_ids), spec)
    _place_odoo_stock(odoo, product_ids, plan)
    shopify = ShopifyEmulator(
        ShopifySettings(
            seed=spec.seed,
            skus=0,
            plan=spec.shopify_plan,
            locations=1,
            webhook_time_scale=spec.shopify_webhook_time_scale,
            chaos=ShopifyChaos(
                webhook_duplicate_rate=spec.shopify_duplicate_rate,
                webhook_reorder_window_s=spec.shopify_reorder_window_s,
            ),
        )
    )
    levels = _add_shopify_catalog(shopify, plan)
    woo = create_woocommerce(WooCommerceSettings(seed=spec.seed, skus=0))
    woo_products = _add_woocommerce_catalog(woo, plan)
    location_gid = f"gid://shopify/Location/{shopify.shop.primary_location.id}"
    counters = {
        "odoo": CallCounter(odoo.app),
        SHOPIFY: CallCounter(shopify.app),
        WOOCOMMERCE: CallCounter(woo),
    }
    with (
        serve_in_thread(counters["odoo"]) as odoo_server,
        serve_in_thread(counters[SHOPIFY]) as shopify_server,
        serve_in_thread(counters[WOOCOMMERCE]) as woo_server,
    ):
        woo.home = woo_server.url + "/"
        yield World(
            spec=spec,
            odoo=odoo,
            shopify=shopify,
            woocommerce=woo,
            urls={"odoo": odoo_server.url, "shopify": shopify_server.url, "woocommerce": woo_server.url},
            plan=plan,
            shopify_location_gid=location_gid,
            counters=counters,
            _woo_by_sku=woo_products,
            _shopify_levels=levels,
        )


def utc_now() -> datetime:
    return datetime.now(UTC)
