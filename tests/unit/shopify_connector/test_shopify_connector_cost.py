"""Cost estimation before sending, learning from `requestedQueryCost`, batch planning."""

from __future__ import annotations

from channelhub.connectors.shopify.cost import CostBook, estimate_cost
from channelhub.connectors.shopify.queries import CATALOG_PAGE, ITEM_LEVELS, SET_QUANTITIES


def test_static_estimate_follows_shopifys_rules() -> None:
    # productVariants(first: n) { nodes { product, inventoryItem { inventoryLevel { quantities } } } }:
    # connection 2 + n × (variant 1 + product 1 + item 1 + level 1 + quantities 1).
    assert estimate_cost(CATALOG_PAGE, {"first": 10}) == 2 + 10 * 5
    assert estimate_cost(CATALOG_PAGE, {"first": 199}) == 997
    assert estimate_cost(SET_QUANTITIES, {"input": {}}) == 10  # a mutation costs 10
    assert estimate_cost("query { shop { id name } }") == 1
    assert estimate_cost("this is not graphql") == 0


def test_page_size_is_planned_under_the_single_query_maximum() -> None:
    book = CostBook()
    size = book.largest_batch(
        "catalog", CATALOG_PAGE, budget=1000, variables_for=lambda n: {"first": n, "locationId": "x"}
    )
    assert size == 199  # 2 + 199 × 5 = 997 ≤ 1000 < 2 + 200 × 5


def test_one_observation_rescales_the_estimate() -> None:
    book = CostBook()
    variables = {"first": 100}
    # The server says a page of 100 costs 402 (4 per node, not 5): trust it, keep the shape.
    book.observe("catalog", CATALOG_PAGE, 100, variables, 402)
    assert book.predict("catalog", CATALOG_PAGE, 100, variables) == 402
    predicted = book.predict("catalog", CATALOG_PAGE, 200, {"first": 200})
    assert abs(predicted - 1002 * 402 / 502) < 1e-9


def test_two_observations_fit_a_line_for_batched_mutations() -> None:
    book = CostBook()
    # A server that charges 10 + 2 per quantity: learned, then used to size batches.
    book.observe("set", SET_QUANTITIES, 10, {}, 30)
    book.observe("set", SET_QUANTITIES, 50, {}, 110)
    assert book.predict("set", SET_QUANTITIES, 100, {}) == 210
    assert book.largest_batch("set", SET_QUANTITIES, budget=400) == 195
    assert book.largest_batch("set", SET_QUANTITIES, budget=10_000) == 250  # capped by the array limit


def test_flat_mutation_cost_allows_full_arrays() -> None:
    book = CostBook()
    book.observe("set", SET_QUANTITIES, 250, {}, 10)
    book.observe("set", SET_QUANTITIES, 17, {}, 10)
    assert book.largest_batch("set", SET_QUANTITIES, budget=50) == 250


def test_nodes_by_ids_estimate_counts_each_id() -> None:
    cost = estimate_cost(ITEM_LEVELS, {"ids": ["a", "b"], "locationId": "l"})
    assert cost >= 1  # an estimate only: the answer's requestedQueryCost replaces it
