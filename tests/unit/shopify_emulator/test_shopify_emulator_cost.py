"""Calculated query cost: Shopify's rules, requested vs actual, and the limits enforced before execution."""

from __future__ import annotations

from channelhub.sandbox.shopify.app import ShopifyEmulator

from .conftest import Gql


def cost(body: dict[str, object]) -> dict[str, object]:
    extensions = body["extensions"]
    assert isinstance(extensions, dict)
    result: dict[str, object] = extensions["cost"]
    return result


def test_object_costs_one_and_scalars_nothing(gql: Gql) -> None:
    _, body = gql("{ shop { id name email myshopifyDomain currencyCode } }")
    assert cost(body)["requestedQueryCost"] == 1
    assert cost(body)["actualQueryCost"] == 1


def test_connection_costs_two_plus_first_times_node(gql: Gql) -> None:
    _, body = gql("{ products(first: 10) { edges { node { id title } } pageInfo { hasNextPage } } }")
    assert cost(body)["requestedQueryCost"] == 2 + 10 * 1


def test_nested_connections_multiply(gql: Gql) -> None:
    query = (
        "{ products(first: 10) { edges { node { id variants(first: 5) { edges { node { id sku } } } } } } }"
    )
    _, body = gql(query)
    assert cost(body)["requestedQueryCost"] == 2 + 10 * (1 + 2 + 5 * 1)


def test_actual_cost_counts_returned_items_and_is_refunded(gql: Gql, emulator: ShopifyEmulator) -> None:
    # The shop has fewer products than asked for, so the actual cost is lower than requested.
    products = len(emulator.shop.products)
    _, body = gql("{ products(first: 100) { edges { node { id } } } }")
    assert cost(body)["requestedQueryCost"] == 102
    assert cost(body)["actualQueryCost"] == 2 + products
    status = cost(body)["throttleStatus"]
    assert isinstance(status, dict)
    assert status["currentlyAvailable"] == 2000 - (2 + products)


def test_nodes_field_and_edges_field_cost_the_same(gql: Gql) -> None:
    _, edges = gql("{ productVariants(first: 7) { edges { node { id } } } }")
    _, nodes = gql("{ productVariants(first: 7) { nodes { id } } }")
    assert cost(edges)["requestedQueryCost"] == cost(nodes)["requestedQueryCost"] == 9


def test_interface_takes_the_most_expensive_fragment(gql: Gql, emulator: ShopifyEmulator) -> None:
    product_id = next(iter(emulator.shop.products))
    query = (
        "query($id: ID!) { node(id: $id) { id ... on Product { title variants(first: 3) { nodes { id } } } "
        "... on Location { name } } }"
    )
    _, body = gql(query, {"id": f"gid://shopify/Product/{product_id}"})
    assert body["data"]["node"]["id"] == f"gid://shopify/Product/{product_id}"
    assert cost(body)["requestedQueryCost"] == 1 + 2 + 3


def test_mutation_costs_ten_whatever_it_selects(gql: Gql) -> None:
    mutation = (
        'mutation { webhookSubscriptionCreate(topic: ORDERS_CREATE, webhookSubscription: {uri: "https://example.com/h"})'
        " { webhookSubscription { id topic } userErrors { field message } } }"
    )
    _, body = gql(mutation)
    assert cost(body)["requestedQueryCost"] == 10
    assert cost(body)["actualQueryCost"] == 10


def test_query_over_max_cost_is_refused_without_charge(gql: Gql) -> None:
    query = (
        "{ products(first: 250) { edges { node { id variants(first: 250) { edges { node { id } } } } } } }"
    )
    status, body = gql(query)
    assert status == 200
    assert "data" not in body
    error = body["errors"][0]
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert error["extensions"]["maxCost"] == 1000
    assert error["extensions"]["cost"] == 2 + 250 * (1 + 2 + 250)
    assert error["message"].startswith(
        f"Query cost is {2 + 250 * 253}, which exceeds the single query max cost limit (1000)."
    )
    assert cost(body)["throttleStatus"]["currentlyAvailable"] == 2000  # type: ignore[index]


def test_page_size_above_250_is_refused(gql: Gql) -> None:
    _, body = gql("{ products(first: 251) { edges { node { id } } } }")
    assert body["errors"][0]["extensions"]["code"] == "argumentOutOfRange"
    assert body["errors"][0]["path"] == ["products"]
    assert "data" not in body


def test_connection_without_first_or_last_is_refused(gql: Gql) -> None:
    _, body = gql("{ orders { edges { node { id } } } }")
    assert body["errors"][0]["message"] == "you must provide one of first or last"


def test_page_size_from_variables_counts(gql: Gql) -> None:
    _, body = gql("query($n: Int!) { inventoryItems(first: $n) { nodes { id } } }", {"n": 40})
    assert cost(body)["requestedQueryCost"] == 42


def test_nodes_by_ids_cost_per_id_and_plain_lists_like_one_object(
    gql: Gql, emulator: ShopifyEmulator
) -> None:
    ids = [f"gid://shopify/InventoryItem/{i}" for i in list(emulator.shop.inventory_items)[:3]]
    location = f"gid://shopify/Location/{emulator.shop.primary_location.id}"
    query = (
        "query($ids: [ID!]!, $loc: ID!) { nodes(ids: $ids) { ... on InventoryItem { id "
        'inventoryLevel(locationId: $loc) { quantities(names: ["available", "on_hand", "committed"]) '
        "{ name quantity } } } } }"
    )
    _, body = gql(query, {"ids": ids, "loc": location})
    assert len(body["data"]["nodes"]) == 3
    # Each id: the node (1) + its inventory level (1) + the quantities list (1).
    assert cost(body)["requestedQueryCost"] == cost(body)["actualQueryCost"] == 3 * 3
