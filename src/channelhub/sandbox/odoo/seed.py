"""Deterministic retail data for a seed: catalog with variants, barcodes and packs, warehouses, stock, prices.

Rows are inserted directly (no per-record business hooks) so 50,000 products and 200,000 quants
load in seconds; the result is what the same data created through RPC would look like.
"""

from __future__ import annotations

import random
from typing import Any

from channelhub.sandbox.odoo.database import OdooDatabase
from channelhub.sandbox.odoo.model import BaseModel
from channelhub.sandbox.odoo.orm import Env

ADJECTIVES = (
    "Classic",
    "Urban",
    "Trail",
    "Cozy",
    "Summit",
    "Coastal",
    "Studio",
    "Heritage",
    "Nordic",
    "Everyday",
)
NOUNS = (
    "Tee",
    "Hoodie",
    "Jacket",
    "Sneaker",
    "Backpack",
    "Mug",
    "Lamp",
    "Blanket",
    "Bottle",
    "Cap",
    "Scarf",
    "Socks",
)
SIZES = ("S", "M", "L", "XL")
COLORS = ("Black", "White", "Red", "Blue", "Green")
CITIES = (
    ("Brussels", "BE"),
    ("Lyon", "FR"),
    ("Berlin", "DE"),
    ("Austin", "US"),
    ("Toronto", "CA"),
    ("Lisbon", "PT"),
    ("Osaka", "JP"),
    ("Denver", "US"),
)
EXTRA_WAREHOUSES = (("East Hub", "EAST"), ("West Hub", "WEST"))


