"""Shopify's search syntax and Relay pagination over the emulated records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from channelhub.clock import ManualClock
from channelhub.sandbox.shopify import operations
from channelhub.sandbox.shopify.app import ShopifyEmulator
from channelhub.sandbox.shopify.relay import parse_search

from .conftest import Gql


def test_parse_groups_or_of_and_terms() -> None:
    parsed = parse_search("sku:A OR sku:B status:active -vendor:Acme")
    assert parsed is not None
    assert [[(t.negated, t.field, t.value) for t in g] for g in parsed.groups] == [
        [(False, "sku", "A")],
        [(False, "sku", "B"), (False, "status", "active"), (True, "vendor", "Acme")],
    ]
    assert parsed.exact_values("sku") is None
    only_skus = parse_search("sku:A OR sku:'B 2'")
    assert only_skus is not None and only_skus.exact_values("sku") == {"A", "B 2"}
    assert parse_search("   ") is None


def test_sku_filter_on_variants_and_inventory_items(gql: Gql) -> None:
    _, variants = gql(
        '{ productVariants(first: 10, query: "sku:SKU-00002 OR sku:SKU-00007") { nodes { sku } } }'
    )
    assert [n["sku"] for n in variants["data"]["productVariants"]["nodes"]] == ["SKU-00002", "SKU-00007"]
    _, items = gql('{ inventoryItems(first: 10, query: "sku:SKU-00007") { nodes { sku } } }')
    assert [n["sku"] for n in items["data"]["inventoryItems"]["nodes"]] == ["SKU-00007"]
    _, prefix = gql('{ productVariants(first: 50, query: "sku:SKU-0001*") { nodes { sku } } }')
    assert [n["sku"] for n in prefix["data"]["productVariants"]["nodes"]] == [
        "SKU-00010",
        "SKU-00011",
        "SKU-00012",
    ]
    _, products = gql(
        '{ products(first: 5, query: "sku:SKU-00007") { nodes { variants(first: 5) { nodes { sku } } } } }'
    )
    skus = [v["sku"] for p in products["data"]["products"]["nodes"] for v in p["variants"]["nodes"]]
    assert "SKU-00007" in skus


def test_forward_and_backward_pages(gql: Gql, emulator: ShopifyEmulator) -> None:
    all_ids = [f"gid://shopify/ProductVariant/{v}" for v in emulator.shop.variants]
    _, first = gql(
        "{ productVariants(first: 5) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } } }"
    )
    page = first["data"]["productVariants"]
    assert [e["node"]["id"] for e in page["edges"]] == all_ids[:5]
    assert (page["pageInfo"]["hasNextPage"], page["pageInfo"]["hasPreviousPage"]) == (True, False)
    _, second = gql(
        "query($c: String) { productVariants(first: 5, after: $c) { nodes { id } pageInfo { hasPreviousPage } } }",
        {"c": page["pageInfo"]["endCursor"]},
    )
    assert [n["id"] for n in second["data"]["productVariants"]["nodes"]] == all_ids[5:10]
    assert second["data"]["productVariants"]["pageInfo"]["hasPreviousPage"] is True
    _, last = gql("{ productVariants(last: 3) { nodes { id } } }")
    assert [n["id"] for n in last["data"]["productVariants"]["nodes"]] == all_ids[-3:]
    _, reverse = gql("{ productVariants(first: 2, reverse: true) { nodes { id } } }")
    assert [n["id"] for n in reverse["data"]["productVariants"]["nodes"]] == all_ids[::-1][:2]


def test_bad_cursor_is_a_graphql_error(gql: Gql) -> None:
    _, body = gql('{ products(first: 5, after: "not-a-cursor") { nodes { id } } }')
    assert body["errors"][0]["message"] == "Invalid cursor for current pagination sort."


def test_orders_updated_since(gql: Gql, emulator: ShopifyEmulator, clock: ManualClock) -> None:
    variant = next(iter(emulator.shop.variants.values()))
    variant.inventory_policy = "CONTINUE"
    old = operations.place_order(emulator.shop, [operations.SaleLine(variant, 1)])
    clock.advance(3600)
    new = operations.place_order(emulator.shop, [operations.SaleLine(variant, 1)])
    since = (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=30)).isoformat()
    query = "query($q: String) { orders(first: 10, query: $q, sortKey: UPDATED_AT) { nodes { id } } }"
    _, body = gql(query, {"q": f"updated_at:>'{since}'"})
    assert [n["id"] for n in body["data"]["orders"]["nodes"]] == [f"gid://shopify/Order/{new.id}"]
    _, body = gql(query, {"q": "updated_at:>=2026-01-01T00:00:00Z"})
    assert [n["id"] for n in body["data"]["orders"]["nodes"]] == [
        f"gid://shopify/Order/{old.id}",
        f"gid://shopify/Order/{new.id}",
    ]
    _, body = gql(query, {"q": "financial_status:paid status:open"})
    assert len(body["data"]["orders"]["nodes"]) == 2


def test_webhook_subscriptions_query_filters_by_topic(gql: Gql, emulator: ShopifyEmulator) -> None:
    emulator.subscribe("orders/create", "https://example.com/a")
    emulator.subscribe("INVENTORY_LEVELS_UPDATE", "https://example.com/b")
    _, body = gql(
        "{ webhookSubscriptions(first: 10, topics: [INVENTORY_LEVELS_UPDATE]) { nodes { topic uri endpoint { ... on WebhookHttpEndpoint { callbackUrl } } } } }"
    )
    assert body["data"]["webhookSubscriptions"]["nodes"] == [
        {
            "topic": "INVENTORY_LEVELS_UPDATE",
            "uri": "https://example.com/b",
            "endpoint": {"callbackUrl": "https://example.com/b"},
        }
    ]
