from __future__ import annotations

import copy
import dataclasses
import json
import types
import typing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channelhub.domain import (
    AllocationRules,
    AvailabilityChanged,
    CanonicalEvent,
    ChannelAllocation,
    InvalidEventPayload,
    InvalidValue,
    Money,
    OrderCancelled,
    OrderPlaced,
    PlacedLine,
    ShipmentCreated,
    Sku,
    StockChanged,
    StockPosition,
    UnknownEventType,
    Warehouse,
    available_to_sell,
    event_from_dict,
    event_json_schemas,
    event_types,
)
from tests.unit.domain.jsonschema_subset import errors

EXPECTED_TYPES = {
    "stock.changed.v1",
    "order.placed.v1",
    "order.paid.v1",
    "order.cancelled.v1",
    "shipment.created.v1",
    "refund.created.v1",
    "price.changed.v1",
    "availability.changed.v1",
    "warehouse.status_changed.v1",
}
AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PROPERTY = settings(max_examples=40, deadline=None)

# -- a strategy for any registered event, derived from its type hints --------------------------

skus = st.text(st.characters(categories=("L", "N", "P", "S")), min_size=1, max_size=64).map(Sku)
codes = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,10}\Z")
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).flatmap(
    lambda moment: st.sampled_from(
        [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-9, minutes=-30))]
    ).map(lambda zone: moment.replace(tzinfo=zone))
)
amounts = st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=4, allow_nan=False)
money = amounts.map(lambda amount: Money(amount, "EUR"))


def strategy_for(hint: Any, field: dataclasses.Field[Any] | None = None) -> st.SearchStrategy[Any]:
    constraints = field.metadata.get("json_schema", {}) if field else {}
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        inner = next(arg for arg in typing.get_args(hint) if arg is not type(None))
        return st.none() | strategy_for(inner)
    if origin is tuple:
        return st.lists(strategy_for(typing.get_args(hint)[0]), min_size=1, max_size=3).map(tuple)
    if hint is int:
        return st.integers(constraints.get("minimum", -(10**9)), 10**9)
    if hint is str:
        return (
            codes
            if "pattern" in constraints
            else st.text(min_size=constraints.get("minLength", 0), max_size=20)
        )
    simple: dict[Any, st.SearchStrategy[Any]] = {
        bool: st.booleans(),
        Sku: skus,
        Money: money,
        datetime: moments,
    }
    if hint in simple:
        return simple[hint]
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        cls: type[Any] = hint
        hints = typing.get_type_hints(cls)
        fields = {f.name: strategy_for(hints[f.name], f) for f in dataclasses.fields(cls)}
        return st.fixed_dictionaries(fields).map(lambda values: cls(**values))
    raise AssertionError(f"no strategy for {hint!r}")


any_event = st.sampled_from(sorted(event_types().items())).flatmap(lambda item: strategy_for(item[1]))


def test_every_required_event_type_is_registered_with_a_schema() -> None:
    assert set(event_types()) >= EXPECTED_TYPES
    schemas = event_json_schemas()
    assert set(schemas) == set(event_types())
    for name, schema in schemas.items():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["title"] == name
        assert schema["properties"]["type"] == {"const": name}
        assert set(schema["required"]) <= set(schema["properties"])
        json.dumps(schema)  # plain JSON, ready to be written to a file


@PROPERTY
@given(any_event)
def test_events_round_trip_through_json_and_match_their_schema(event: CanonicalEvent) -> None:
    data = json.loads(json.dumps(event.to_dict()))
    schema = event_json_schemas()[event.type]
    assert errors(data, schema, schema) == []
    again = event_from_dict(data)
    assert again == event
    assert again.event_id == event.event_id and again.key == event.key
    assert again.to_dict() == data


MUTATIONS = ("drop", "extra", "wrong_type", "empty_string", "negative", "empty_list", "null")


