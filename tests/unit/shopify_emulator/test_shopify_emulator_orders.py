"""Sales, fulfillments, cancellations and refunds move inventory states as Shopify does."""

from __future__ import annotations

from typing import Any

import pytest

from channelhub.sandbox.shopify import operations
from channelhub.sandbox.shopify.app import ShopifyEmulator
from channelhub.sandbox.shopify.state import InventoryLevel, Variant

from .conftest import Gql


def _variant(emulator: ShopifyEmulator, *, tracked: bool = True, policy: str = "DENY") -> Variant:
    shop = emulator.shop
    for variant in shop.variants.values():
        item = shop.inventory_items[variant.inventory_item_id]
        if item.tracked == tracked:
            variant.inventory_policy = policy
            return variant
    raise AssertionError("no such variant in the seeded shop")


def _level(emulator: ShopifyEmulator, variant: Variant) -> InventoryLevel:
    level = emulator.shop.level(variant.inventory_item_id, emulator.shop.primary_location.id)
    assert level is not None
    return level


def _set_available(emulator: ShopifyEmulator, variant: Variant, units: int) -> InventoryLevel:
    level = _level(emulator, variant)
    level.quantities["available"] = units
    return level


def test_sale_moves_available_to_committed(emulator: ShopifyEmulator) -> None:
    variant = _variant(emulator)
    level = _set_available(emulator, variant, 5)
    operations.place_order(emulator.shop, [operations.SaleLine(variant, 3)])
    assert (level.quantity("available"), level.quantity("committed"), level.quantity("on_hand")) == (2, 3, 5)
    assert emulator.shop.stats.orders == 1 and emulator.shop.stats.units_sold == 3
    assert emulator.shop.stats.oversold_units == 0


def test_deny_policy_refuses_to_oversell(emulator: ShopifyEmulator) -> None:
    variant = _variant(emulator, policy="DENY")
    level = _set_available(emulator, variant, 2)
    with pytest.raises(operations.OrderRefused) as refused:
        operations.place_order(emulator.shop, [operations.SaleLine(variant, 3)])
    assert refused.value.available == 2
    assert level.quantity("available") == 2
    assert emulator.shop.stats.orders == 0 and emulator.shop.stats.refused_orders == 1


def test_continue_policy_sells_on_and_counts_oversold_units(emulator: ShopifyEmulator) -> None:
    variant = _variant(emulator, policy="CONTINUE")
    level = _set_available(emulator, variant, 2)
    operations.place_order(emulator.shop, [operations.SaleLine(variant, 5)])
    assert level.quantity("available") == -3
    assert emulator.shop.stats.oversold_units == 3
    operations.place_order(emulator.shop, [operations.SaleLine(variant, 1)])
    assert emulator.shop.stats.oversold_units == 4


def test_untracked_items_sell_without_touching_stock(emulator: ShopifyEmulator) -> None:
    variant = _variant(emulator, tracked=False)
    level = _set_available(emulator, variant, 0)
    operations.place_order(emulator.shop, [operations.SaleLine(variant, 4)])
    assert level.quantity("available") == 0
    assert emulator.shop.stats.oversold_units == 0


FULFILLMENT_ORDERS = """
query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 5) { nodes { id status
  lineItems(first: 10) { nodes { id remainingQuantity lineItem { id } } } } } } }
"""
FULFILL = """
mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) {
  fulfillment { id status trackingInfo { company number url } } userErrors { field message } } }
"""


def _fulfillment_order(gql: Gql, order_id: int) -> dict[str, Any]:
    _, body = gql(FULFILLMENT_ORDERS, {"id": f"gid://shopify/Order/{order_id}"})
    node: dict[str, Any] = body["data"]["order"]["fulfillmentOrders"]["nodes"][0]
    return node


