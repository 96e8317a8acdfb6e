"""The Admin GraphQL schema subset the emulator serves, one `GraphQLSchema` per API version.

Type, field, argument and enum names follow shopify.dev's Admin GraphQL reference. The two served
versions differ where Shopify's do:

- 2025-10: `inventorySetQuantities` takes `InventoryQuantityInput.compareQuantity` plus
  `InventorySetQuantitiesInput.ignoreCompareQuantity` (`COMPARE_QUANTITY_STALE`); there is no
  `@idempotent` directive.
- 2026-10: quantities are `InventorySetQuantityInput` with a mandatory `changeFromQuantity`
  (`null` opts out, omission is an error, `CHANGE_FROM_QUANTITY_STALE`), and so is each
  `InventoryChangeInput` of `inventoryAdjustQuantities` (changelog "Making changeFromQuantity
  field required (with explicit opt-out)", 2026-04); the `@idempotent(key:)`
  directive exists and is required (at run time, as Shopify does) on `inventoryAdjustQuantities`
  and `refundCreate`.
"""

from __future__ import annotations

from functools import cache

from graphql import GraphQLSchema, build_schema

SUPPORTED_VERSIONS: tuple[str, ...] = ("2025-10", "2026-10")

_CONNECTION_ARGS = "first: Int, after: String, last: Int, before: String, reverse: Boolean = false"


def _connection(node: str) -> str:
    """Relay's edge and connection types, the same for every paginated type."""
    return (
        f"type {node}Edge {{ cursor: String! node: {node}! }}\n"
        f"type {node}Connection {{ edges: [{node}Edge!]! nodes: [{node}!]! pageInfo: PageInfo! }}"
    )