def mutate(payload: dict[str, Any], field: str, mutation: str) -> dict[str, Any] | None:
    """`payload` with `field` broken by `mutation`, or None when the mutation does not apply."""
    broken = copy.deepcopy(payload)
    value = broken.get(field)
    if mutation == "drop":
        del broken[field]
    elif mutation == "extra":
        broken["unexpected_field"] = 1
    elif mutation == "wrong_type":
        broken[field] = [1.5]  # a list of floats is never valid for any field
    elif mutation == "empty_string" and isinstance(value, str):
        broken[field] = ""
    elif mutation == "negative" and isinstance(value, int) and not isinstance(value, bool):
        broken[field] = -1 - abs(value)
    elif mutation == "empty_list" and isinstance(value, list):
        broken[field] = []
    elif mutation == "null":
        broken[field] = None
    else:
        return None
    return broken


def altered_payloads(payload: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every mutation of every field, top-level and one level down (lines, amounts)."""
    for field in sorted(k for k in payload if k != "type"):
        for mutation in MUTATIONS:
            broken = mutate(payload, field, mutation)
            if broken is not None:
                yield field, mutation, broken
        value = payload[field]
        nested = value[0] if isinstance(value, list) and value else value
        if not isinstance(nested, dict):
            continue
        for inner_field in sorted(nested):
            for mutation in MUTATIONS:
                inner = mutate(nested, inner_field, mutation)
                if inner is not None:
                    broken = copy.deepcopy(payload)
                    broken[field] = [inner, *value[1:]] if isinstance(value, list) else inner
                    yield f"{field}.{inner_field}", mutation, broken


def decoder_accepts(payload: dict[str, Any]) -> bool:
    try:
        event_from_dict(payload)
    except (InvalidEventPayload, UnknownEventType):
        return False
    return True


@settings(max_examples=30, deadline=None)
@given(any_event)
def test_schema_and_decoder_agree_on_altered_payloads(event: CanonicalEvent) -> None:
    schema = event_json_schemas()[event.type]
    checked = 0
    for path, mutation, broken in altered_payloads(event.to_dict()):
        schema_accepts = errors(broken, schema, schema) == []
        if mutation == "drop" and path in ("event_id", "key"):
            # Required on the wire, optional for the decoder: both are derived from the content.
            assert not schema_accepts and event_from_dict(broken) == event
            continue
        if path not in ("event_id", "key"):
            # A content change alters the derived id; that check is the decoder's alone (tamper test).
            broken = {k: v for k, v in broken.items() if k not in ("event_id", "key")}
        assert schema_accepts == decoder_accepts(broken), (path, mutation)
        checked += 1
    assert checked > 10


def placed(order_key: str = "shopify:1001", at: datetime = AT) -> OrderPlaced:
    return OrderPlaced(
        occurred_at=at,
        order_key=order_key,
        channel="shopify",
        channel_order_id="1001",
        lines=(PlacedLine(line_id="1", sku=Sku("A-1"), quantity=2, unit_price=Money.of("9.99", "USD")),),
        total=Money.of("19.98", "USD"),
    )


def test_event_id_is_deterministic_from_the_natural_key() -> None:
    # Redelivery of the same order, even re-stamped, is the same fact.
    assert placed().event_id == placed(at=AT + timedelta(minutes=5)).event_id
    assert placed().event_id != placed("shopify:1002").event_id
    # Without a natural key the whole content counts, including the time.
    stock = StockChanged(occurred_at=AT, sku=Sku("A-1"), warehouse="WH1", on_hand=5, reserved=0, hold=0)
    assert stock.event_id == dataclasses.replace(stock).event_id
    assert stock.event_id != dataclasses.replace(stock, on_hand=6).event_id
    assert stock.event_id != dataclasses.replace(stock, occurred_at=AT + timedelta(seconds=1)).event_id
    # The same instant in another zone is the same event.
    assert (
        stock.event_id
        == dataclasses.replace(stock, occurred_at=AT.astimezone(timezone(timedelta(hours=3)))).event_id
    )


def test_ordering_keys_group_by_sku_order_and_warehouse() -> None:
    assert placed().key == "order:shopify:1001"
    assert OrderCancelled(occurred_at=AT, order_key="shopify:1001", reason="customer").key == placed().key
    stock = StockChanged(occurred_at=AT, sku=Sku("A-1"), warehouse="WH1", on_hand=5, reserved=0, hold=0)
    assert stock.key == "sku:A-1"


def test_events_build_from_stock_positions_and_availability_results() -> None:
    position = StockPosition(Sku("A-1"), "WH1", on_hand=9, reserved=2, hold=1, incoming=4)
    stock = StockChanged.from_position(position, AT)
    assert stock.to_position() == position and stock.tier == 1
    rules = AllocationRules(channels=(ChannelAllocation("shopify", ("WH1",)),))
    result = available_to_sell(
        Sku("A-1"), "shopify", positions=[position], warehouses=[Warehouse("WH1")], rules=rules
    )
    changed = AvailabilityChanged.from_result(result, AT)
    assert (changed.quantity, changed.channel, changed.key) == (6, "shopify", "sku:A-1")
    assert ShipmentCreated.tier == 2  # tracking can wait minutes; stock and orders cannot


def test_decimals_and_datetimes_are_strings_on_the_wire() -> None:
    data = placed().to_dict()
    assert data["total"] == {"amount": "19.98", "currency": "USD"}
    assert data["occurred_at"] == "2026-03-01T12:00:00+00:00"
    assert data["type"] == "order.placed.v1"


def test_tampered_or_unknown_payloads_are_refused_precisely() -> None:
    data = placed().to_dict()
    with pytest.raises(InvalidEventPayload, match="event_id"):
        event_from_dict({**data, "event_id": "00000000-0000-0000-0000-000000000000"})
    with pytest.raises(InvalidEventPayload, match=r"order.placed.v1.lines\[0\].quantity"):
        event_from_dict({**data, "lines": [{**data["lines"][0], "quantity": "2"}]})
    with pytest.raises(InvalidEventPayload, match="RFC 3339 date-time with an offset"):
        event_from_dict({**data, "occurred_at": "2026-03-01T12:00:00"})
    with pytest.raises(InvalidEventPayload, match="plain decimal"):
        event_from_dict({**data, "total": {"amount": "1e3", "currency": "USD"}})
    with pytest.raises(InvalidEventPayload, match="ISO 4217"):
        event_from_dict({**data, "total": {"amount": "1", "currency": "usd"}})
    with pytest.raises(UnknownEventType, match=r"order\.placed\.v9"):
        event_from_dict({**data, "type": "order.placed.v9"})
    with pytest.raises(InvalidEventPayload):
        event_from_dict([data])  # type: ignore[arg-type]


def test_events_validate_their_content_when_built() -> None:
    with pytest.raises(InvalidValue, match="timezone-aware"):
        StockChanged(
            occurred_at=datetime(2026, 1, 1), sku=Sku("A"), warehouse="WH1", on_hand=1, reserved=0, hold=0
        )
    with pytest.raises(InvalidValue, match="reserved"):
        StockChanged(occurred_at=AT, sku=Sku("A"), warehouse="WH1", on_hand=1, reserved=-1, hold=0)
    with pytest.raises(InvalidValue, match="one currency"):
        dataclasses.replace(placed(), total=Money.of("19.98", "EUR"))
    with pytest.raises(InvalidValue, match="channel"):
        dataclasses.replace(placed(), channel="shop ify")
    with pytest.raises(InvalidValue, match="at least 1 item"):
        dataclasses.replace(placed(), lines=())
    assert event_json_schemas()["order.placed.v1"]["properties"]["lines"]["minItems"] == 1


@settings(max_examples=20, deadline=None)
@given(any_event)
def test_real_jsonschema_validator_agrees_when_installed(event: CanonicalEvent) -> None:
    """Cross-check with the reference validator (runs when `jsonschema` is installed)."""
    jsonschema = pytest.importorskip("jsonschema")
    schema = event_json_schemas()[event.type]
    validator = jsonschema.Draft202012Validator(schema)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert validator.is_valid(event.to_dict())
    for path, mutation, broken in altered_payloads(event.to_dict()):
        assert validator.is_valid(broken) == (errors(broken, schema, schema) == []), (path, mutation)
