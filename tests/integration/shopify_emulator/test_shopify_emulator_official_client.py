"""The official `ShopifyAPI` package, unchanged, runs Shopify's documented operations against the emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from channelhub.sandbox.shopify.app import ShopifyEmulator

Execute = Callable[..., dict[str, Any]]

SHOP_QUERY = "{ shop { id name myshopifyDomain currencyCode } }"

INVENTORY_BY_SKU = """
query InventoryBySku($query: String!) {
  productVariants(first: 5, query: $query) {
    edges {
      node {
        id
        sku
        inventoryItem {
          id
          tracked
          inventoryLevels(first: 10) {
            edges { node { location { id } quantities(names: ["available", "on_hand", "committed"]) { name quantity } } }
          }
        }
      }
    }
  }
}
"""

SET_QUANTITIES = """
mutation InventorySet($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { createdAt reason referenceDocumentUri changes { name delta quantityAfterChange } }
    userErrors { code field message }
  }
}
"""


def _first_variant(execute: Execute, sku: str) -> dict[str, Any]:
    body = execute(INVENTORY_BY_SKU, {"query": f"sku:{sku}"})
    edges = body["data"]["productVariants"]["edges"]
    assert [edge["node"]["sku"] for edge in edges] == [sku]
    node: dict[str, Any] = edges[0]["node"]
    return node


def test_shop_query_through_official_client(official_graphql: Execute, emulator: ShopifyEmulator) -> None:
    body = official_graphql(SHOP_QUERY)
    assert body["data"]["shop"]["myshopifyDomain"] == emulator.shop_domain
    assert body["data"]["shop"]["id"].startswith("gid://shopify/Shop/")
    assert body["extensions"]["cost"]["requestedQueryCost"] == 1


def test_inventory_set_quantities_compare_and_set_2025_10(
    official_graphql: Execute, emulator: ShopifyEmulator
) -> None:
    variant = _first_variant(official_graphql, "SKU-00003")
    level = variant["inventoryItem"]["inventoryLevels"]["edges"][0]["node"]
    available = next(q["quantity"] for q in level["quantities"] if q["name"] == "available")
    quantity = {
        "inventoryItemId": variant["inventoryItem"]["id"],
        "locationId": level["location"]["id"],
        "quantity": available + 5,
        "compareQuantity": available,
    }
    ok = official_graphql(
        SET_QUANTITIES,
        {
            "input": {
                "name": "available",
                "reason": "correction",
                "referenceDocumentUri": "gid://channelhub/Sync/1",
                "quantities": [quantity],
            }
        },
    )
    payload = ok["data"]["inventorySetQuantities"]
    assert payload["userErrors"] == []
    assert {c["name"]: c["delta"] for c in payload["inventoryAdjustmentGroup"]["changes"]} == {
        "available": 5,
        "on_hand": 5,
    }
    stale = official_graphql(
        SET_QUANTITIES, {"input": {"name": "available", "reason": "correction", "quantities": [quantity]}}
    )
    errors = stale["data"]["inventorySetQuantities"]["userErrors"]
    assert [e["code"] for e in errors] == ["COMPARE_QUANTITY_STALE"]
    assert errors[0]["field"] == ["input", "quantities", "0", "compareQuantity"]
    assert (
        _first_variant(official_graphql, "SKU-00003")["inventoryItem"]["inventoryLevels"]["edges"][0]["node"][
            "quantities"
        ][0]["quantity"]
        == available + 5
    )
