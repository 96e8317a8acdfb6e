"""Sandbox-only endpoints (no auth, loopback tooling): storefront orders, stats, stock changes
behind channelhub's back, chaos knobs, and the webhook delivery log.

Also for benchmarks driving the emulator from another process: `read_quantities` (many SKUs'
`stock_quantity` in one call, with the host's monotonic clock), `write_quantities` (set them
directly, no webhook) and `add_webhook` (a subscription as an installer leaves it, no ping)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

from channelhub.sandbox.woocommerce.chaos import Chaos, HostLimiter
from channelhub.sandbox.woocommerce.errors import WPError
from channelhub.sandbox.woocommerce.params import to_enum, to_integer, to_string
from channelhub.sandbox.woocommerce.payloads import order_payload, product_payload, variation_payload
from channelhub.sandbox.woocommerce.scenario import ScenarioPlan, ScenarioRun, drive
from channelhub.sandbox.woocommerce.shop import Product, Shop
from channelhub.sandbox.woocommerce.webhooks import Webhook, WebhookDispatcher


class Storefront:
    def __init__(self, shop: Shop, dispatcher: WebhookDispatcher, chaos: Chaos, limiter: HostLimiter) -> None:
        self.shop = shop
        self.dispatcher = dispatcher
        self.chaos = chaos
        self.limiter = limiter
        self.scenario: ScenarioRun | None = None
        self._scenario_task: asyncio.Task[None] | None = None

    def start_scenario(self, body: Any) -> dict[str, Any]:
        """Start the traffic driver in the background (one at a time)."""
        if self.scenario is not None and not self.scenario.done:
            raise WPError("sandbox_scenario_running", "a scenario is already running", 409)
        self.scenario = ScenarioRun(ScenarioPlan.from_body(body))
        self._scenario_task = asyncio.get_running_loop().create_task(
            drive(self.shop, self.dispatcher, self.scenario)
        )
        return self.scenario.snapshot()

    def scenario_status(self) -> dict[str, Any]:
        if self.scenario is None:
            raise WPError("sandbox_no_scenario", "no scenario has been started", 404)
        return self.scenario.snapshot()

    def _item(self, line: dict[str, Any]) -> Product:
        if line.get("sku"):
            product = self.shop.by_sku(to_string("sku", line["sku"]))
        else:
            wanted = to_integer("variation_id", line["variation_id"]) if line.get("variation_id") else None
            wanted = wanted or to_integer("product_id", line.get("product_id", 0))
            product = self.shop.products.get(wanted)
        if product is None or product.type == "variable":
            raise WPError("woocommerce_rest_invalid_product_id", "Product ID provided is invalid.", 400)
        return product

    def place_order(self, body: Any, home: str) -> dict[str, Any]:
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("line_items"), list)
            or not body["line_items"]
        ):
            raise WPError("sandbox_invalid_order", "line_items must be a non-empty list", 400)
        wanted: list[tuple[Product, int]] = []
        for line in body["line_items"]:
            if not isinstance(line, dict):
                raise WPError("sandbox_invalid_order", "each line item must be an object", 400)
            quantity = to_integer("quantity", line.get("quantity", 1))
            if quantity < 1:
                raise WPError("sandbox_invalid_order", "quantity must be at least 1", 400)
            wanted.append((self._item(line), quantity))
        status = to_enum(
            "status", body.get("status", "processing"), ("pending", "processing", "on-hold", "completed")
        )
        billing: dict[str, Any] = body["billing"] if isinstance(body.get("billing"), dict) else {}
        order = self.shop.place_order(wanted, {k: str(v) for k, v in billing.items()}, status)
        self.dispatcher.emit("order.created", order.id)
        if order.stock_reduced:
            for product, _ in wanted:
                self.dispatcher.emit("product.updated", product.id)
        return order_payload(order, home)

    def change_stock(self, body: Any, home: str) -> dict[str, Any]:
        """An admin edit in wp-admin: set or adjust one SKU's stock; fires `product.updated`."""
        if not isinstance(body, dict) or not body.get("sku"):
            raise WPError("sandbox_invalid_stock", "sku is required", 400)
        product = self.shop.by_sku(to_string("sku", body["sku"]))
        if product is None:
            raise WPError("sandbox_unknown_sku", f"no product with SKU {body['sku']!r}", 404)
        if "stock_quantity" in body:
            product.manage_stock = True
            product.stock_quantity = to_integer("stock_quantity", body["stock_quantity"])
            self.shop.touch(product)
        elif "delta" in body:
            self.shop.adjust_stock(product, to_integer("delta", body["delta"]))
        else:
            raise WPError("sandbox_invalid_stock", "give stock_quantity or delta", 400)
        self.dispatcher.emit("product.updated", product.id)
        if product.type == "variation":
            return variation_payload(self.shop, product, home)
        return product_payload(self.shop, product, home)

    def _products_by_sku(self, skus: Any) -> dict[str, Product]:
        if not isinstance(skus, list | dict):
            raise WPError("sandbox_invalid_skus", "expected a list of SKUs", 400)
        found: dict[str, Product] = {}
        for raw in skus:
            sku = str(raw)
            product = self.shop.by_sku(sku)  # the shop's SKU index (kept up to date on every change)
            if product is not None:
                found[sku] = product
        return found

    def read_quantities(self, body: Any) -> dict[str, Any]:
        """`{"skus": [...]}` -> `{"monotonic": t, "quantities": {sku: stock_quantity}}`."""
        if not isinstance(body, dict):
            raise WPError("sandbox_invalid_skus", "expected {skus: [...]}", 400)
        products = self._products_by_sku(body.get("skus"))
        quantities = {sku: int(p.stock_quantity or 0) for sku, p in products.items()}
        return {"monotonic": time.monotonic(), "quantities": quantities}

    def write_quantities(self, body: Any) -> dict[str, Any]:
        """`{"quantities": {sku: n}}`: set stock directly (no webhook) -> `{"written": n}`."""
        wanted = body.get("quantities") if isinstance(body, dict) else None
        if not isinstance(wanted, dict):
            raise WPError("sandbox_invalid_stock", "expected {quantities: {sku: n}}", 400)
        products = self._products_by_sku(wanted)
        for sku, product in products.items():
            product.stock_quantity = to_integer("stock_quantity", wanted[sku])
            self.shop.touch(product)
        return {"written": len(products)}

    def add_webhook(self, body: Any) -> dict[str, Any]:
        """An active webhook as an installer leaves it (no ping): `{topic, delivery_url, secret,
        name?}`."""
        if not isinstance(body, dict) or not all(
            isinstance(body.get(key), str) and body[key] for key in ("topic", "delivery_url", "secret")
        ):
            raise WPError("sandbox_invalid_webhook", "topic, delivery_url and secret are required", 400)
        stamp = self.shop.now()
        webhook = Webhook(
            id=self.shop.next_id(),
            name=str(body.get("name") or f"sandbox {body['topic']}"),
            status="active",
            topic=body["topic"],
            delivery_url=body["delivery_url"],
            secret=body["secret"],
            date_created=stamp,
            date_modified=stamp,
            pending_delivery=False,
        )
        self.dispatcher.webhooks[webhook.id] = webhook
        return {"id": webhook.id, "topic": webhook.topic, "delivery_url": webhook.delivery_url}

    def stats(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self.shop.stats),
            "throttled_requests": self.limiter.throttled,
            "server_errors": self.limiter.server_errors,
            "webhooks_pending": self.dispatcher.pending(),
        }

    def set_chaos(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise WPError("sandbox_invalid_chaos", "expected a JSON object of knobs", 400)
        self.chaos.update(body)
        if "outage_seconds" in body:
            self.limiter.start_outage(self.chaos.outage_seconds, self.chaos.outage_after_s)
        return self.chaos_snapshot()

    def chaos_snapshot(self) -> dict[str, Any]:
        return {**self.chaos.snapshot(), "outage_left_s": round(self.limiter.outage_left(), 3)}

    def deliveries(self) -> list[dict[str, Any]]:
        return [dataclasses.asdict(record) for record in self.dispatcher.log]
