"""A storefront traffic driver: shoppers place orders at a steady rate, most of them on a few hot
SKUs (a flash sale), so scenarios can measure refused and oversold orders while channelhub syncs."""

from __future__ import annotations

import asyncio
import random
from dataclasses import asdict, dataclass, field
from typing import Any

from channelhub.sandbox.woocommerce.errors import WPError
from channelhub.sandbox.woocommerce.params import to_integer
from channelhub.sandbox.woocommerce.shop import Product, Shop
from channelhub.sandbox.woocommerce.webhooks import WebhookDispatcher


@dataclass
class ScenarioPlan:
    orders: int = 100
    rate_per_s: float = 20.0
    hot_skus: int = 5
    hot_share: float = 0.8  # share of orders that go to the hot SKUs
    max_quantity: int = 3
    seed: int = 1

    @classmethod
    def from_body(cls, body: Any) -> ScenarioPlan:
        if not isinstance(body, dict):
            raise WPError("sandbox_invalid_scenario", "expected a JSON object", 400)
        plan = cls()
        for name in ("orders", "hot_skus", "max_quantity", "seed"):
            if name in body:
                setattr(plan, name, to_integer(name, body[name]))
        for name in ("rate_per_s", "hot_share"):
            if name in body:
                value = body[name]
                if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                    raise WPError("sandbox_invalid_scenario", f"{name} must be a positive number", 400)
                setattr(plan, name, float(value))
        if plan.orders < 1 or plan.max_quantity < 1 or plan.hot_skus < 1 or plan.hot_share > 1:
            raise WPError(
                "sandbox_invalid_scenario", "orders, hot_skus, max_quantity >= 1; hot_share <= 1", 400
            )
        return plan


@dataclass
class ScenarioRun:
    plan: ScenarioPlan
    placed: int = 0
    refused: int = 0
    done: bool = False
    errors: list[str] = field(default_factory=list)

    def snapshot(self) -> dict[str, Any]:
        return {"plan": asdict(self.plan), "placed": self.placed, "refused": self.refused, "done": self.done}


async def drive(shop: Shop, dispatcher: WebhookDispatcher, run: ScenarioRun) -> None:
    """Place `plan.orders` storefront orders at `plan.rate_per_s`; refusals (no stock) are counted."""
    plan = run.plan
    rng = random.Random(plan.seed)
    sellable: list[Product] = sorted(
        (p for p in shop.products.values() if p.type != "variable" and p.status == "publish"),
        key=lambda p: p.id,
    )
    if not sellable:
        run.done = True
        return
    hot = sellable[: plan.hot_skus]
    for _ in range(plan.orders):
        product = rng.choice(hot) if rng.random() < plan.hot_share else rng.choice(sellable)
        try:
            order = shop.place_order(
                [(product, rng.randint(1, plan.max_quantity))], {"email": "shopper@example.com"}, "processing"
            )
        except WPError:
            run.refused += 1
        else:
            run.placed += 1
            dispatcher.emit("order.created", order.id)
            dispatcher.emit("product.updated", product.id)
        await asyncio.sleep(1 / plan.rate_per_s)
    run.done = True
