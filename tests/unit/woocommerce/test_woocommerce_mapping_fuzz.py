"""WooCommerce order payloads of any JSON shape map to an order or raise `WooCommerceMappingError`
(a `ValidationFailed`) naming the field; the canonical step raises only `DomainError`. A bare
`{"id": 1}` is refused, not taken for an empty order placed in 1970."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channelhub.connectors.errors import ValidationFailed
from channelhub.connectors.woocommerce.canonical import to_domain_order
from channelhub.connectors.woocommerce.mapping import WooCommerceMappingError, order_from_payload
from channelhub.domain import DomainError
from channelhub.service.adapters.woocommerce import snapshot_of

from .test_woocommerce_canonical import payload as order_payload

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
VALID = order_payload("processing", paid=True, refunds=[{"id": 9, "total": "-5.00", "reason": "dent"}])
FIELDS = sorted(VALID)
LINE_FIELDS = sorted(VALID["line_items"][0])
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def map_all(raw: Any) -> None:
    try:
        order = order_from_payload(raw)
    except WooCommerceMappingError as error:
        assert "WooCommerce order" in str(error)
        return
    snapshot_of("woocommerce", order)
    try:
        to_domain_order(order)
    except DomainError as error:
        assert str(error)


@FUZZ
@given(raw=JSON)
def test_any_json_maps_or_raises_the_mapping_error(raw: Any) -> None:
    map_all(raw)


@FUZZ
@given(replacements=st.dictionaries(st.sampled_from(FIELDS), JSON, min_size=1, max_size=3))
def test_valid_orders_with_odd_fields_map_or_raise_the_mapping_error(replacements: dict[str, Any]) -> None:
    map_all(VALID | replacements)


@FUZZ
@given(replacements=st.dictionaries(st.sampled_from(LINE_FIELDS), JSON, min_size=1, max_size=3))
def test_odd_line_items_map_or_raise_the_mapping_error(replacements: dict[str, Any]) -> None:
    map_all(VALID | {"line_items": [VALID["line_items"][0] | replacements]})


def test_the_valid_order_maps() -> None:
    order = order_from_payload(VALID)
    assert (order.order_id, order.status, len(order.lines), order.refunds[0].amount) == (
        77,
        "processing",
        1,
        5,
    )
    assert to_domain_order(order).placed_at.year == 2026


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"id": 1}, "WooCommerce order 1: status must be non-empty text"),
        (VALID | {"id": None}, "WooCommerce order has no valid id: None"),
        ({k: v for k, v in VALID.items() if k != "date_created_gmt"}, "date_created_gmt is missing"),
        (VALID | {"date_created_gmt": "yesterday"}, "date_created_gmt is not a date: 'yesterday'"),
        (VALID | {"line_items": []}, "line_items is empty"),
        (VALID | {"line_items": "TEE-M"}, "line_items must be a list, not text"),
        (VALID | {"line_items": [3]}, r"line_items\[0\] must be an object, not a number"),
        (VALID | {"currency": ""}, "currency must be non-empty text"),
        (VALID | {"total": {"amount": 1}}, "total is not an amount"),
        ([VALID], "a WooCommerce order must be an object, not a list"),
    ],
)
def test_incomplete_or_malformed_orders_are_refused_precisely(raw: Any, message: str) -> None:
    with pytest.raises(WooCommerceMappingError, match=message) as raised:
        order_from_payload(raw)
    assert isinstance(raised.value, ValidationFailed)
