"""One flash-sale emulator in its own OS process (`python -m channelhub.benchmarks.flash_sale_host`).

`flash_sale_world.running_world` starts three of these (Odoo, Shopify, WooCommerce) so the
emulators, the stream driver and the channelhub engine never share a GIL. Usage:

    python -m channelhub.benchmarks.flash_sale_host odoo|shopify|woocommerce CONFIG.json

`CONFIG.json` holds the `WorldSpec` fields (`spec`) and where the stock plan is written (Odoo
builds it from its seeded catalog: `plan_out`) or read (the shops: `plan_in`). The emulator is built
with the world's seed (identical in every arm), served by uvicorn on an ephemeral loopback port, and
its first (and only) line on stdout is `{"ready": true, "url": ..., ...access details}`. It serves
until its stdin closes (the parent exiting, even by a crash, closes it).

Everything the benchmark reads or changes goes over HTTP: the emulators' `/_sandbox/*` routes,
plus `GET /_sandbox/bench/calls` answered here (API calls counted, see `CallCounter`).
"""

from __future__ import annotations

import json
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from channelhub.benchmarks.flash_sale_world import (
    DRIVER_HEADER,
    MAIN_WAREHOUSE,
    ODOO_CODES,
    SECOND_WAREHOUSE,
    StockPlan,
    WorldSpec,
    plan_stock,
)

CALLS_PATH = "/_sandbox/bench/calls"


class CallCounter:
    """ASGI wrapper counting the API calls an arm makes (storefront/sandbox doors and the stream
    driver's own Odoo calls, marked with `X-Bench-Driver`, are not counted); answers
    `GET /_sandbox/bench/calls` with `{"calls": n}`."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path == CALLS_PATH:
                body = json.dumps({"calls": self.calls}).encode()
                headers = [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            if not path.startswith("/_sandbox") and not any(
                name == DRIVER_HEADER for name, _ in scope.get("headers", ())
            ):
                self.calls += 1
        await self.app(scope, receive, send)


# -- building each emulator's part of the world ------------------------------------------------
def _build_odoo(spec: WorldSpec, plan_out: Path) -> tuple[Any, dict[str, Any], Any]:
    from channelhub.sandbox.odoo import create_emulator
    from channelhub.sandbox.odoo.app import EmulatorSettings

    odoo = create_emulator(EmulatorSettings(version="17.0", seed=spec.seed, skus=spec.skus))
    products = odoo.database.model("product.product").rows
    product_ids = {str(row["default_code"]): rid for rid, row in products.items() if row.get("default_code")}
    plan = plan_stock(sorted(product_ids), spec)
    _place_odoo_stock(odoo, product_ids, plan)
    plan_out.write_text(json.dumps({"on_hand": plan.on_hand, "hot": plan.hot, "cold": plan.cold}))
    settings = odoo.settings
    access = {
        "db": settings.db,
        "login": settings.login,
        "password": settings.password,
        "version": settings.version,
    }
    return odoo.app, access, None


def _place_odoo_stock(odoo: Any, product_ids: dict[str, int], plan: StockPlan) -> None:
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


def _build_shopify(spec: WorldSpec, plan: StockPlan) -> tuple[Any, dict[str, Any], Any]:
    from channelhub.sandbox.shopify import ChaosSettings, EmulatorSettings, ShopifyEmulator
    from channelhub.sandbox.shopify.state import (
        ON_HAND_PARTS,
        InventoryItem,
        InventoryLevel,
        Product,
        Variant,
    )

    shopify = ShopifyEmulator(
        EmulatorSettings(
            seed=spec.seed,
            skus=0,
            plan=spec.shopify_plan,
            locations=1,
            webhook_time_scale=spec.shopify_webhook_time_scale,
            chaos=ChaosSettings(
                webhook_duplicate_rate=spec.shopify_duplicate_rate,
                webhook_reorder_rate=spec.shopify_reorder_rate,
            ),
        )
    )
    shop = shopify.shop
    location = shop.primary_location
    created = shop.now()
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
                price=price(number),
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
            shop.add_level(
                InventoryLevel(
                    item_id=item_id,
                    location_id=location.id,
                    quantities=quantities,
                    created_at=created,
                    updated_at=created,
                )
            )
    settings = shopify.settings
    access = {
        "shop_domain": shopify.shop_domain,
        "access_token": settings.access_token,
        "api_secret": settings.api_secret,
        "location_gid": f"gid://shopify/Location/{location.id}",
    }
    return shopify.app, access, None


def _build_woocommerce(spec: WorldSpec, plan: StockPlan) -> tuple[Any, dict[str, Any], Any]:
    from channelhub.sandbox.woocommerce.app import WooCommerceSettings, create_app
    from channelhub.sandbox.woocommerce.shop import Product

    woo = create_app(WooCommerceSettings(seed=spec.seed, skus=0))
    shop = woo.shop
    for number, sku in enumerate(sorted(plan.on_hand), start=1):
        shop.add_product(
            Product(
                id=shop.next_id(),
                name=f"Flash item {number:06d}",
                type="simple",
                sku=sku,
                regular_price=str(price(number)),
                stock_quantity=plan.ats(sku, {MAIN_WAREHOUSE, SECOND_WAREHOUSE}),
                backorders="no",
            )
        )
    access = {"consumer_key": woo.settings.consumer_key, "consumer_secret": woo.settings.consumer_secret}
    return woo, access, woo


def price(number: int) -> Decimal:
    return Decimal(10 + number % 90) + Decimal("0.99")


def read_plan(path: Path) -> StockPlan:
    raw = json.loads(path.read_text())
    return StockPlan(on_hand=raw["on_hand"], hot=raw["hot"], cold=raw["cold"])


def _serve(system: str, config: dict[str, Any], protocol: Any) -> None:
    from channelhub.sandbox.server import serve_in_thread

    spec = WorldSpec(**config["spec"])
    if system == "odoo":
        app, access, woo = _build_odoo(spec, Path(config["plan_out"]))
    elif system == "shopify":
        app, access, woo = _build_shopify(spec, read_plan(Path(config["plan_in"])))
    elif system == "woocommerce":
        app, access, woo = _build_woocommerce(spec, read_plan(Path(config["plan_in"])))
    else:
        raise SystemExit(f"unknown emulator {system!r}")
    with serve_in_thread(CallCounter(app)) as server:
        if woo is not None:
            woo.home = server.url + "/"
        protocol.write(json.dumps({"ready": True, "url": server.url, "pid": os.getpid(), **access}) + "\n")
        protocol.flush()
        sys.stdin.read()  # until the parent closes our stdin (or exits)


def main() -> None:
    # The ready line goes to the original stdout; anything else printed lands on stderr.
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    _serve(sys.argv[1], json.loads(Path(sys.argv[2]).read_text()), protocol)


if __name__ == "__main__":
    main()
