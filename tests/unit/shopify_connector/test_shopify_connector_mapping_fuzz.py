"""Any JSON shape a signed webhook (or a GraphQL read) can carry maps to an order or raises
`ShopifyMappingError` with a message naming the field: never `AttributeError`, `TypeError`, ...
Hypothesis throws random JSON at every entry point and at valid orders with fields replaced."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channelhub.connectors.errors import ValidationFailed
from channelhub.connectors.shopify import ShopifyMappingError, order_events
from channelhub.connectors.shopify.mapping import (
    ORDER_TOPICS,
    delivery_events,
    order_from_graphql,
    order_from_rest,
)
from channelhub.service.adapters.shopify import snapshot_of

from .test_shopify_connector_mapping import graphql_order, rest_order

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
REST_FIELDS = [*sorted(rest_order()), "refunds", "fulfillments", "transactions"]
GRAPHQL_FIELDS = sorted(graphql_order())
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def map_rest(topic: str, payload: Any) -> None:
    for event in delivery_events("shopify", topic, payload):
        assert event.order_key.startswith("shopify:")
    if topic in ORDER_TOPICS:
        snapshot_of("shopify", order_from_rest(payload))


def mutated(base: dict[str, Any], replacements: dict[str, Any]) -> dict[str, Any]:
    return base | replacements


@FUZZ
@given(topic=st.sampled_from([*sorted(ORDER_TOPICS), "refunds/create"]), payload=JSON)
def test_any_json_body_maps_or_raises_the_mapping_error(topic: str, payload: Any) -> None:
    try:
        map_rest(topic, payload)
    except ShopifyMappingError as error:
        assert str(error)


@FUZZ
@given(
    replacements=st.dictionaries(st.sampled_from(REST_FIELDS), JSON, min_size=1, max_size=3),
    topic=st.sampled_from(["orders/create", "orders/updated", "refunds/create"]),
)
def test_valid_webhook_orders_with_odd_fields_map_or_raise_the_mapping_error(
    replacements: dict[str, Any], topic: str
) -> None:
    try:
        map_rest(topic, mutated(rest_order(), replacements))
    except ShopifyMappingError as error:
        assert str(error)


@FUZZ
@given(replacements=st.dictionaries(st.sampled_from(GRAPHQL_FIELDS), JSON, min_size=1, max_size=3))
def test_graphql_orders_with_odd_fields_map_or_raise_the_mapping_error(replacements: dict[str, Any]) -> None:
    try:
        order = order_from_graphql(mutated(graphql_order(), replacements))
        order_events("shopify", order)
        snapshot_of("shopify", order)
    except ShopifyMappingError as error:
        assert str(error)


@pytest.mark.parametrize(
    ("line_items", "message"),
    [
        ("TEE-RED-M", "line_items must be a list, not text"),
        ({"id": 11}, "line_items must be a list, not an object"),
        ([7], r"line_items\[0\] must be an object, not a number"),
        (
            [{"id": 11, "sku": "TEE", "quantity": "two", "price": "1"}],
            r"line_items\[0\].quantity is not a whole",
        ),
    ],
)
def test_a_malformed_line_items_field_is_named(line_items: Any, message: str) -> None:
    with pytest.raises(ShopifyMappingError, match=message) as raised:
        delivery_events("shopify", "orders/create", rest_order(line_items=line_items))
    assert isinstance(raised.value, ValidationFailed)


def test_a_body_that_is_not_an_object_is_named() -> None:
    with pytest.raises(ShopifyMappingError, match="order payload must be an object, not a list"):
        order_from_rest([1, 2])  # type: ignore[arg-type]
