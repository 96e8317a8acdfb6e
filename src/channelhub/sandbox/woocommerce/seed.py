"""A reproducible catalog: simple products and variable products (sizes) with SKUs, prices, stock."""

from __future__ import annotations

import random

from channelhub.sandbox.woocommerce.shop import Product, Shop

SIZES = ("S", "M", "L")
GOODS = ("Tee", "Hoodie", "Cap", "Mug", "Sock", "Tote", "Scarf", "Beanie", "Poster", "Notebook")


def seed_catalog(shop: Shop, seed: int, skus: int) -> None:
    """Create products until `skus` sellable SKUs exist (simple products and variations)."""
    rng = random.Random(seed)
    made = 0
    number = 0
    while made < skus:
        number += 1
        name = f"{rng.choice(GOODS)} {number:05d}"
        price = f"{rng.randint(5, 120)}.{rng.choice(('00', '50', '99'))}"
        if skus - made >= len(SIZES) and rng.random() < 0.3:
            parent = shop.add_product(
                Product(
                    id=shop.next_id(),
                    name=name,
                    type="variable",
                    sku=f"SKU-{number:05d}",
                    regular_price="",
                    manage_stock=False,
                    stock_quantity=None,
                    attributes=[
                        {
                            "id": 0,
                            "name": "Size",
                            "position": 0,
                            "visible": True,
                            "variation": True,
                            "options": list(SIZES),
                        }
                    ],
                )
            )
            for size in SIZES:
                shop.add_product(
                    Product(
                        id=shop.next_id(),
                        name=f"{name} - {size}",
                        type="variation",
                        sku=f"SKU-{number:05d}-{size}",
                        regular_price=price,
                        stock_quantity=rng.randint(0, 40),
                        parent_id=parent.id,
                        backorders="notify" if rng.random() < 0.1 else "no",
                        attributes=[{"id": 0, "name": "Size", "option": size}],
                    )
                )
            made += len(SIZES)
        else:
            shop.add_product(
                Product(
                    id=shop.next_id(),
                    name=name,
                    type="simple",
                    sku=f"SKU-{number:05d}",
                    regular_price=price,
                    stock_quantity=rng.randint(0, 40),
                    backorders="notify" if rng.random() < 0.1 else "no",
                )
            )
            made += 1
