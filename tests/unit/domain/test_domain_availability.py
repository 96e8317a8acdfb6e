"""Worked examples of DESIGN §3 (the properties are in test_domain_availability_properties.py)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from channelhub.domain import (
    AllocationRules,
    ChannelAllocation,
    ChannelListing,
    ChannelShare,
    InvalidAllocationRule,
    InvalidValue,
    SafetyStock,
    Sku,
    SkuSafetyStock,
    SoftReservation,
    StockPosition,
    Suppression,
    UnknownChannel,
    Warehouse,
    available_to_sell,
    available_to_sell_all_channels,
)

X = Sku("SKU-X")
WAREHOUSES = (
    Warehouse("WH1"),
    Warehouse("WH2"),
    Warehouse("WH3", online=False),
    Warehouse("WH4", on_hold=True),
)
POSITIONS = (
    StockPosition(X, "WH1", on_hand=10, reserved=2, hold=1),  # free 7
    StockPosition(X, "WH2", on_hand=5),  # free 5
    StockPosition(X, "WH3", on_hand=20),  # offline
    StockPosition(X, "WH4", on_hand=8),  # on hold
    StockPosition(Sku("OTHER"), "WH1", on_hand=1000),  # another SKU: ignored
)
SOFT = (
    SoftReservation("woo:1001", "woo", X, 2),
    SoftReservation("amazon:A-7", "amazon", X, 1),
    SoftReservation("woo:1002", "woo", Sku("OTHER"), 50),
)
RULES = AllocationRules(
    channels=(
        ChannelAllocation("shopify", ("WH1", "WH2", "WH3"), safety=SafetyStock(units=2)),
        ChannelAllocation("amazon", ("WH1", "WH2"), share=ChannelShare.percentage(50)),
        ChannelAllocation("woo", ("WH2", "WH4")),
    ),
)


def ats(channel: str, rules: AllocationRules = RULES, **kwargs: object) -> int:
    arguments: dict[str, object] = {
        "positions": POSITIONS,
        "warehouses": WAREHOUSES,
        "rules": rules,
        "soft_reservations": SOFT,
    }
    arguments.update(kwargs)
    return available_to_sell(X, channel, **arguments).quantity  # type: ignore[arg-type]


def test_why_shopify_shows_7() -> None:
    result = available_to_sell(
        X, "shopify", positions=POSITIONS, warehouses=WAREHOUSES, rules=RULES, soft_reservations=SOFT
    )
    # pool = 7 (WH1) + 5 (WH2); WH3 offline. 12 − safety 2 − soft 3 = 7.
    assert result.quantity == 7
    assert result.pool == 12
    assert result.safety_units == 2
    assert result.soft_reserved == 3
    rows = {row.warehouse: row for row in result.warehouses}
    assert rows["WH1"].free == 7 and rows["WH1"].included
    assert not rows["WH3"].included and rows["WH3"].reason == "warehouse offline"
    assert not rows["WH4"].included and rows["WH4"].reason == "not mapped to this channel"
    text = "\n".join(result.explain())
    assert "SKU SKU-X on shopify: 7 units." in text
    assert "Warehouse WH1: on hand 10 − reserved 2 − hold 1 = free 7; counted" in text
    assert "woo:1001 (2)" in text and "amazon:A-7 (1)" in text
    assert "Units = max(0, floor(12 − 2 − 3)) = 7." in text


def test_result_serialises_to_plain_json_with_every_input() -> None:
    result = available_to_sell(
        X, "amazon", positions=POSITIONS, warehouses=WAREHOUSES, rules=RULES, soft_reservations=SOFT
    )
    data = json.loads(json.dumps(result.to_dict()))
    assert data["quantity"] == 3  # 50 % of 12 = 6 − soft 3
    assert data["share"] == {"kind": "percentage", "percent": "50"}
    assert data["share_units"] == "6"
    assert data["safety"] == {"units": 0, "percent": "0"}
    assert [r["order_key"] for r in data["soft_reservations"]] == ["woo:1001", "amazon:A-7"]
    assert [w["warehouse"] for w in data["warehouses"]] == ["WH1", "WH2", "WH3", "WH4"]
    assert data["explanation"][0] == "SKU SKU-X on amazon: 3 units."


def test_on_hold_warehouse_contributes_nothing() -> None:
    result = available_to_sell(X, "woo", positions=POSITIONS, warehouses=WAREHOUSES, rules=RULES)
    assert result.pool == 5
    assert {w.warehouse: w.reason for w in result.warehouses}["WH4"] == "warehouse on hold"


def test_percentage_share_floors_once_at_the_end() -> None:
    rules = AllocationRules(
        channels=(ChannelAllocation("amazon", ("WH1", "WH2"), share=ChannelShare.percentage("33.3333")),)
    )
    # 33.3333 % of 12 = 3.999996 → 3 (never rounds up to 4)
    assert ats("amazon", rules, soft_reservations=()) == 3


def test_safety_percent_is_of_the_share() -> None:
    rules = AllocationRules(
        channels=(
            ChannelAllocation("shopify", ("WH1", "WH2"), safety=SafetyStock(units=1, percent=Decimal(25))),
        )
    )
    result = available_to_sell(X, "shopify", positions=POSITIONS, warehouses=WAREHOUSES, rules=rules)
    assert result.safety_units == 4  # 1 + 25 % of 12
    assert result.quantity == 8


def test_sku_safety_stock_overrides_channel_default() -> None:
    rules = AllocationRules(
        channels=RULES.channels,
        sku_safety=(SkuSafetyStock("shopify", X, SafetyStock(units=10)),),
    )
    assert ats("shopify", rules) == 0  # 12 − 10 − 3 < 0 → 0, never negative
    assert ats("shopify", rules, soft_reservations=()) == 2


def test_pack_size_converts_to_whole_packs() -> None:
    listing = ChannelListing.create("shopify", X, pack_size=3)
    result = available_to_sell(
        X,
        "shopify",
        positions=POSITIONS,
        warehouses=WAREHOUSES,
        rules=RULES,
        soft_reservations=SOFT,
        listings=[listing],
    )
    assert (result.units, result.quantity, result.unit) == (7, 2, "packs of 3")
    assert "Pack conversion: floor(7 / 3) = 2 packs." in result.explain()


def test_suppressed_sku_shows_zero_with_reason() -> None:
    rules = AllocationRules(
        channels=RULES.channels, suppressions=(Suppression("shopify", X, "discontinued on Shopify"),)
    )
    result = available_to_sell(X, "shopify", positions=POSITIONS, warehouses=WAREHOUSES, rules=rules)
    assert result.quantity == 0 and result.suppressed
    assert result.pool == 12  # the inputs stay visible
    assert "Suppressed on this channel (discontinued on Shopify): shows 0." in result.explain()
    assert ats("amazon", rules, soft_reservations=()) == 6


def test_fixed_caps_are_carved_in_priority_order_and_never_exceed_the_pool() -> None:
    rules = AllocationRules(
        channels=(
            ChannelAllocation("ebay", ("WH1", "WH2"), share=ChannelShare.fixed_cap(8), carve_priority=10),
            ChannelAllocation("pos", ("WH2",), share=ChannelShare.fixed_cap(8), carve_priority=20),
            ChannelAllocation("kiosk", ("WH1", "WH2"), share=ChannelShare.fixed_cap(8), carve_priority=20),
            ChannelAllocation("shopify", ("WH1", "WH2")),
        )
    )
    results = available_to_sell_all_channels(X, positions=POSITIONS, warehouses=WAREHOUSES, rules=rules)
    # ebay takes 7 from WH1 then 1 from WH2; kiosk (before pos by code) takes the 4 left in WH2.
    assert [results[c].quantity for c in ("ebay", "kiosk", "pos", "shopify")] == [8, 4, 0, 12]
    assert results["kiosk"].carved_by_earlier_caps == 8
    assert "8 units already carved by earlier fixed-cap channels" in "\n".join(results["kiosk"].explain())
    assert (
        available_to_sell(X, "kiosk", positions=POSITIONS, warehouses=WAREHOUSES, rules=rules)
        == results["kiosk"]
    )


def test_suppressed_fixed_cap_channel_does_not_carve() -> None:
    rules = AllocationRules(
        channels=(
            ChannelAllocation("ebay", ("WH1", "WH2"), share=ChannelShare.fixed_cap(10), carve_priority=1),
            ChannelAllocation("pos", ("WH1", "WH2"), share=ChannelShare.fixed_cap(10), carve_priority=2),
        ),
        suppressions=(Suppression("ebay", X),),
    )
    assert ats("pos", rules, soft_reservations=()) == 10


def test_listing_flags_are_reported() -> None:
    listing = ChannelListing.create("shopify", X, tracks_inventory=False, continue_selling=True)
    result = available_to_sell(
        X, "shopify", positions=POSITIONS, warehouses=WAREHOUSES, rules=RULES, listings=[listing]
    )
    assert not result.tracks_inventory and result.continue_selling
    assert any("informational" in line for line in result.explain())


def test_channel_without_positions_or_warehouses_shows_zero() -> None:
    rules = AllocationRules(channels=(ChannelAllocation("pos", ("WH9",)),))
    result = available_to_sell(X, "pos", positions=POSITIONS, warehouses=WAREHOUSES, rules=rules)
    assert result.quantity == 0
    assert {w.warehouse: w.reason for w in result.warehouses}["WH9"] == (
        "mapped, but not in the warehouse list; no stock position"
    )


def test_bad_rules_and_inputs_fail_precisely() -> None:
    with pytest.raises(UnknownChannel, match="ebay"):
        ats("ebay")
    with pytest.raises(InvalidAllocationRule, match="outside"):
        ChannelShare.percentage(101)
    with pytest.raises(InvalidAllocationRule, match="4 decimals"):
        ChannelShare.percentage("33.33333")
    with pytest.raises(InvalidAllocationRule):
        SafetyStock(percent=0.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidAllocationRule, match="twice"):
        ChannelAllocation("shopify", ("WH1", "WH1"))
    with pytest.raises(InvalidAllocationRule, match="more than one allocation"):
        AllocationRules(channels=(ChannelAllocation("a", ()), ChannelAllocation("a", ())))
    with pytest.raises(InvalidValue, match="listed twice"):
        ats("shopify", warehouses=(Warehouse("WH1"), Warehouse("WH1")))
