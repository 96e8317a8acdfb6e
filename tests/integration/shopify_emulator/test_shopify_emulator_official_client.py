"""The official `ShopifyAPI` package, unchanged, runs Shopify's documented operations against the emulator."""

from __future__ import annotations

import json
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


PRODUCTS_PAGE = """
query Products($cursor: String) {
  products(first: 4, after: $cursor, query: "status:active") {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id title handle status variants(first: 5) { nodes { id sku price compareAtPrice inventoryPolicy } } } }
  }
}
"""

VARIANTS_BULK_UPDATE = """
mutation productVariantsBulkUpdate($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants) {
    product { id }
    productVariants { id price compareAtPrice }
    userErrors { field message }
  }
}
"""


def test_product_pagination_and_price_update(official_graphql: Execute, emulator: ShopifyEmulator) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        page = official_graphql(PRODUCTS_PAGE, {"cursor": cursor})["data"]["products"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursor = page["pageInfo"]["endCursor"]
    assert seen == [f"gid://shopify/Product/{p}" for p in emulator.shop.products]
    product = next(iter(emulator.shop.products.values()))
    variant_gid = f"gid://shopify/ProductVariant/{product.variant_ids[0]}"
    body = official_graphql(
        VARIANTS_BULK_UPDATE,
        {
            "productId": f"gid://shopify/Product/{product.id}",
            "variants": [{"id": variant_gid, "price": "49.00", "compareAtPrice": None}],
        },
    )
    assert body["data"]["productVariantsBulkUpdate"]["userErrors"] == []
    assert body["data"]["productVariantsBulkUpdate"]["productVariants"] == [
        {"id": variant_gid, "price": "49.00", "compareAtPrice": None}
    ]


ORDERS_SINCE = """
query Orders($query: String) {
  orders(first: 10, query: $query, sortKey: UPDATED_AT) {
    edges { node { id name displayFinancialStatus displayFulfillmentStatus updatedAt
      customer { id email displayName } shippingAddress { name city zip countryCodeV2 }
      totalPriceSet { shopMoney { amount currencyCode } }
      lineItems(first: 10) { nodes { id sku quantity variant { id } } }
      fulfillmentOrders(first: 5) { nodes { id status lineItems(first: 10) { nodes { id remainingQuantity } } } } } }
  }
}
"""

FULFILLMENT_CREATE = """
mutation fulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo(first: 10) { company number url } }
    userErrors { field message }
  }
}
"""


def test_orders_and_partial_fulfillment_with_tracking(
    official_graphql: Execute, emulator: ShopifyEmulator, server: Any
) -> None:
    import httpx

    placed = httpx.post(
        f"{server.url}/_sandbox/orders",
        json={
            "line_items": [{"sku": "SKU-00005", "quantity": 2}, {"sku": "SKU-00006", "quantity": 1}],
            "financial_status": "pending",
            "email": "ada@example.com",
            "customer": {"first_name": "Ada", "last_name": "Lovelace"},
            "shipping_address": {
                "first_name": "Ada",
                "last_name": "Lovelace",
                "address1": "1 Analytical Way",
                "city": "London",
                "zip": "N1 9GU",
                "country_code": "GB",
            },
        },
    )
    assert placed.status_code == 201
    orders = official_graphql(ORDERS_SINCE, {"query": "financial_status:pending"})["data"]["orders"]["edges"]
    assert len(orders) == 1
    order = orders[0]["node"]
    assert (order["displayFinancialStatus"], order["displayFulfillmentStatus"]) == ("PENDING", "UNFULFILLED")
    assert order["customer"]["email"] == "ada@example.com"
    assert order["customer"]["displayName"] == "Ada Lovelace"
    assert order["shippingAddress"] == {
        "name": "Ada Lovelace",
        "city": "London",
        "zip": "N1 9GU",
        "countryCodeV2": "GB",
    }
    assert placed.json()["order"]["customer"]["admin_graphql_api_id"] == order["customer"]["id"]
    assert [(line["sku"], line["quantity"]) for line in order["lineItems"]["nodes"]] == [
        ("SKU-00005", 2),
        ("SKU-00006", 1),
    ]
    fulfillment_order = order["fulfillmentOrders"]["nodes"][0]
    first_line = fulfillment_order["lineItems"]["nodes"][0]
    body = official_graphql(
        FULFILLMENT_CREATE,
        {
            "fulfillment": {
                "lineItemsByFulfillmentOrder": [
                    {
                        "fulfillmentOrderId": fulfillment_order["id"],
                        "fulfillmentOrderLineItems": [{"id": first_line["id"], "quantity": 1}],
                    }
                ],
                "trackingInfo": {"company": "UPS", "numbers": ["1Z1", "1Z2"]},
                "notifyCustomer": False,
            }
        },
    )
    created = body["data"]["fulfillmentCreate"]
    assert created["userErrors"] == []
    assert [t["number"] for t in created["fulfillment"]["trackingInfo"]] == ["1Z1", "1Z2"]
    after = official_graphql(ORDERS_SINCE, {"query": f"name:{order['name']}"})["data"]["orders"]["edges"][0][
        "node"
    ]
    assert after["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"
    assert after["fulfillmentOrders"]["nodes"][0]["lineItems"]["nodes"][0]["remainingQuantity"] == 1


BULK_RUN = '''
mutation {
  bulkOperationRunQuery(query: """
    { productVariants { edges { node { id sku inventoryItem { id inventoryLevels { edges { node { id
      quantities(names: ["available"]) { name quantity } } } } } } } } }
  """) {
    bulkOperation { id status }
    userErrors { field message }
  }
}
'''


def test_bulk_operation_full_read(official_graphql: Execute, emulator: ShopifyEmulator) -> None:
    import httpx

    started = official_graphql(BULK_RUN)["data"]["bulkOperationRunQuery"]
    assert started["userErrors"] == [] and started["bulkOperation"]["status"] == "CREATED"
    current = official_graphql("{ currentBulkOperation { id status objectCount rootObjectCount url } }")
    operation = current["data"]["currentBulkOperation"]
    assert operation["id"] == started["bulkOperation"]["id"] and operation["status"] == "COMPLETED"
    polled = official_graphql(
        "query($id: ID!) { node(id: $id) { ... on BulkOperation { id status url } } }",
        {"id": operation["id"]},
    )["data"]["node"]
    assert polled == {"id": operation["id"], "status": "COMPLETED", "url": operation["url"]}
    lines = [json.loads(line) for line in httpx.get(operation["url"]).text.splitlines()]
    variants = [line for line in lines if "__parentId" not in line]
    levels = [line for line in lines if "__parentId" in line]
    assert len(variants) == len(emulator.shop.variants) == int(operation["rootObjectCount"])
    assert len(levels) == len(emulator.shop.levels)
    assert len(lines) == int(operation["objectCount"])
    assert all(level["__parentId"].startswith("gid://shopify/ProductVariant/") for level in levels)
