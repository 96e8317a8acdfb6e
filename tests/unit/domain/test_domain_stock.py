from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channelhub.domain import (
    DuplicateStockPosition,
    InvalidQuantity,
    Location,
    LocationUsage,
    QuantRow,
    Sku,
    StockPosition,
    UnknownLocation,
    Warehouse,
    stock_positions_from_quants,
)
from channelhub.domain.stock import index_positions

A, B = Sku("A"), Sku("B")
LOCATIONS = (
    Location("WH1/Stock", "WH1"),
    Location("WH1/Stock/Shelf", "WH1"),
    Location("WH1/Quality", "WH1", is_quality_hold=True),
    Location("WH1", "WH1", usage=LocationUsage.VIEW),
    Location("WH2/Stock", "WH2"),
    Location("Partners/Customers", None, usage=LocationUsage.CUSTOMER),
    Location("Virtual/Transit", "WH1", usage=LocationUsage.TRANSIT),
)


def test_free_is_on_hand_minus_reserved_minus_hold_never_negative() -> None:
    assert StockPosition(A, "WH1", on_hand=10, reserved=3, hold=2).free == 5
    assert StockPosition(A, "WH1", on_hand=2, reserved=3).free == 0
    assert StockPosition(A, "WH1", on_hand=-4).free == 0


def test_positions_sum_internal_quants_per_warehouse_and_count_quality_hold() -> None:
    quants = [
        QuantRow(A, "WH1/Stock", quantity=10, reserved=4),
        QuantRow(A, "WH1/Stock/Shelf", quantity=5),
        QuantRow(A, "WH1/Quality", quantity=3, reserved=1),
        QuantRow(A, "Partners/Customers", quantity=99),
        QuantRow(A, "Virtual/Transit", quantity=7),
        QuantRow(A, "WH2/Stock", quantity=2),
        QuantRow(B, "WH2/Stock", quantity=1, reserved=1),
    ]
    positions = stock_positions_from_quants(quants, LOCATIONS, incoming={(A, "WH2"): 6, (B, "WH1"): 4})
    assert positions == (
        StockPosition(A, "WH1", on_hand=18, reserved=5, hold=2),
        StockPosition(A, "WH2", on_hand=2, incoming=6),
        StockPosition(B, "WH1", on_hand=0, incoming=4),
        StockPosition(B, "WH2", on_hand=1, reserved=1),
    )
    # 18 on hand − 5 reserved − 2 unreserved units in quality hold.
    assert positions[0].free == 11


def test_quant_in_unknown_location_is_an_error_not_a_silent_drop() -> None:
    with pytest.raises(UnknownLocation, match="WH9/Stock"):
        stock_positions_from_quants([QuantRow(A, "WH9/Stock", 1)], LOCATIONS)


def test_duplicate_positions_are_refused() -> None:
    with pytest.raises(DuplicateStockPosition, match="WH1"):
        index_positions([StockPosition(A, "WH1", 1), StockPosition(A, "WH1", 2)])


def test_bad_quantities_are_refused() -> None:
    with pytest.raises(InvalidQuantity):
        StockPosition(A, "WH1", on_hand=1, reserved=-1)
    with pytest.raises(InvalidQuantity):
        QuantRow(A, "WH1/Stock", quantity=1.5)  # type: ignore[arg-type]


def test_warehouse_sells_only_when_online_and_not_on_hold() -> None:
    assert Warehouse("WH1").can_sell
    assert not Warehouse("WH1", online=False).can_sell
    assert not Warehouse("WH1", on_hold=True).can_sell


quants = st.lists(
    st.builds(
        QuantRow,
        sku=st.sampled_from([A, B]),
        location=st.sampled_from([location.code for location in LOCATIONS]),
        quantity=st.integers(-5, 50),
        reserved=st.integers(0, 10),
    ),
    max_size=20,
)


@settings(max_examples=100, deadline=None)
@given(quants)
def test_positions_count_exactly_the_internal_warehouse_quants(rows: list[QuantRow]) -> None:
    positions = stock_positions_from_quants(rows, LOCATIONS)
    stock_locations = {loc.code for loc in LOCATIONS if loc.counts_as_stock}
    counted = [row for row in rows if row.location in stock_locations]
    assert sum(p.on_hand for p in positions) == sum(row.quantity for row in counted)
    assert sum(p.reserved for p in positions) == sum(row.reserved for row in counted)
    assert len({(p.sku, p.warehouse) for p in positions}) == len(positions)
    for position in positions:
        assert 0 <= position.free <= max(0, position.on_hand)
        assert position.hold <= sum(max(0, r.quantity) for r in counted if r.location == "WH1/Quality")
