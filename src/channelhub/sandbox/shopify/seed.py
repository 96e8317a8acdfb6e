"""A reproducible starting shop: locations, products, variants and stock from a seed."""

from __future__ import annotations

import random
from decimal import Decimal

from channelhub.sandbox.shopify.state import (
    ON_HAND_PARTS,
    InventoryItem,
    InventoryLevel,
    Location,
    Product,
    Shop,
    ShopState,
    Variant,
    WallClock,
)


def seed_shop(
    *,
    seed: int,
    skus: int,
    clock: WallClock,
    shop_name: str = "channelhub-emulator",
    plan: str = "basic",
    locations: int = 2,
) -> ShopState:
    """A reproducible shop: `skus` variants spread over products, stocked at every location.

    About one variant in ten continues selling when out of stock and one in twenty is not
    tracked, so oversell behaviour can be exercised without setup.
    """
    rng = random.Random(seed)
    domain = f"{shop_name}.myshopify.com"
    state = ShopState(
        Shop(
            id=rng.randint(10_000_000, 99_999_999),
            name=shop_name.replace("-", " ").title(),
            domain=domain,
            email=f"owner@{domain}",
            currency="USD",
            plan=plan,
        ),
        clock,
    )
    created = clock.now()
    location_names = ["Main warehouse", "Downtown store", "Outlet", "Returns centre"]
    for index in range(max(1, locations)):
        location_id = state.new_id()
        name = location_names[index] if index < len(location_names) else f"Location {index + 1}"
        state.locations[location_id] = Location(id=location_id, name=name)
    made = 0
    product_number = 0
    while made < skus:
        product_number += 1
        product_id = state.new_id()
        title = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {product_number}"
        product = Product(
            id=product_id,
            title=title,
            handle=title.lower().replace(" ", "-"),
            vendor=rng.choice(_VENDORS),
            product_type=rng.choice(_NOUNS),
            status="ACTIVE",
            created_at=created,
            updated_at=created,
        )
        state.products[product_id] = product
        for position in range(1, min(rng.randint(1, 3), skus - made) + 1):
            made += 1
            variant_id = state.new_id()
            item_id = state.new_id()
            policy = "CONTINUE" if rng.random() < 0.1 else "DENY"
            tracked = rng.random() >= 0.05
            price = Decimal(rng.randint(500, 20_000)) / 100
            compare_at = (price * Decimal("1.25")).quantize(Decimal("0.01")) if rng.random() < 0.3 else None
            variant = Variant(
                id=variant_id,
                product_id=product_id,
                title=rng.choice(_SIZES) if position > 1 or rng.random() < 0.5 else "Default Title",
                sku=f"SKU-{made:05d}",
                price=price,
                compare_at_price=compare_at,
                inventory_policy=policy,
                inventory_item_id=item_id,
                position=position,
                created_at=created,
                updated_at=created,
                barcode=f"{rng.randint(10**11, 10**12 - 1)}",
            )
            item = InventoryItem(
                id=item_id, variant_id=variant_id, tracked=tracked, created_at=created, updated_at=created
            )
            state.add_variant(variant, item)
            product.variant_ids.append(variant_id)
            for location_id in state.locations:
                quantities = dict.fromkeys(ON_HAND_PARTS, 0)
                quantities["incoming"] = 0
                quantities["available"] = rng.randint(0, 50)
                state.add_level(
                    InventoryLevel(
                        item_id=item_id,
                        location_id=location_id,
                        quantities=quantities,
                        created_at=created,
                        updated_at=created,
                    )
                )
    return state


_ADJECTIVES = ["Classic", "Organic", "Merino", "Vintage", "Everyday", "Waterproof", "Linen", "Canvas"]
_NOUNS = ["Tee", "Hoodie", "Sneaker", "Backpack", "Cap", "Scarf", "Mug", "Notebook", "Jacket"]
_VENDORS = ["Northwind", "Acme Apparel", "Harbor & Co", "Fieldhouse"]
_SIZES = ["S", "M", "L", "XL"]
