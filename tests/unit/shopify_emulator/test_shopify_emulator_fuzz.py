"""Whatever arrives, the endpoint answers in Shopify's shapes and never with an internal error."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from channelhub.clock import ManualClock
from channelhub.sandbox.shopify.app import ShopifyEmulator
from channelhub.sandbox.shopify.settings import EmulatorSettings

from .conftest import TOKEN

EMULATOR = ShopifyEmulator(
    EmulatorSettings(
        skus=5,
        access_token=TOKEN,
        clock=ManualClock(),
        deliver_webhooks=False,
        bucket_size=1e12,
        restore_rate=1e12,
    )
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)

FRAGMENTS = [
    "{ shop { id } }",
    "mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { userErrors { code } } }",
    "mutation($input: InventoryAdjustQuantitiesInput!) { inventoryAdjustQuantities(input: $input) { userErrors { code } } }",
    "mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) { userErrors { message } } }",
    "mutation($input: RefundInput!) { refundCreate(input: $input) { userErrors { message } } }",
    "mutation($p: ID!, $v: [ProductVariantsBulkInput!]!) { productVariantsBulkUpdate(productId: $p, variants: $v) { userErrors { code } } }",
    "query($q: String, $n: Int) { productVariants(first: $n, query: $q) { nodes { sku } } }",
    "query($id: ID!) { node(id: $id) { id } }",
]


def _check(reply_status: int, body: Any) -> None:
    assert reply_status in (200, 400), (reply_status, body)
    assert isinstance(body, dict) and ("errors" in body or "data" in body)
    for error in body.get("errors") or []:
        if isinstance(error, dict):
            assert error.get("extensions", {}).get("code") != "INTERNAL_SERVER_ERROR", error


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    query=st.sampled_from(FRAGMENTS),
    variables=st.dictionaries(
        st.sampled_from(["input", "f", "p", "v", "q", "n", "id"]), json_values, max_size=4
    ),
)
def test_known_documents_with_arbitrary_variables(query: str, variables: dict[str, Any]) -> None:
    raw = json.dumps({"query": query, "variables": variables}).encode()
    reply = EMULATOR.endpoint.handle("2026-10", TOKEN, raw, "http://x")
    _check(reply.status, reply.body)


@settings(max_examples=80, deadline=None)
@given(body=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_arbitrary_bodies(body: bytes) -> None:
    reply = EMULATOR.endpoint.handle("2025-10", TOKEN, body, "http://x")
    _check(reply.status, reply.body)


@settings(max_examples=80, deadline=None)
@given(query=st.text(alphabet="{}()[]:$!@.,\"' abcdefghijklmnopqrstuvwxyz0123456789_\n", max_size=80))
def test_arbitrary_query_text(query: str) -> None:
    reply = EMULATOR.endpoint.handle("2025-10", TOKEN, json.dumps({"query": query}).encode(), "http://x")
    _check(reply.status, reply.body)


gids = st.builds(
    lambda kind, n: f"gid://shopify/{kind}/{n}",
    st.sampled_from(["InventoryItem", "Location", "Product", "ProductVariant", "Order", "LineItem"]),
    st.integers(min_value=0, max_value=2_000_000),
) | st.text(max_size=12)
# Mostly real items and locations, so valid and invalid quantities mix in one request.
real_items = st.sampled_from([f"gid://shopify/InventoryItem/{i}" for i in EMULATOR.shop.inventory_items])
real_locations = st.sampled_from([f"gid://shopify/Location/{i}" for i in EMULATOR.shop.locations])
quantities = st.fixed_dictionaries(
    {
        "inventoryItemId": st.one_of(real_items, real_items, real_items, gids),
        "locationId": st.one_of(real_locations, real_locations, real_locations, gids),
        "quantity": st.integers(-100, 1000) | st.integers(-(2**31), 2**31 - 1),
    },
    optional={"changeFromQuantity": st.none() | st.none() | st.integers(-(2**31), 2**31 - 1)},
)


def _stock() -> dict[tuple[int, int], dict[str, int]]:
    return {key: dict(level.quantities) for key, level in EMULATOR.shop.levels.items()}


@settings(max_examples=100, deadline=None)
@given(
    name=st.sampled_from(["available", "available", "on_hand", "committed"]),
    reason=st.sampled_from(["correction", "received", "correction", "nope"]),
    items=st.lists(quantities, max_size=5),
)
def test_inventory_sets_are_all_or_nothing(name: str, reason: str, items: list[dict[str, Any]]) -> None:
    before = _stock()
    variables = {"input": {"name": name, "reason": reason, "quantities": items}}
    raw = json.dumps({"query": FRAGMENTS[1], "variables": variables}).encode()
    reply = EMULATOR.endpoint.handle("2026-10", TOKEN, raw, "http://x")
    _check(reply.status, reply.body)
    payload = (reply.body.get("data") or {}).get("inventorySetQuantities")
    if payload is None or payload["userErrors"]:
        event("refused")
        assert _stock() == before
    else:
        event("applied")
        for quantity in items:
            item = int(quantity["inventoryItemId"].rsplit("/", 1)[1])
            location = int(quantity["locationId"].rsplit("/", 1)[1])
            assert EMULATOR.shop.levels[(item, location)].quantity(name) == quantity["quantity"]
