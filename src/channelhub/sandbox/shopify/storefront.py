"""`/_sandbox/*`: the storefront (shoppers placing orders) and the operator's side doors.

- `POST /_sandbox/orders` places an order: `{"line_items": [{"sku": "SKU-00001", "quantity": 2}
  | {"variant_id": <n or gid>, "quantity": 1}], "financial_status": "paid", "email": "...",
  "customer": {"first_name": ..., "last_name": ...}, "shipping_address": {REST address keys}}`.
  409 when a tracked, DENY-policy variant lacks stock (nothing is sold); 201 with the REST order.
- `POST /_sandbox/orders/<id>/pay` marks a pending order paid (fires `orders/paid`).
- `GET /_sandbox/stats` counters (`orders`, `units_sold`, `oversold_units`, ...).
- `GET|POST /_sandbox/inventory` reads, or changes stock "behind the integration's back"
  (`{"sku": ..., "available": 5}` or `{"sku": ..., "delta": -2}`, optional `location_id`).
- `GET|POST /_sandbox/chaos` reads or partially updates the chaos knobs.
- `GET|POST /_sandbox/webhooks` lists delivery attempts, or adds a configured subscription.
- `GET /_sandbox/bulk/<id>.jsonl` serves a bulk operation's result file.
- `POST /_sandbox/quantities/read` `{"skus": [...], "location_id"?: n}` ->
  `{"monotonic": t, "quantities": {sku: available}}` in one call (benchmarks sample many SKUs;
  `monotonic` is the host's monotonic clock when read, unknown SKUs are left out).
- `POST /_sandbox/quantities/write` `{"quantities": {sku: available}, "location_id"?: n}` sets
  `available` directly: no event, no webhook (a benchmark's zero-latency oracle) -> `{"written": n}`.
- `POST /_sandbox/shoppers` runs a seeded burst of random checkouts: `{"orders": 500, "seed": 7,
  "skus": [...], "max_quantity": 3}` -> `{"placed": n, "refused": m}` (a flash sale in one call).
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from channelhub.sandbox.shopify import operations, payloads
from channelhub.sandbox.shopify.chaos import ChaosValueError
from channelhub.sandbox.shopify.relay import parse_gid
from channelhub.sandbox.shopify.shoppers import place_random_orders
from channelhub.sandbox.shopify.state import Address, InventoryLevel, Variant

if TYPE_CHECKING:
    from channelhub.sandbox.shopify.app import ShopifyEmulator


def _bad(message: str, status: int = 422) -> JSONResponse:
    return JSONResponse({"errors": message}, status_code=status)


async def _json_body(request: Request) -> dict[str, Any] | None:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _find_variant(emulator: ShopifyEmulator, raw: dict[str, Any]) -> Variant | None:
    shop = emulator.shop
    if "sku" in raw:
        return shop.variant_by_sku(str(raw["sku"]))
    variant_id = raw.get("variant_id")
    if isinstance(variant_id, str):
        variant_id = parse_gid(variant_id, "ProductVariant") or (
            int(variant_id) if variant_id.isdigit() else None
        )
    return shop.variants.get(variant_id) if isinstance(variant_id, int) else None


def routes(emulator: ShopifyEmulator) -> list[Route]:
    shop = emulator.shop

    async def place_order(request: Request) -> Response:
        body = await _json_body(request)
        if body is None or not isinstance(body.get("line_items"), list) or not body["line_items"]:
            return _bad("line_items: a non-empty list is required")
        status = body.get("financial_status", "paid")
        if status not in ("paid", "pending", "authorized"):
            return _bad("financial_status must be paid, pending or authorized")
        lines: list[operations.SaleLine] = []
        for index, raw in enumerate(body["line_items"]):
            if not isinstance(raw, dict):
                return _bad(f"line_items[{index}] must be an object")
            variant = _find_variant(emulator, raw)
            quantity = raw.get("quantity", 1)
            if variant is None:
                return _bad(f"line_items[{index}]: unknown sku or variant_id", 404)
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
                return _bad(f"line_items[{index}].quantity must be a positive integer")
            lines.append(operations.SaleLine(variant, quantity))
        raw_buyer = body.get("customer")
        buyer: dict[str, Any] = raw_buyer if isinstance(raw_buyer, dict) else {}
        email = body.get("email") or buyer.get("email")
        customer = None
        if email or buyer:
            customer = shop.customer_for(email, buyer.get("first_name"), buyer.get("last_name"))
        raw_address = body.get("shipping_address")
        address = None
        if isinstance(raw_address, dict):
            known = {f.name for f in dataclasses.fields(Address)}
            address = Address(**{k: str(v) for k, v in raw_address.items() if k in known and v is not None})
        try:
            order = operations.place_order(
                shop, lines, financial_status=status, email=email, customer=customer, shipping_address=address
            )
        except operations.OrderRefused as refused:
            return JSONResponse(
                {
                    "errors": {"line_items": [str(refused)]},
                    "sku": refused.sku,
                    "available": refused.available,
                },
                status_code=409,
            )
        with shop.lock:
            return JSONResponse({"order": payloads.order_payload(shop, order)}, status_code=201)

    async def pay_order(request: Request) -> Response:
        order = shop.orders.get(int(request.path_params["order_id"]))
        if order is None:
            return _bad("order not found", 404)
        operations.mark_paid(shop, order)
        return JSONResponse({"order": payloads.order_payload(shop, order)})

    async def stats(_request: Request) -> Response:
        body = dataclasses.asdict(shop.stats)
        body["webhooks_pending"] = emulator.webhooks.pending()
        body.update(emulator.webhooks.chaos_counts())
        body["throttle_status"] = emulator.bucket.status().as_json()
        return JSONResponse(body)

    async def inventory(request: Request) -> Response:
        if request.method == "GET":
            sku = request.query_params.get("sku")
            variants = [shop.variant_by_sku(sku)] if sku else list(shop.variants.values())
            return JSONResponse({"inventory": [_stock_row(emulator, v) for v in variants if v is not None]})
        body = await _json_body(request)
        if body is None or "sku" not in body:
            return _bad("sku is required")
        variant = shop.variant_by_sku(str(body["sku"]))
        if variant is None:
            return _bad("unknown sku", 404)
        location_id = body.get("location_id", shop.primary_location.id)
        if isinstance(location_id, str):
            location_id = parse_gid(location_id, "Location")
        level = shop.level(variant.inventory_item_id, location_id) if isinstance(location_id, int) else None
        if level is None:
            return _bad("the sku is not stocked at that location", 404)
        if isinstance(body.get("available"), int):
            delta = body["available"] - level.quantity("available")
        elif isinstance(body.get("delta"), int):
            delta = body["delta"]
        else:
            return _bad("give an integer available or delta")
        operations.change_quantity(shop, level, "available", delta)
        return JSONResponse(_stock_row(emulator, variant))

    async def chaos(request: Request) -> Response:
        if request.method == "POST":
            body = await _json_body(request)
            if body is None:
                return _bad("a JSON object of chaos settings is required", 400)
            try:
                emulator.chaos.update(body)
            except ChaosValueError as exc:
                return _bad(str(exc))
        return JSONResponse(emulator.chaos.settings.as_json())

    async def webhooks(request: Request) -> Response:
        if request.method == "POST":
            body = await _json_body(request)
            if body is None or not isinstance(body.get("topic"), str) or not isinstance(body.get("uri"), str):
                return _bad("topic and uri are required")
            subscription = emulator.subscribe(
                body["topic"], body["uri"], api_version=body.get("api_version", "2025-10"), from_config=True
            )
            return JSONResponse({"id": subscription.id, "topic": subscription.topic}, status_code=201)
        attempts = [dataclasses.asdict(a) for a in list(emulator.webhooks.attempts)]
        return JSONResponse({"attempts": attempts, "pending": emulator.webhooks.pending()})

    async def bulk_file(request: Request) -> Response:
        operation = shop.bulk_operations.get(int(request.path_params["operation_id"]))
        if operation is None or operation.result_jsonl is None:
            return PlainTextResponse("Not Found", status_code=404)
        return Response(operation.result_jsonl, media_type="application/jsonl")

    async def shoppers(request: Request) -> Response:
        body = await _json_body(request)
        if body is None:
            return _bad("a JSON object is required", 400)
        count, skus, seed = body.get("orders"), body.get("skus"), body.get("seed", emulator.settings.seed)
        max_quantity = body.get("max_quantity", 3)
        if not isinstance(count, int) or isinstance(count, bool) or not 0 < count <= 100_000:
            return _bad("orders must be an integer between 1 and 100000")
        if skus is not None and not (isinstance(skus, list) and all(isinstance(s, str) for s in skus)):
            return _bad("skus must be a list of strings")
        if not isinstance(seed, int) or not isinstance(max_quantity, int) or max_quantity < 1:
            return _bad("seed and max_quantity must be integers (max_quantity at least 1)")
        try:
            outcome = place_random_orders(
                shop, count, random.Random(seed), skus=skus, max_quantity=max_quantity
            )
        except ValueError as exc:
            return _bad(str(exc))
        return JSONResponse({"placed": outcome.placed, "refused": outcome.refused})

    def _levels(body: dict[str, Any], skus: Any) -> dict[str, InventoryLevel] | JSONResponse:
        location_id = body.get("location_id", shop.primary_location.id)
        if isinstance(location_id, str):
            location_id = parse_gid(location_id, "Location")
        if not isinstance(location_id, int):
            return _bad("location_id must be an id or a Location gid")
        found: dict[str, InventoryLevel] = {}
        for sku in skus:
            variant = shop.variant_by_sku(str(sku))
            level = shop.level(variant.inventory_item_id, location_id) if variant is not None else None
            if level is not None:
                found[str(sku)] = level
        return found

    async def read_quantities(request: Request) -> Response:
        body = await _json_body(request)
        if body is None or not isinstance(body.get("skus"), list):
            return _bad("skus: a list is required")
        with shop.lock:
            levels = _levels(body, body["skus"])
            if isinstance(levels, JSONResponse):
                return levels
            quantities = {sku: level.quantity("available") for sku, level in levels.items()}
            moment = time.monotonic()
        return JSONResponse({"monotonic": moment, "quantities": quantities})

    async def write_quantities(request: Request) -> Response:
        body = await _json_body(request)
        wanted = body.get("quantities") if body is not None else None
        if body is None or not isinstance(wanted, dict):
            return _bad("quantities: an object of sku -> available is required")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in wanted.values()):
            return _bad("quantities must be integers")
        with shop.lock:
            levels = _levels(body, wanted)
            if isinstance(levels, JSONResponse):
                return levels
            now = shop.now()
            for sku, level in levels.items():
                level.quantities["available"] = wanted[sku]
                level.updated_at = now
        return JSONResponse({"written": len(levels)})

    async def health(_request: Request) -> Response:
        return JSONResponse({"ok": True, "shop": shop.shop.domain})

    return [
        Route("/_sandbox/orders", place_order, methods=["POST"]),
        Route("/_sandbox/orders/{order_id:int}/pay", pay_order, methods=["POST"]),
        Route("/_sandbox/stats", stats, methods=["GET"]),
        Route("/_sandbox/inventory", inventory, methods=["GET", "POST"]),
        Route("/_sandbox/chaos", chaos, methods=["GET", "POST"]),
        Route("/_sandbox/webhooks", webhooks, methods=["GET", "POST"]),
        Route("/_sandbox/bulk/{operation_id:int}.jsonl", bulk_file, methods=["GET"]),
        Route("/_sandbox/shoppers", shoppers, methods=["POST"]),
        Route("/_sandbox/quantities/read", read_quantities, methods=["POST"]),
        Route("/_sandbox/quantities/write", write_quantities, methods=["POST"]),
        Route("/_sandbox/health", health, methods=["GET"]),
    ]


def _stock_row(emulator: ShopifyEmulator, variant: Variant) -> dict[str, Any]:
    shop = emulator.shop
    item = shop.inventory_items[variant.inventory_item_id]
    return {
        "sku": variant.sku,
        "variant_id": variant.id,
        "inventory_item_id": item.id,
        "tracked": item.tracked,
        "inventory_policy": variant.inventory_policy,
        "levels": [
            {
                "location_id": level.location_id,
                "available": level.quantity("available"),
                "committed": level.quantity("committed"),
                "on_hand": level.quantity("on_hand"),
            }
            for level in shop.levels_of_item(item.id)
        ],
    }
