"""WooCommerce order payloads → canonical `channelhub.domain.Order`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from channelhub.connectors.woocommerce.canonical import to_domain_order
from channelhub.connectors.woocommerce.mapping import order_from_payload
from channelhub.domain import DomainError, Money, OrderStatus, PaymentStatus
from channelhub.service.adapters.woocommerce import snapshot_of


def payload(
    status: str,
    *,
    paid: bool,
    refunds: list[dict[str, Any]] | None = None,
    sku: str = "TEE-M",
    completed: bool = False,
) -> dict[str, Any]:
    return {
        "id": 77,
        "status": status,
        "currency": "EUR",
        "total": "30.00",
        "payment_method": "stripe",
        "transaction_id": "pi_123" if paid else "",
        "date_created_gmt": "2026-05-01T08:00:00",
        "date_modified_gmt": "2026-05-01T09:00:00",
        "date_paid_gmt": "2026-05-01T08:01:00" if paid else None,
        "date_completed_gmt": "2026-05-02T10:00:00" if completed else None,
        "line_items": [
            {
                "id": 5,
                "sku": sku,
                "product_id": 3,
                "variation_id": 4,
                "quantity": 2,
                "price": 15.0,
                "total": "30.00",
            }
        ],
        "refunds": refunds or [],
    }


@pytest.mark.parametrize(
    ("status", "paid", "expected_status", "expected_payment"),
    [
        ("pending", False, OrderStatus.PLACED, PaymentStatus.PENDING),
        ("on-hold", False, OrderStatus.ON_HOLD, PaymentStatus.PENDING),
        ("processing", True, OrderStatus.CONFIRMED, PaymentStatus.PAID),
        ("completed", True, OrderStatus.FULFILLED, PaymentStatus.PAID),
        ("cancelled", False, OrderStatus.CANCELLED, PaymentStatus.VOIDED),
        ("failed", False, OrderStatus.ON_HOLD, PaymentStatus.PENDING),
    ],
)
def test_statuses_map_to_order_and_payment_states(
    status: str, paid: bool, expected_status: OrderStatus, expected_payment: PaymentStatus
) -> None:
    order = to_domain_order(order_from_payload(payload(status, paid=paid)))
    assert order.status is expected_status and order.payment is not None
    assert order.payment.status is expected_payment
    assert order.key == "woocommerce:77" and order.total == Money.of("30.00", "EUR")
    assert order.lines[0].sku.value == "TEE-M" and order.lines[0].unit_price == Money.of("15.0", "EUR")


def test_refunds_reduce_what_was_paid() -> None:
    partial = to_domain_order(
        order_from_payload(
            payload("processing", paid=True, refunds=[{"id": 9, "reason": "dent", "total": "-5.00"}])
        )
    )
    assert partial.payment is not None and partial.payment.status is PaymentStatus.PARTIALLY_REFUNDED
    assert partial.payment.refundable == Money.of("25.00", "EUR") and partial.refunds[0].reason == "dent"
    full = to_domain_order(
        order_from_payload(
            payload(
                "refunded", paid=True, completed=True, refunds=[{"id": 9, "reason": "", "total": "-30.00"}]
            )
        )
    )
    assert full.status is OrderStatus.FULFILLED and full.payment is not None
    assert full.payment.status is PaymentStatus.REFUNDED and full.payment.refunded.amount == Decimal("30.00")


def test_a_line_without_sku_is_a_mapping_gap_not_a_silent_drop() -> None:
    with pytest.raises(DomainError):
        to_domain_order(order_from_payload(payload("processing", paid=True, sku="")))


def test_listings_map_to_the_domain_with_ids_and_stock_behaviour() -> None:
    from channelhub.connectors.woocommerce import to_domain_listing
    from channelhub.connectors.woocommerce.mapping import listing_from_payload

    listing = to_domain_listing(
        listing_from_payload(
            {
                "id": 4,
                "parent_id": 3,
                "type": "variation",
                "sku": "TEE-M",
                "manage_stock": True,
                "stock_quantity": 0,
                "stock_status": "onbackorder",
                "backorders": "notify",
                "regular_price": "9.00",
                "sale_price": "",
            }
        ),
        channel="woo-eu",
    )
    assert listing.channel == "woo-eu" and listing.sku.value == "TEE-M"
    assert dict(listing.item_ids) == {"product_id": "3", "variation_id": "4"}
    assert listing.tracks_inventory and listing.continue_selling


@pytest.mark.parametrize(
    ("status", "paid", "reduced"),
    [
        ("processing", True, True),
        ("completed", True, True),
        ("on-hold", False, True),
        ("pending", False, False),
        ("failed", False, False),
    ],
)
def test_the_snapshot_says_whether_woocommerce_took_the_units_off_its_stock(
    status: str, paid: bool, reduced: bool
) -> None:
    order = order_from_payload(payload(status, paid=paid))
    assert snapshot_of("woocommerce", order).channel_reduced_stock is reduced