_COMMON_SDL = f"""
scalar DateTime
scalar Decimal
scalar Money
scalar URL
scalar UnsignedInt64
scalar JSON

interface Node {{ id: ID! }}

type PageInfo {{
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}}

enum CurrencyCode {{ USD EUR GBP CAD AUD }}

type MoneyV2 {{ amount: Decimal! currencyCode: CurrencyCode! }}
type MoneyBag {{ shopMoney: MoneyV2! presentmentMoney: MoneyV2! }}

type UserError {{ field: [String!] message: String! }}

type ShopPlan {{ displayName: String! partnerDevelopment: Boolean! shopifyPlus: Boolean! }}

type Shop implements Node {{
  id: ID!
  name: String!
  email: String!
  myshopifyDomain: String!
  url: URL!
  currencyCode: CurrencyCode!
  ianaTimezone: String!
  plan: ShopPlan!
}}

type Location implements Node {{
  id: ID!
  legacyResourceId: UnsignedInt64!
  name: String!
  isActive: Boolean!
  fulfillsOnlineOrders: Boolean!
  inventoryLevel(inventoryItemId: ID!): InventoryLevel
  inventoryLevels({_CONNECTION_ARGS}, query: String): InventoryLevelConnection!
}}
{_connection("Location")}

enum ProductStatus {{ ACTIVE ARCHIVED DRAFT }}
enum ProductVariantInventoryPolicy {{ DENY CONTINUE }}

type Product implements Node {{
  id: ID!
  legacyResourceId: UnsignedInt64!
  title: String!
  handle: String!
  vendor: String!
  productType: String!
  status: ProductStatus!
  tracksInventory: Boolean!
  totalInventory: Int!
  createdAt: DateTime!
  updatedAt: DateTime!
  variants({_CONNECTION_ARGS}): ProductVariantConnection!
}}
{_connection("Product")}

type ProductVariant implements Node {{
  id: ID!
  legacyResourceId: UnsignedInt64!
  title: String!
  displayName: String!
  sku: String
  barcode: String
  price: Money!
  compareAtPrice: Money
  position: Int!
  inventoryPolicy: ProductVariantInventoryPolicy!
  inventoryQuantity: Int
  inventoryItem: InventoryItem!
  product: Product!
  createdAt: DateTime!
  updatedAt: DateTime!
}}
{_connection("ProductVariant")}

type InventoryItem implements Node {{
  id: ID!
  legacyResourceId: UnsignedInt64!
  sku: String
  tracked: Boolean!
  requiresShipping: Boolean!
  variant: ProductVariant!
  createdAt: DateTime!
  updatedAt: DateTime!
  inventoryLevel(locationId: ID!): InventoryLevel
  inventoryLevels({_CONNECTION_ARGS}, query: String): InventoryLevelConnection!
}}
{_connection("InventoryItem")}

type InventoryQuantity implements Node {{
  id: ID!
  name: String!
  quantity: Int!
  updatedAt: DateTime
}}

type InventoryLevel implements Node {{
  id: ID!
  item: InventoryItem!
  location: Location!
  canDeactivate: Boolean!
  quantities(names: [String!]!): [InventoryQuantity!]!
  createdAt: DateTime!
  updatedAt: DateTime!
}}
{_connection("InventoryLevel")}

type InventoryChange {{
  name: String!
  delta: Int!
  quantityAfterChange: Int
  ledgerDocumentUri: URL
  item: InventoryItem
  location: Location
}}
type InventoryAdjustmentGroup implements Node {{
  id: ID!
  createdAt: DateTime!
  reason: String!
  referenceDocumentUri: URL
  changes(inventoryItemIds: [ID!], locationIds: [ID!], quantityNames: [String!]): [InventoryChange!]!
}}

enum OrderDisplayFinancialStatus {{
  AUTHORIZED EXPIRED PAID PARTIALLY_PAID PARTIALLY_REFUNDED PENDING REFUNDED VOIDED
}}
enum OrderDisplayFulfillmentStatus {{
  FULFILLED IN_PROGRESS ON_HOLD OPEN PARTIALLY_FULFILLED PENDING_FULFILLMENT REQUEST_DECLINED
  RESTOCKED SCHEDULED UNFULFILLED
}}
enum OrderCancelReason {{ CUSTOMER DECLINED FRAUD INVENTORY OTHER STAFF }}
enum OrderSortKeys {{ CREATED_AT ID ORDER_NUMBER PROCESSED_AT UPDATED_AT }}

type LineItem implements Node {{
  id: ID!
  name: String!
  title: String!
  variantTitle: String
  sku: String
  quantity: Int!
  currentQuantity: Int!
  unfulfilledQuantity: Int!
  refundableQuantity: Int!
  variant: ProductVariant
  product: Product
  originalUnitPriceSet: MoneyBag!
  originalTotalSet: MoneyBag!
  discountedTotalSet: MoneyBag!
}}
{_connection("LineItem")}

type Customer implements Node {{
  id: ID!
  legacyResourceId: UnsignedInt64!
  email: String
  firstName: String
  lastName: String
  displayName: String!
}}
type MailingAddress {{
  name: String
  firstName: String
  lastName: String
  address1: String
  address2: String
  city: String
  zip: String
  province: String
  countryCodeV2: String
  phone: String
}}

type Order implements Node {{
  id: ID!
  legacyResourceId: UnsignedInt64!
  name: String!
  email: String
  customer: Customer
  shippingAddress: MailingAddress
  note: String
  tags: [String!]!
  test: Boolean!
  closed: Boolean!
  createdAt: DateTime!
  updatedAt: DateTime!
  processedAt: DateTime!
  cancelledAt: DateTime
  cancelReason: OrderCancelReason
  currencyCode: CurrencyCode!
  displayFinancialStatus: OrderDisplayFinancialStatus
  displayFulfillmentStatus: OrderDisplayFulfillmentStatus!
  totalPriceSet: MoneyBag!
  subtotalPriceSet: MoneyBag
  currentTotalPriceSet: MoneyBag!
  totalRefundedSet: MoneyBag!
  lineItems({_CONNECTION_ARGS}): LineItemConnection!
  fulfillmentOrders({_CONNECTION_ARGS}, query: String): FulfillmentOrderConnection!
  fulfillments(first: Int): [Fulfillment!]!
  refunds(first: Int): [Refund!]!
}}
{_connection("Order")}

enum FulfillmentOrderStatus {{ CANCELLED CLOSED INCOMPLETE IN_PROGRESS ON_HOLD OPEN SCHEDULED }}
type FulfillmentOrderAssignedLocation {{ name: String! location: Location }}
type FulfillmentOrderLineItem implements Node {{
  id: ID!
  sku: String
  totalQuantity: Int!
  remainingQuantity: Int!
  lineItem: LineItem!
  variant: ProductVariant
  inventoryItemId: ID
}}
{_connection("FulfillmentOrderLineItem")}
type FulfillmentOrder implements Node {{
  id: ID!
  status: FulfillmentOrderStatus!
  orderId: ID!
  order: Order!
  assignedLocation: FulfillmentOrderAssignedLocation!
  createdAt: DateTime!
  updatedAt: DateTime!
  lineItems({_CONNECTION_ARGS}): FulfillmentOrderLineItemConnection!
}}
{_connection("FulfillmentOrder")}

enum FulfillmentStatus {{ CANCELLED ERROR FAILURE OPEN PENDING SUCCESS }}
type FulfillmentTrackingInfo {{ company: String number: String url: URL }}
type FulfillmentLineItem implements Node {{ id: ID! quantity: Int lineItem: LineItem! }}
{_connection("FulfillmentLineItem")}
type Fulfillment implements Node {{
  id: ID!
  legacyResourceId: UnsignedInt64!
  name: String!
  status: FulfillmentStatus!
  totalQuantity: Int!
  createdAt: DateTime!
  updatedAt: DateTime!
  order: Order!
  location: Location
  trackingInfo(first: Int): [FulfillmentTrackingInfo!]!
  fulfillmentLineItems({_CONNECTION_ARGS}): FulfillmentLineItemConnection!
}}

enum RefundLineItemRestockType {{ CANCEL LEGACY_RESTOCK NO_RESTOCK RETURN }}
type RefundLineItem {{
  id: ID
  lineItem: LineItem!
  quantity: Int!
  restockType: RefundLineItemRestockType!
  restocked: Boolean!
  location: Location
  priceSet: MoneyBag!
  subtotalSet: MoneyBag!
}}
{_connection("RefundLineItem")}
type Refund implements Node {{
  id: ID!
  legacyResourceId: UnsignedInt64!
  note: String
  createdAt: DateTime
  order: Order!
  totalRefundedSet: MoneyBag!
  refundLineItems({_CONNECTION_ARGS}): RefundLineItemConnection!
}}

enum WebhookSubscriptionTopic {{
  APP_UNINSTALLED BULK_OPERATIONS_FINISH FULFILLMENTS_CREATE INVENTORY_ITEMS_UPDATE
  INVENTORY_LEVELS_UPDATE ORDERS_CANCELLED ORDERS_CREATE ORDERS_FULFILLED ORDERS_PAID
  ORDERS_PARTIALLY_FULFILLED ORDERS_UPDATED PRODUCTS_CREATE PRODUCTS_UPDATE REFUNDS_CREATE
}}
enum WebhookSubscriptionFormat {{ JSON XML }}
type WebhookHttpEndpoint {{ callbackUrl: URL! }}
union WebhookSubscriptionEndpoint = WebhookHttpEndpoint
type ApiVersion {{ handle: String! displayName: String! supported: Boolean! }}
type WebhookSubscription implements Node {{
  id: ID!
  legacyResourceId: UnsignedInt64!
  topic: WebhookSubscriptionTopic!
  uri: String!
  callbackUrl: URL! @deprecated(reason: "Use `uri` instead.")
  endpoint: WebhookSubscriptionEndpoint!
  format: WebhookSubscriptionFormat!
  includeFields: [String!]!
  filter: String
  apiVersion: ApiVersion!
  createdAt: DateTime!
  updatedAt: DateTime!
}}
{_connection("WebhookSubscription")}
input WebhookSubscriptionInput {{
  uri: String
  callbackUrl: URL
  format: WebhookSubscriptionFormat
  includeFields: [String!]
  filter: String
}}
enum WebhookSubscriptionCreateUserErrorCode {{ INVALID TAKEN }}
type WebhookSubscriptionCreatePayload {{ webhookSubscription: WebhookSubscription userErrors: [UserError!]! }}
type WebhookSubscriptionDeletePayload {{ deletedWebhookSubscriptionId: ID userErrors: [UserError!]! }}

enum BulkOperationStatus {{ CANCELED CANCELING COMPLETED CREATED EXPIRED FAILED RUNNING }}
enum BulkOperationType {{ MUTATION QUERY }}
enum BulkOperationErrorCode {{ ACCESS_DENIED INTERNAL_SERVER_ERROR TIMEOUT }}
type BulkOperation implements Node {{
  id: ID!
  status: BulkOperationStatus!
  type: BulkOperationType!
  errorCode: BulkOperationErrorCode
  query: String!
  objectCount: UnsignedInt64!
  rootObjectCount: UnsignedInt64!
  fileSize: UnsignedInt64
  url: URL
  partialDataUrl: URL
  createdAt: DateTime!
  completedAt: DateTime
}}
enum BulkOperationUserErrorCode {{ INVALID OPERATION_IN_PROGRESS LIMIT_REACHED NO_SUCH_FILE }}
type BulkOperationUserError {{ code: BulkOperationUserErrorCode field: [String!] message: String! }}
type BulkOperationRunQueryPayload {{ bulkOperation: BulkOperation userErrors: [BulkOperationUserError!]! }}
type BulkOperationCancelPayload {{ bulkOperation: BulkOperation userErrors: [UserError!]! }}

enum InventorySetQuantitiesUserErrorCode {{
  CHANGE_FROM_QUANTITY_STALE COMPARE_QUANTITY_REQUIRED COMPARE_QUANTITY_STALE
  IDEMPOTENCY_CONCURRENT_REQUEST IDEMPOTENCY_KEY_PARAMETER_MISMATCH INVALID_INVENTORY_ITEM
  INVALID_LOCATION INVALID_NAME INVALID_QUANTITY_NEGATIVE INVALID_QUANTITY_TOO_HIGH
  INVALID_QUANTITY_TOO_LOW INVALID_REASON INVALID_REFERENCE_DOCUMENT ITEM_NOT_STOCKED_AT_LOCATION
  NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR NON_MUTABLE_INVENTORY_ITEM
}}
type InventorySetQuantitiesUserError {{
  code: InventorySetQuantitiesUserErrorCode field: [String!] message: String!
}}
type InventorySetQuantitiesPayload {{
  inventoryAdjustmentGroup: InventoryAdjustmentGroup
  userErrors: [InventorySetQuantitiesUserError!]!
}}

enum InventoryAdjustQuantitiesUserErrorCode {{
  ADJUST_QUANTITIES_FAILED CHANGE_FROM_QUANTITY_STALE IDEMPOTENCY_CONCURRENT_REQUEST
  IDEMPOTENCY_KEY_PARAMETER_MISMATCH INTERNAL_LEDGER_DOCUMENT INVALID_AVAILABLE_DOCUMENT
  INVALID_INVENTORY_ITEM INVALID_LEDGER_DOCUMENT INVALID_LOCATION INVALID_QUANTITY_DOCUMENT
  INVALID_QUANTITY_NAME INVALID_QUANTITY_TOO_HIGH INVALID_QUANTITY_TOO_LOW INVALID_REASON
  INVALID_REFERENCE_DOCUMENT ITEM_NOT_STOCKED_AT_LOCATION MAX_ONE_LEDGER_DOCUMENT
  NON_MUTABLE_INVENTORY_ITEM
}}
type InventoryAdjustQuantitiesUserError {{
  code: InventoryAdjustQuantitiesUserErrorCode field: [String!] message: String!
}}
type InventoryAdjustQuantitiesPayload {{
  inventoryAdjustmentGroup: InventoryAdjustmentGroup
  userErrors: [InventoryAdjustQuantitiesUserError!]!
}}

input ProductVariantsBulkInput {{
  id: ID
  price: Money
  compareAtPrice: Money
  barcode: String
  inventoryPolicy: ProductVariantInventoryPolicy
}}
enum ProductVariantsBulkUpdateUserErrorCode {{
  GREATER_THAN_OR_EQUAL_TO INVALID_INPUT MUST_BE_UNIQUE NEED_TO_ADD_OPTION_VALUES
  NO_KEY_ON_CREATE PRODUCT_DOES_NOT_EXIST PRODUCT_VARIANT_DOES_NOT_EXIST
  PRODUCT_VARIANT_ID_MISSING VARIANT_ALREADY_EXISTS
}}
type ProductVariantsBulkUpdateUserError {{
  code: ProductVariantsBulkUpdateUserErrorCode field: [String!] message: String!
}}
type ProductVariantsBulkUpdatePayload {{
  product: Product
  productVariants: [ProductVariant!]
  userErrors: [ProductVariantsBulkUpdateUserError!]!
}}

input FulfillmentOrderLineItemInput {{ id: ID! quantity: Int! }}
input FulfillmentOrderLineItemsInput {{
  fulfillmentOrderId: ID!
  fulfillmentOrderLineItems: [FulfillmentOrderLineItemInput!]
}}
input FulfillmentTrackingInput {{
  number: String
  numbers: [String!]
  url: URL
  urls: [URL!]
  company: String
}}
input FulfillmentInput {{
  lineItemsByFulfillmentOrder: [FulfillmentOrderLineItemsInput!]!
  notifyCustomer: Boolean = false
  trackingInfo: FulfillmentTrackingInput
}}
type FulfillmentCreatePayload {{ fulfillment: Fulfillment userErrors: [UserError!]! }}

type Job {{ id: ID! done: Boolean! }}
enum OrderCancelUserErrorCode {{ INVALID NOT_FOUND NO_REFUND_PERMISSION }}
type OrderCancelUserError {{ code: OrderCancelUserErrorCode field: [String!] message: String! }}
type OrderCancelPayload {{
  job: Job
  orderCancelUserErrors: [OrderCancelUserError!]!
  userErrors: [UserError!]! @deprecated(reason: "Use `orderCancelUserErrors` instead.")
}}

enum OrderTransactionKind {{ AUTHORIZATION CAPTURE CHANGE EMV_AUTHORIZATION REFUND SALE SUGGESTED_REFUND VOID }}
input OrderTransactionInput {{
  amount: Money!
  gateway: String!
  kind: OrderTransactionKind!
  orderId: ID!
  parentId: ID
}}
input RefundLineItemInput {{
  lineItemId: ID!
  quantity: Int!
  restockType: RefundLineItemRestockType = RETURN
  locationId: ID
}}
input ShippingRefundInput {{ amount: Money fullRefund: Boolean }}
input RefundInput {{
  orderId: ID!
  note: String
  notify: Boolean
  currency: CurrencyCode
  refundLineItems: [RefundLineItemInput!]
  shipping: ShippingRefundInput
  transactions: [OrderTransactionInput!]
}}
type RefundCreatePayload {{ order: Order refund: Refund userErrors: [UserError!]! }}

type Query {{
  shop: Shop!
  node(id: ID!): Node
  nodes(ids: [ID!]!): [Node]!
  location(id: ID): Location
  locations({_CONNECTION_ARGS}, query: String, includeInactive: Boolean = false): LocationConnection!
  product(id: ID!): Product
  products({_CONNECTION_ARGS}, query: String): ProductConnection!
  productVariant(id: ID!): ProductVariant
  productVariants({_CONNECTION_ARGS}, query: String): ProductVariantConnection!
  inventoryItem(id: ID!): InventoryItem
  inventoryItems({_CONNECTION_ARGS}, query: String): InventoryItemConnection!
  inventoryLevel(id: ID!): InventoryLevel
  order(id: ID!): Order
  orders({_CONNECTION_ARGS}, query: String, sortKey: OrderSortKeys = PROCESSED_AT): OrderConnection!
  fulfillmentOrder(id: ID!): FulfillmentOrder
  webhookSubscription(id: ID!): WebhookSubscription
  webhookSubscriptions(
    {_CONNECTION_ARGS}, topics: [WebhookSubscriptionTopic!], callbackUrl: URL, uri: String
  ): WebhookSubscriptionConnection!
  currentBulkOperation(type: BulkOperationType = QUERY): BulkOperation
}}

type Mutation {{
  inventorySetQuantities(input: InventorySetQuantitiesInput!): InventorySetQuantitiesPayload
  inventoryAdjustQuantities(input: InventoryAdjustQuantitiesInput!): InventoryAdjustQuantitiesPayload
  productVariantsBulkUpdate(
    productId: ID!, variants: [ProductVariantsBulkInput!]!, allowPartialUpdates: Boolean = false
  ): ProductVariantsBulkUpdatePayload
  fulfillmentCreate(fulfillment: FulfillmentInput!, message: String): FulfillmentCreatePayload
  orderCancel(
    orderId: ID!, reason: OrderCancelReason!, refund: Boolean, restock: Boolean!,
    notifyCustomer: Boolean = false, staffNote: String
  ): OrderCancelPayload
  refundCreate(input: RefundInput!): RefundCreatePayload
  webhookSubscriptionCreate(
    topic: WebhookSubscriptionTopic!, webhookSubscription: WebhookSubscriptionInput!
  ): WebhookSubscriptionCreatePayload
  webhookSubscriptionDelete(id: ID!): WebhookSubscriptionDeletePayload
  bulkOperationRunQuery(query: String!, groupObjects: Boolean = false): BulkOperationRunQueryPayload
  bulkOperationCancel(id: ID!): BulkOperationCancelPayload
}}
"""

