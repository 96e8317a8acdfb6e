"""Sandbox-only endpoints (no auth, loopback tooling): storefront orders, stats, stock changes
behind channelhub's back, chaos knobs, and the webhook delivery log."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from channelhub.sandbox.woocommerce.chaos import Chaos, HostLimiter
from channelhub.sandbox.woocommerce.errors import WPError
from channelhub.sandbox.woocommerce.params import to_enum, to_integer, to_string
from channelhub.sandbox.woocommerce.payloads import order_payload, product_payload, variation_payload
from channelhub.sandbox.woocommerce.scenario import ScenarioPlan, ScenarioRun, drive
from channelhub.sandbox.woocommerce.shop import Product, Shop
from channelhub.sandbox.woocommerce.webhooks import WebhookDispatcher


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