def test_partial_then_full_fulfillment(gql: Gql, emulator: ShopifyEmulator) -> None:
    variant = _variant(emulator)
    level = _set_available(emulator, variant, 10)
    order = operations.place_order(emulator.shop, [operations.SaleLine(variant, 3)])
    fo = _fulfillment_order(gql, order.id)
    line = fo["lineItems"]["nodes"][0]
    partial = {
        "lineItemsByFulfillmentOrder": [
            {"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": [{"id": line["id"], "quantity": 2}]}
        ],
        "trackingInfo": {"company": "DHL", "number": "JD0001", "url": "https://dhl.example/JD0001"},
    }
    _, body = gql(FULFILL, {"f": partial})
    assert body["data"]["fulfillmentCreate"]["userErrors"] == []
    assert body["data"]["fulfillmentCreate"]["fulfillment"]["trackingInfo"] == [
        {"company": "DHL", "number": "JD0001", "url": "https://dhl.example/JD0001"}
    ]
    assert (level.quantity("committed"), level.quantity("on_hand")) == (1, 8)
    assert order.fulfillment_status == "partial"
    assert _fulfillment_order(gql, order.id)["status"] == "IN_PROGRESS"
    _, too_many = gql(FULFILL, {"f": partial})
    assert too_many["data"]["fulfillmentCreate"]["userErrors"][0]["message"] == (
        "Invalid fulfillment order line item quantity requested."
    )
    rest = {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]}]}
    _, body = gql(FULFILL, {"f": rest})
    assert body["data"]["fulfillmentCreate"]["userErrors"] == []
    assert order.fulfillment_status == "fulfilled"
    assert _fulfillment_order(gql, order.id)["status"] == "CLOSED"


CANCEL = """
mutation($id: ID!, $restock: Boolean!) { orderCancel(orderId: $id, reason: CUSTOMER, refund: true, restock: $restock) {
  job { id done } orderCancelUserErrors { code field message } } }
"""


@pytest.mark.parametrize(("restock", "available_after"), [(True, 10), (False, 7)])
def test_cancel_with_and_without_restock(
    restock: bool, available_after: int, gql: Gql, emulator: ShopifyEmulator
) -> None:
    variant = _variant(emulator)
    level = _set_available(emulator, variant, 10)
    order = operations.place_order(emulator.shop, [operations.SaleLine(variant, 3)])
    _, body = gql(CANCEL, {"id": f"gid://shopify/Order/{order.id}", "restock": restock})
    assert body["data"]["orderCancel"]["orderCancelUserErrors"] == []
    assert body["data"]["orderCancel"]["job"]["done"] is True
    assert (level.quantity("available"), level.quantity("committed")) == (available_after, 0)
    assert order.financial_status == "refunded"
    _, again = gql(CANCEL, {"id": f"gid://shopify/Order/{order.id}", "restock": restock})
    assert again["data"]["orderCancel"]["orderCancelUserErrors"][0]["code"] == "INVALID"


REFUND = """
mutation($input: RefundInput!) { refundCreate(input: $input) {
  refund { id totalRefundedSet { shopMoney { amount currencyCode } } refundLineItems(first: 5) { nodes { quantity restockType } } }
  order { displayFinancialStatus } userErrors { field message } } }
"""


def test_refund_restocks_and_moves_financial_status(gql: Gql, emulator: ShopifyEmulator) -> None:
    variant = _variant(emulator)
    level = _set_available(emulator, variant, 10)
    order = operations.place_order(emulator.shop, [operations.SaleLine(variant, 2)])
    line = order.line_items[0]
    refund_input = {
        "orderId": f"gid://shopify/Order/{order.id}",
        "refundLineItems": [
            {"lineItemId": f"gid://shopify/LineItem/{line.id}", "quantity": 1, "restockType": "CANCEL"}
        ],
        "transactions": [
            {
                "amount": str(line.price),
                "gateway": "manual",
                "kind": "REFUND",
                "orderId": f"gid://shopify/Order/{order.id}",
            }
        ],
    }
    _, body = gql(REFUND, {"input": refund_input})
    payload = body["data"]["refundCreate"]
    assert payload["userErrors"] == []
    assert payload["refund"]["totalRefundedSet"]["shopMoney"] == {
        "amount": f"{line.price:.2f}",
        "currencyCode": "USD",
    }
    assert payload["order"]["displayFinancialStatus"] == "PARTIALLY_REFUNDED"
    assert (level.quantity("available"), level.quantity("committed")) == (9, 1)
    over = {**refund_input, "refundLineItems": [{**refund_input["refundLineItems"][0], "quantity": 5}]}
    _, body = gql(REFUND, {"input": over})
    assert body["data"]["refundCreate"]["userErrors"][0]["field"] == ["refundLineItems", "0", "quantity"]