_INVENTORY_SET_2025_10 = """
input InventoryQuantityInput {
  inventoryItemId: ID!
  locationId: ID!
  quantity: Int!
  compareQuantity: Int
}
input InventorySetQuantitiesInput {
  name: String!
  reason: String!
  referenceDocumentUri: String
  ignoreCompareQuantity: Boolean = false
  quantities: [InventoryQuantityInput!]!
}
input InventoryChangeInput {
  delta: Int!
  inventoryItemId: ID!
  locationId: ID!
  ledgerDocumentUri: String
}
input InventoryAdjustQuantitiesInput {
  name: String!
  reason: String!
  referenceDocumentUri: String
  changes: [InventoryChangeInput!]!
}
"""

# From 2026-04 on, compare-and-swap moved onto each quantity as `changeFromQuantity`.
_INVENTORY_SET_2026_10 = """
directive @idempotent(key: String!) on FIELD

input InventorySetQuantityInput {
  inventoryItemId: ID!
  locationId: ID!
  quantity: Int!
  changeFromQuantity: Int
}
input InventorySetQuantitiesInput {
  name: String!
  reason: String!
  referenceDocumentUri: String
  quantities: [InventorySetQuantityInput!]!
}
input InventoryChangeInput {
  delta: Int!
  inventoryItemId: ID!
  locationId: ID!
  ledgerDocumentUri: String
  changeFromQuantity: Int
}
input InventoryAdjustQuantitiesInput {
  name: String!
  reason: String!
  referenceDocumentUri: String
  changes: [InventoryChangeInput!]!
}
"""

_VERSION_SDL = {"2025-10": _INVENTORY_SET_2025_10, "2026-10": _INVENTORY_SET_2026_10}


def uses_change_from_quantity(version: str) -> bool:
    """Whether this API version does compare-and-swap with `changeFromQuantity` (2026-04 and later)."""
    return version >= "2026-04"


@cache
def schema_for(version: str) -> GraphQLSchema:
    """The schema served for `version` (one of SUPPORTED_VERSIONS), built once."""
    if version not in _VERSION_SDL:
        raise KeyError(version)
    return build_schema(_COMMON_SDL + _VERSION_SDL[version])