def ean13(number: int) -> str:
    """A valid EAN-13 in the 20-29 in-store range (never collides with real GTINs)."""
    body = f"2{number:011d}"[:12]
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _bulk(model: BaseModel, env: Env, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows with defaults filled, bypassing hooks (fast path for seeding)."""
    defaults = {name: value for name, value in model.default_get(env, list(model.fields)).items()}
    stored = [name for name, fld in model.fields.items() if fld.store and name != "id"]
    now = env.now()
    base = {
        name: defaults.get(name, [] if model.fields[name].type == "many2many" else False) for name in stored
    }
    base.update(create_date=now, write_date=now, create_uid=env.uid, write_uid=env.uid)
    return [model.insert(None, {**base, **row}) for row in rows]


def seed_catalog(database: OdooDatabase, *, seed: int, skus: int) -> dict[str, int]:
    """Generate `skus` product variants and their stock; returns counts per model."""
    rng = random.Random(seed)
    models = database.registry.models
    version = database.version
    with database.env() as env:
        countries = {row["code"]: rid for rid, row in models["res.country"].rows.items()}
        locations = _warehouses(database, env)
        categories = [
            models["product.category"].create_record(env, {"name": name, "parent_id": 2})
            for name in ("Apparel", "Footwear", "Home", "Accessories")
        ]
        size_attr = models["product.attribute"].create_record(env, {"name": "Size"})
        color_attr = models["product.attribute"].create_record(env, {"name": "Color"})
        partners = _bulk(models["res.partner"], env, [
            {"name": f"Customer {i:05d}", "complete_name": f"Customer {i:05d}", "customer_rank": 1, "is_company": i % 4 == 0, "company_type": "company" if i % 4 == 0 else "person",
             "email": f"customer{i:05d}@example.com", "city": city, "country_id": countries[country], "ref": f"C{i:05d}"}
            for i in range(1, max(20, skus // 100) + 1)
            for city, country in (rng.choice(CITIES),)
        ])  # fmt: skip
        storable = (
            {"type": "consu", "is_storable": True}
            if version.storable_is_flag
            else {"type": "product", "detailed_type": "product"}
        )
        templates: list[dict[str, Any]] = []
        variants: list[tuple[int, list[str]]] = []  # (template index, [value names])
        while len(variants) < skus:
            index = len(templates)
            price = round(rng.uniform(5, 200), 0) - 0.01
            templates.append({
                "name": f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {index + 1:05d}", "list_price": price,
                "categ_id": rng.choice(categories), "sale_ok": True, "invoice_policy": "order", **storable,
            })  # fmt: skip
            shape = rng.choice(("single", "single", "sizes", "colors", "both"))
            sizes = list(SIZES[: rng.randint(2, 4)])
            colors = rng.sample(COLORS, rng.randint(2, 3))
            combos: dict[str, list[list[str]]] = {
                "single": [[]], "sizes": [[s] for s in sizes], "colors": [[c] for c in colors],
                "both": [[c, s] for c in colors for s in sizes],
            }  # fmt: skip
            for combo in combos[shape][: skus - len(variants)]:
                variants.append((index, combo))
        template_ids = _bulk(models["product.template"], env, templates)
        value_ids: dict[tuple[int, str], int] = {}
        value_rows: list[dict[str, Any]] = []
        for template_index, combo in variants:
            for value in combo:
                key = (template_index, value)
                if key not in value_ids:
                    value_ids[key] = -1
                    value_rows.append({"name": value, "attribute_id": size_attr if value in SIZES else color_attr,
                                       "product_tmpl_id": template_ids[template_index], "price_extra": 2.0 if value == "XL" else 0.0})  # fmt: skip
        for row, rid in zip(
            value_rows, _bulk(models["product.template.attribute.value"], env, value_rows), strict=True
        ):
            value_ids[(_template_index(template_ids, row["product_tmpl_id"]), row["name"])] = rid
        product_rows = []
        for number, (template_index, combo) in enumerate(variants, start=1):
            suffix = "-".join(v[:3].upper() for v in combo)
            cost = round(templates[template_index]["list_price"] * rng.uniform(0.35, 0.6), 2)
            product_rows.append({
                "product_tmpl_id": template_ids[template_index], "default_code": f"SKU-{number:06d}" + (f"-{suffix}" if suffix else ""),
                "barcode": ean13(number), "standard_price": cost,
                "product_template_attribute_value_ids": [value_ids[(template_index, v)] for v in combo],
            })  # fmt: skip
        product_ids = _bulk(models["product.product"], env, product_rows)
        if version.has_packaging:
            packs = [
                {"name": "Pack of 6", "product_id": pid, "product_tmpl_id": product_rows[i]["product_tmpl_id"], "qty": 6.0,
                 "barcode": ean13(50_000_000 + i), "sequence": 1, "sales": True}
                for i, pid in enumerate(product_ids) if i % 10 == 0
            ]  # fmt: skip
            _bulk(models["product.packaging"], env, packs)
        quants = []
        now = env.now()
        for pid in product_ids:
            for location in rng.sample(locations, min(4, len(locations))):
                quants.append({"product_id": pid, "location_id": location, "quantity": float(rng.randint(0, 120)),
                               "reserved_quantity": 0.0, "in_date": now})  # fmt: skip
        _bulk(models["stock.quant"], env, quants)
        _pricelists(database, env, rng, product_ids, template_ids)
    return {"product.product": len(product_ids), "stock.quant": len(quants), "res.partner": len(partners)}


def _template_index(template_ids: list[int], template_id: int) -> int:
    # template ids are consecutive, so the index is an offset (avoids a 50k-long list.index)
    return template_id - template_ids[0]


def _warehouses(database: OdooDatabase, env: Env) -> list[int]:
    """2 more warehouses; each gets shelves, a quality-hold and an active output location."""
    models = database.registry.models
    warehouses = models["stock.warehouse"]
    for name, code in EXTRA_WAREHOUSES:
        warehouses.create_record(env, {"name": name, "code": code})
    locations = models["stock.location"]
    stock_locations: list[int] = []
    for row in list(warehouses.rows.values()):
        stock = row["lot_stock_id"]
        stock_locations.append(stock)
        for shelf in ("Shelf 1", "Shelf 2"):
            stock_locations.append(
                locations.create_record(env, {"name": shelf, "usage": "internal", "location_id": stock})
            )
        stock_locations.append(
            locations.create_record(
                env, {"name": "Quality Hold", "usage": "internal", "location_id": row["view_location_id"]}
            )
        )
        locations.write(env, [row["wh_output_stock_loc_id"]], {"active": True})
    return stock_locations


def _pricelists(
    database: OdooDatabase, env: Env, rng: random.Random, product_ids: list[int], template_ids: list[int]
) -> None:
    models = database.registry.models
    pricelists = models["product.pricelist"]
    items = models["product.pricelist.item"]
    wholesale = pricelists.create_record(env, {"name": "Wholesale", "sequence": 5})
    promo = pricelists.create_record(env, {"name": "Summer Promo", "sequence": 10})
    year = env.today()[:4]
    rows = []
    for pid in product_ids[:: max(1, len(product_ids) // 500)]:
        product = models["product.product"].rows[pid]
        list_price = models["product.template"].rows[product["product_tmpl_id"]]["list_price"]
        rows.append({"pricelist_id": wholesale, "applied_on": "0_product_variant", "product_id": pid,
                     "compute_price": "fixed", "fixed_price": round(list_price * 0.8, 2), "min_quantity": 10.0})  # fmt: skip
        rows.append({"pricelist_id": promo, "applied_on": "0_product_variant", "product_id": pid, "compute_price": "fixed",
                     "fixed_price": round(list_price * rng.uniform(0.6, 0.9), 2),
                     "date_start": f"{year}-06-01 00:00:00", "date_end": f"{year}-08-31 23:59:59"})  # fmt: skip
    rows.append(
        {
            "pricelist_id": wholesale,
            "applied_on": "3_global",
            "compute_price": "percentage",
            "percent_price": 10.0,
        }
    )
    _bulk(items, env, rows)
    if template_ids:
        items.create_record(
            env,
            {
                "pricelist_id": promo,
                "applied_on": "1_product",
                "product_tmpl_id": template_ids[0],
                "compute_price": "fixed",
                "fixed_price": 1.0,
            },
        )
