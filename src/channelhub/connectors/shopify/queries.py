"""Every GraphQL document the connector sends, in one visible place.

Field and argument names follow shopify.dev's Admin GraphQL reference. Paged reads take `$first`
and `$after` so the client can plan the page size from the cost bucket.
"""

from __future__ import annotations

SHOP_AND_LOCATIONS = """
query ShopAndLocations {
  shop { id name myshopifyDomain currencyCode }
  locations(first: 50) { nodes { id name isActive fulfillsOnlineOrders } }
}
"""

# The SKU → ids map, with the `available` quantity at one location (the compare-and-set base).
CATALOG_PAGE = """
query CatalogPage($first: Int!, $after: String, $query: String, $locationId: ID!) {
  productVariants(first: $first, after: $after, query: $query) {
    nodes {
      id
      sku
      price
      compareAtPrice
      product { id }
      inventoryItem {
        id
        tracked
        inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

# Current `available` of specific inventory items (conflict re-reads, read-back of a few SKUs).
ITEM_LEVELS = """
query ItemLevels($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } }
    }
  }
}
"""

SET_QUANTITIES = """
mutation SetAvailable($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}
"""

ADJUST_QUANTITIES = """
mutation AdjustQuantities($input: InventoryAdjustQuantitiesInput!) {
  inventoryAdjustQuantities(input: $input) {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}
"""

# 2026-04 and later: the idempotency key travels as a directive on the mutation field.
ADJUST_QUANTITIES_IDEMPOTENT = """
mutation AdjustQuantities($input: InventoryAdjustQuantitiesInput!, $idempotencyKey: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $idempotencyKey) {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}
"""

SET_PRICES = """
mutation SetPrices($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants, allowPartialUpdates: true) {
    productVariants { id price compareAtPrice }
    userErrors { code field message }
  }
}
"""

_ORDER_FIELDS = """
      id
      legacyResourceId
      name
      email
      createdAt
      updatedAt
      cancelledAt
      cancelReason
      currencyCode
      displayFinancialStatus
      displayFulfillmentStatus
      totalPriceSet { shopMoney { amount currencyCode } }
      totalRefundedSet { shopMoney { amount currencyCode } }
      lineItems(first: 50) {
        nodes {
          id
          sku
          name
          quantity
          currentQuantity
          unfulfilledQuantity
          originalUnitPriceSet { shopMoney { amount currencyCode } }
        }
        pageInfo { hasNextPage }
      }
      fulfillments(first: 10) {
        id
        trackingInfo(first: 1) { company number url }
        fulfillmentLineItems(first: 50) { nodes { quantity lineItem { id sku } } }
      }
      refunds(first: 10) { id note totalRefundedSet { shopMoney { amount currencyCode } } }
"""

ORDERS_PAGE = f"""
query OrdersSince($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    nodes {{
{_ORDER_FIELDS}
    }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""

ORDER = f"""
query Order($id: ID!) {{
  order(id: $id) {{
{_ORDER_FIELDS}
  }}
}}
"""

FULFILLMENT_ORDERS = """
query FulfillmentOrders($id: ID!) {
  order(id: $id) {
    id
    fulfillmentOrders(first: 5) {
      nodes {
        id
        status
        lineItems(first: 50) { nodes { id sku remainingQuantity lineItem { id } } }
      }
    }
  }
}
"""

FULFILLMENT_CREATE = """
mutation CreateFulfillment($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo { company number url } }
    userErrors { field message }
  }
}
"""

ORDER_CANCEL = """
mutation CancelOrder($orderId: ID!, $reason: OrderCancelReason!, $refund: Boolean, $restock: Boolean!,
                     $notifyCustomer: Boolean, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, refund: $refund, restock: $restock,
              notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { code field message }
  }
}
"""

REFUND_CREATE = """
mutation CreateRefund($input: RefundInput!) {
  refundCreate(input: $input) {
    refund { id totalRefundedSet { shopMoney { amount currencyCode } } }
    userErrors { field message }
  }
}
"""

REFUND_CREATE_IDEMPOTENT = """
mutation CreateRefund($input: RefundInput!, $idempotencyKey: String!) {
  refundCreate(input: $input) @idempotent(key: $idempotencyKey) {
    refund { id totalRefundedSet { shopMoney { amount currencyCode } } }
    userErrors { field message }
  }
}
"""

BULK_RUN_QUERY = """
mutation BulkRun($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { code field message }
  }
}
"""

BULK_CURRENT = """
query BulkCurrent {
  currentBulkOperation(type: QUERY) { id status errorCode objectCount url partialDataUrl }
}
"""


def bulk_catalog_query(location_id: str) -> str:
    """The catalog read as a bulk query (no page sizes, no variables: Shopify runs it whole)."""
    return (
        "{ productVariants { edges { node { id sku price compareAtPrice product { id } "
        f'inventoryItem {{ id tracked inventoryLevel(locationId: "{location_id}") '
        '{ quantities(names: ["available"]) { name quantity } } } } } } }'
    )
