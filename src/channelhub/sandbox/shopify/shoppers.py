"""Scenario traffic: simulated shoppers placing orders through the storefront, seeded.

`place_random_orders` is deterministic for a given seed (tests and scenarios measure its
outcome, e.g. oversold units). `ShopperTraffic` runs the same thing on a background thread at a
steady rate in real time, for the sandbox and `channelhub emulate shopify --orders-per-second`.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from channelhub.sandbox.shopify.operations import OrderRefused, SaleLine, place_order
from channelhub.sandbox.shopify.state import Address, ShopState


@dataclass(frozen=True)
class TrafficOutcome:
    placed: int
    refused: int


def place_random_orders(
    shop: ShopState,
    count: int,
    rng: random.Random,
    *,
    skus: list[str] | None = None,
    max_lines: int = 3,
    max_quantity: int = 3,
    pending_share: float = 0.1,
) -> TrafficOutcome:
    """Place `count` checkout attempts over `skus` (default: every SKU); refused ones are counted."""
    catalog = [shop.variant_by_sku(sku) for sku in skus] if skus else list(shop.variants.values())
    variants = [v for v in catalog if v is not None]
    if not variants:
        raise ValueError("no variants to sell")
    placed = refused = 0
    for _ in range(count):
        chosen = rng.sample(variants, k=min(len(variants), rng.randint(1, max_lines)))
        lines = [SaleLine(variant, rng.randint(1, max_quantity)) for variant in chosen]
        status = "pending" if rng.random() < pending_share else "paid"
        number = rng.randint(1, 500)
        customer = shop.customer_for(f"shopper{number}@example.com", "Shopper", str(number))
        address = Address(
            first_name="Shopper",
            last_name=str(number),
            address1=f"{number} Main St",
            city="Springfield",
            zip=f"{10000 + number}",
            country_code="US",
        )
        try:
            place_order(
                shop,
                lines,
                financial_status=status,
                email=customer.email,
                customer=customer,
                shipping_address=address,
            )
            placed += 1
        except OrderRefused:
            refused += 1
    return TrafficOutcome(placed, refused)


class ShopperTraffic:
    """Orders at `orders_per_second` on a background thread until stopped."""

    def __init__(
        self, shop: ShopState, orders_per_second: float, seed: int, skus: list[str] | None = None
    ) -> None:
        if orders_per_second <= 0:
            raise ValueError("orders_per_second must be positive")
        self.shop = shop
        self.interval_s = 1.0 / orders_per_second
        self.rng = random.Random(seed)
        self.skus = skus
        self.placed = 0
        self.refused = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="shopify-shoppers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            outcome = place_random_orders(self.shop, 1, self.rng, skus=self.skus)
            self.placed += outcome.placed
            self.refused += outcome.refused
