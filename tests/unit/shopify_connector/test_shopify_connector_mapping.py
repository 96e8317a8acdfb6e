"""REST (webhook) and GraphQL order shapes map to the same canonical events."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from channelhub.connectors.shopify import ShopifyMappingError, order_events
from channelhub.connectors.shopify.mapping import order_from_graphql, order_from_rest, refund_from_rest
from channelhub.domain.events import OrderCancelled, OrderPaid, OrderPlaced, RefundCreated, ShipmentCreated


def rest_order(**overrides: Any) -> dict[str, Any]:
    order = {
        "id": 5940139491234,
        "admin_graphql_api_id": "gid://shopify/Order/5940139491234",
        "name": "#1001",
        "created_at": "2024-11-10T10:30:00-05:00",
        "updated_at": "2024-11-10T10:31:00-05:00",
        "currency": "EUR",
        "financial_status": "paid",
        "fulfillment_status": None,
        "cancelled_at": None,
        "cancel_reason": None,
        "total_price": "59.99",
        "line_items": [
            {"id": 11, "sku": "TEE-RED-M", "quantity": 2, "price": "19.99"},
            {"id": 12, "sku": "MUG-01", "quantity": 1, "price": "20.01"},
        ],
        "refunds": [],
        "fulfillments": [],
    }
    return order | overrides


def graphql_order() -> dict[str, Any]:
    def bag(amount: str) -> dict[str, Any]:
        return {"shopMoney": {"amount": amount, "currencyCode": "EUR"}}

    return {
        "id": "gid://shopify/Order/5940139491234",
        "name": "#1001",
        "createdAt": "2024-11-10T15:30:00Z",
        "updatedAt": "2024-11-10T15:31:00Z",
        "cancelledAt": None,
        "cancelReason": None,
        "currencyCode": "EUR",
        "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "UNFULFILLED",
        "totalPriceSet": bag("59.99"),
        "lineItems": {
            "nodes": [
                {
                    "id": "gid://shopify/LineItem/11",
                    "sku": "TEE-RED-M",
                    "quantity": 2,
                    "originalUnitPriceSet": bag("19.99"),
                },
                {
                    "id": "gid://shopify/LineItem/12",
                    "sku": "MUG-01",
                    "quantity": 1,
                    "originalUnitPriceSet": bag("20.01"),
                },
            ]
        },
    }


def test_webhook_and_graphql_shapes_give_the_same_events() -> None:
    from_webhook = order_events("shopify", order_from_rest(rest_order()))
    from_backfill = order_events("shopify", order_from_graphql(graphql_order()))
    assert [e.event_id for e in from_webhook] == [e.event_id for e in from_backfill]
    placed, paid = from_webhook
    assert isinstance(placed, OrderPlaced) and isinstance(paid, OrderPaid)
    assert placed.order_key == "shopify:5940139491234"
    assert [(str(line.sku), line.quantity, line.unit_price.amount) for line in placed.lines] == [
        ("TEE-RED-M", 2, Decimal("19.99")),
        ("MUG-01", 1, Decimal("20.01")),
    ]
    assert placed.total.amount == Decimal("59.99") and placed.total.currency == "EUR"
    assert paid.amount.amount == Decimal("59.99")


@pytest.mark.parametrize("status", ["pending", "authorized", "voided"])
def test_unpaid_financial_statuses_emit_no_payment(status: str) -> None:
    events = order_events("shopify", order_from_rest(rest_order(financial_status=status)))
    assert [type(e) for e in events] == [OrderPlaced]


def test_cancel_fulfilment_and_refund_are_mapped() -> None:
    order = rest_order(
        financial_status="partially_refunded",
        cancelled_at="2024-11-11T09:00:00+00:00",
        cancel_reason="customer",
        fulfillments=[
            {
                "id": 900,
                "tracking_company": "DHL",
                "tracking_number": "JJD0099",
                "tracking_url": "https://track.example/JJD0099",
                "line_items": [{"id": 11, "sku": "TEE-RED-M", "quantity": 1}],
            }
        ],
        refunds=[
            {
                "id": 700,
                "note": "damaged",
                "transactions": [
                    {"kind": "refund", "status": "success", "amount": "19.99"},
                    {"kind": "refund", "status": "failure", "amount": "5.00"},
                ],
            }
        ],
    )
    events = order_events("shopify", order_from_rest(order))
    by_type = {type(e): e for e in events}
    cancelled = by_type[OrderCancelled]
    assert isinstance(cancelled, OrderCancelled) and cancelled.reason == "customer"
    shipment = by_type[ShipmentCreated]
    assert isinstance(shipment, ShipmentCreated)
    assert (
        shipment.shipment_id == "900" and shipment.tracking_number == "JJD0099" and shipment.carrier == "DHL"
    )
    assert [(str(line.sku), line.quantity) for line in shipment.lines] == [("TEE-RED-M", 1)]
    refund = by_type[RefundCreated]
    assert isinstance(refund, RefundCreated)
    assert refund.amount.amount == Decimal("19.99") and refund.reason == "damaged"


def test_refund_webhook_body_sums_successful_refund_transactions() -> None:
    refund = refund_from_rest(
        {
            "id": 1,
            "order_id": 2,
            "transactions": [{"kind": "refund", "amount": "3.50"}, {"kind": "refund", "amount": "1.50"}],
        }
    )
    assert refund.amount == Decimal("5.00")


@pytest.mark.parametrize(
    "broken",
    [
        {"line_items": [{"id": 1, "sku": None, "quantity": 1, "price": "1.00"}]},  # custom item: no SKU
        {"total_price": "lots"},
        {"currency": "euro"},
        {"created_at": "yesterday"},
        {"id": None},
    ],
)
def test_unmappable_orders_raise_a_mapping_error_not_a_crash(broken: dict[str, Any]) -> None:
    with pytest.raises(ShopifyMappingError):
        order_events("shopify", order_from_rest(rest_order(**broken)))


def test_delivery_events_by_topic() -> None:
    from channelhub.connectors.shopify.mapping import delivery_events

    assert [type(e) for e in delivery_events("shopify", "orders/paid", rest_order())] == [
        OrderPlaced,
        OrderPaid,
    ]
    refund_body = {
        "id": 700,
        "order_id": 5940139491234,
        "created_at": "2024-11-12T10:00:00+00:00",
        "note": "late",
        "transactions": [{"kind": "refund", "status": "success", "amount": "4.00", "currency": "EUR"}],
    }
    [refund] = delivery_events("shopify", "refunds/create", refund_body)
    assert isinstance(refund, RefundCreated)
    assert refund.order_key == "shopify:5940139491234" and refund.amount.amount == Decimal("4.00")
    assert refund.amount.currency == "EUR"
    # The refund inside an order payload and the refunds/create body are the same fact.
    from_order = order_events("shopify", order_from_rest(rest_order(refunds=[refund_body])))
    assert refund.event_id in {e.event_id for e in from_order}
    assert delivery_events("shopify", "inventory_levels/update", {"inventory_item_id": 1}) == []
    with pytest.raises(ShopifyMappingError):
        delivery_events("shopify", "refunds/create", {"id": 1, "transactions": []})