BULK_PRICES = """
mutation($productId: ID!, $variants: [ProductVariantsBulkInput!]!, $partial: Boolean) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants, allowPartialUpdates: $partial) {
    productVariants { id price compareAtPrice } userErrors { code field message } } }
"""


def test_bulk_price_update_all_or_nothing_unless_partial(gql: Gql, emulator: ShopifyEmulator) -> None:
    product = next(p for p in emulator.shop.products.values() if len(p.variant_ids) >= 1)
    good = {
        "id": f"gid://shopify/ProductVariant/{product.variant_ids[0]}",
        "price": "19.99",
        "compareAtPrice": "24.99",
    }
    bad = {"id": "gid://shopify/ProductVariant/1", "price": "1.00"}
    variables = {
        "productId": f"gid://shopify/Product/{product.id}",
        "variants": [good, bad],
        "partial": False,
    }
    _, body = gql(BULK_PRICES, variables)
    assert (
        body["data"]["productVariantsBulkUpdate"]["userErrors"][0]["code"] == "PRODUCT_VARIANT_DOES_NOT_EXIST"
    )
    assert str(emulator.shop.variants[product.variant_ids[0]].price) != "19.99"
    _, body = gql(BULK_PRICES, {**variables, "partial": True})
    assert body["data"]["productVariantsBulkUpdate"]["productVariants"] == [
        {"id": good["id"], "price": "19.99", "compareAtPrice": "24.99"}
    ]
    negative = {**variables, "variants": [{**good, "price": "-1"}]}
    _, body = gql(BULK_PRICES, negative)
    assert body["data"]["productVariantsBulkUpdate"]["userErrors"][0]["code"] == "GREATER_THAN_OR_EQUAL_TO"


def test_random_shoppers_are_reproducible_and_counted() -> None:
    import random

    from channelhub.clock import ManualClock
    from channelhub.sandbox.shopify import EmulatorSettings, place_random_orders

    def run() -> tuple[int, int, int, int]:
        emulator = ShopifyEmulator(
            EmulatorSettings(seed=9, skus=6, clock=ManualClock(), deliver_webhooks=False)
        )
        outcome = place_random_orders(emulator.shop, 60, random.Random(4), max_quantity=5)
        stats = emulator.shop.stats
        assert outcome.placed == stats.orders and outcome.refused == stats.refused_orders
        return outcome.placed, outcome.refused, stats.units_sold, stats.oversold_units

    first = run()
    assert first == run()
    assert first[0] > 0 and first[1] > 0  # with 6 SKUs and up to 5 units per line, stock runs out


def test_a_sale_between_read_and_write_makes_the_compare_stale(gql: Gql, emulator: ShopifyEmulator) -> None:
    variant = _variant(emulator)
    level = _set_available(emulator, variant, 10)
    read = 10  # what an integration read before the shopper bought
    operations.place_order(emulator.shop, [operations.SaleLine(variant, 1)])
    mutation = (
        "mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) "
        "{ userErrors { code } } }"
    )
    quantity = {
        "inventoryItemId": f"gid://shopify/InventoryItem/{variant.inventory_item_id}",
        "locationId": f"gid://shopify/Location/{level.location_id}",
        "quantity": 25,
        "compareQuantity": read,
    }
    _, body = gql(
        mutation, {"input": {"name": "available", "reason": "correction", "quantities": [quantity]}}
    )
    assert body["data"]["inventorySetQuantities"]["userErrors"] == [{"code": "COMPARE_QUANTITY_STALE"}]
    assert level.quantity("available") == 9  # the sale was not overwritten
    assert emulator.shop.stats.stale_compare_rejections == 1
