"""Hypothesis properties of available-to-sell (DESIGN §3) over random landscapes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from math import floor

from hypothesis import given, settings
from hypothesis import strategies as st

from channelhub.domain import (
    AllocationRules,
    AvailabilityResult,
    ChannelAllocation,
    ChannelListing,
    ChannelShare,
    SafetyStock,
    ShareKind,
    Sku,
    SoftReservation,
    StockPosition,
    Suppression,
    Warehouse,
    available_to_sell,
    available_to_sell_all_channels,
)

SKU = Sku("SKU-1")
WAREHOUSE_CODES = ("WH1", "WH2", "WH3", "WH4")
CHANNEL_CODES = ("shopify", "woo", "amazon", "pos")
PROPERTY = settings(max_examples=80, deadline=None)


@dataclass(frozen=True)
class Landscape:
    warehouses: tuple[Warehouse, ...]
    positions: tuple[StockPosition, ...]
    rules: AllocationRules
    listings: tuple[ChannelListing, ...]
    soft: tuple[SoftReservation, ...]

    def results(self) -> dict[str, AvailabilityResult]:
        return available_to_sell_all_channels(
            SKU,
            positions=self.positions,
            warehouses=self.warehouses,
            rules=self.rules,
            listings=self.listings,
            soft_reservations=self.soft,
        )


percents = st.decimals(min_value=0, max_value=100, places=2)
small_percents = st.one_of(st.just(Decimal(0)), st.decimals(min_value=0, max_value=30, places=2))
mostly_true = st.sampled_from((True, True, True, False))
shares = st.one_of(
    st.just(ChannelShare.shared()),
    percents.map(ChannelShare.percentage),
    st.integers(0, 60).map(ChannelShare.fixed_cap),
)


@st.composite
def landscapes(draw: st.DrawFn) -> Landscape:
    warehouses = tuple(
        Warehouse(code, online=draw(mostly_true), on_hold=not draw(mostly_true))
        for code in WAREHOUSE_CODES
        if draw(st.integers(0, 4))  # mostly present; absent ones exercise "not in the warehouse list"
    )
    positions = tuple(
        StockPosition(
            SKU,
            code,
            on_hand=draw(st.integers(-5, 60)),
            reserved=draw(st.integers(0, 20)),
            hold=draw(st.integers(0, 10)),
        )
        for code in WAREHOUSE_CODES
        if draw(mostly_true)
    )
    channels = tuple(
        ChannelAllocation(
            code,
            tuple(draw(st.lists(st.sampled_from(WAREHOUSE_CODES), unique=True, max_size=4))),
            share=draw(shares),
            safety=SafetyStock(units=draw(st.integers(0, 5)), percent=draw(small_percents)),
            carve_priority=draw(st.integers(0, 3)),
        )
        for code in CHANNEL_CODES[: draw(st.integers(1, 4))]
    )
    suppressed = draw(st.lists(st.sampled_from([c.channel for c in channels]), unique=True, max_size=1))
    listings = tuple(
        ChannelListing.create(c.channel, SKU, pack_size=draw(st.integers(1, 7))) for c in channels
    )
    soft = tuple(
        SoftReservation(f"order-{i}", draw(st.sampled_from(CHANNEL_CODES)), SKU, draw(st.integers(0, 8)))
        for i in range(draw(st.integers(0, 2)))
    )
    rules = AllocationRules(channels=channels, suppressions=tuple(Suppression(c, SKU) for c in suppressed))
    return Landscape(warehouses, positions, rules, listings, soft)


def sellable_free(landscape: Landscape, warehouse_codes: set[str]) -> int:
    sellable = {w.code for w in landscape.warehouses if w.online and not w.on_hold}
    return sum(p.free for p in landscape.positions if p.warehouse in sellable & warehouse_codes)


@PROPERTY
@given(landscapes())
def test_ats_is_never_negative_and_never_above_the_pool(landscape: Landscape) -> None:
    for channel, result in landscape.results().items():
        pool = sellable_free(landscape, set(landscape.rules.allocation(channel).warehouses))
        assert result.pool == pool
        assert 0 <= result.units <= pool
        assert 0 <= result.quantity <= pool // result.pack_size


@PROPERTY
@given(landscapes())
def test_pack_conversion_never_rounds_up(landscape: Landscape) -> None:
    for result in landscape.results().values():
        assert result.quantity * result.pack_size <= result.units < (result.quantity + 1) * result.pack_size


@PROPERTY
@given(landscapes())
def test_shared_and_percentage_channels_match_an_exact_fraction_oracle(landscape: Landscape) -> None:
    soft = sum(r.units for r in landscape.soft)
    for channel, result in landscape.results().items():
        allocation = landscape.rules.allocation(channel)
        if allocation.share.kind is ShareKind.FIXED_CAP or result.suppressed:
            continue
        share = Fraction(result.pool) * Fraction(allocation.share.percent) / 100
        safety = allocation.safety.units + share * Fraction(allocation.safety.percent) / 100
        assert result.units == max(0, floor(share - safety - soft))


@PROPERTY
@given(landscapes(), st.sampled_from(WAREHOUSE_CODES), st.integers(1, 30))
def test_ats_is_monotone_in_free_stock(landscape: Landscape, warehouse: str, extra: int) -> None:
    before = landscape.results()
    positions = tuple(
        dataclasses.replace(p, on_hand=p.on_hand + extra) if p.warehouse == warehouse else p
        for p in landscape.positions
    )
    if not any(p.warehouse == warehouse for p in positions):
        positions += (StockPosition(SKU, warehouse, on_hand=extra),)
    after = dataclasses.replace(landscape, positions=positions).results()
    for channel in before:
        assert after[channel].quantity >= before[channel].quantity
        assert after[channel].units >= before[channel].units


@PROPERTY
@given(landscapes())
def test_fixed_caps_together_never_exceed_the_free_stock_feeding_them(landscape: Landscape) -> None:
    results = landscape.results()
    fixed = [c for c in landscape.rules.channels if c.share.kind is ShareKind.FIXED_CAP]
    feeding = {code for c in fixed for code in c.warehouses}
    carved = sum(results[c.channel].share_units for c in fixed)
    assert carved <= sellable_free(landscape, feeding)
    assert sum(results[c.channel].quantity * results[c.channel].pack_size for c in fixed) <= carved
    for c in fixed:
        assert results[c.channel].share_units <= c.share.cap


@PROPERTY
@given(landscapes())
def test_suppressed_sku_shows_zero_everywhere_it_is_suppressed(landscape: Landscape) -> None:
    for suppression in landscape.rules.suppressions:
        result = landscape.results()[suppression.channel]
        assert result.suppressed and result.quantity == 0 and result.units == 0


@PROPERTY
@given(landscapes(), st.integers(1, 100))
def test_offline_or_held_warehouse_contributes_nothing(landscape: Landscape, extra: int) -> None:
    blocked = {w.code for w in landscape.warehouses if not (w.online and not w.on_hold)}
    before = landscape.results()
    positions = tuple(
        dataclasses.replace(p, on_hand=p.on_hand + extra) if p.warehouse in blocked else p
        for p in landscape.positions
    )
    after = dataclasses.replace(landscape, positions=positions).results()
    assert {c: r.quantity for c, r in after.items()} == {c: r.quantity for c, r in before.items()}


@PROPERTY
@given(landscapes(), st.sampled_from(CHANNEL_CODES), st.integers(1, 20))
def test_a_soft_reservation_on_any_channel_lowers_every_channel(
    landscape: Landscape, ordered_on: str, units: int
) -> None:
    before = landscape.results()
    extra = SoftReservation("order-new", ordered_on, SKU, units)
    after = dataclasses.replace(landscape, soft=(*landscape.soft, extra)).results()
    for channel, old in before.items():
        new = after[channel]
        assert new.soft_reserved == old.soft_reserved + units
        # Exactly `units` fewer (the floor of raw − k is floor(raw) − k), clamped at zero.
        assert new.units == max(0, old.units - units)


@PROPERTY
@given(landscapes())
def test_single_channel_call_agrees_with_all_channels(landscape: Landscape) -> None:
    results = landscape.results()
    for channel in results:
        one = available_to_sell(
            SKU,
            channel,
            positions=landscape.positions,
            warehouses=landscape.warehouses,
            rules=landscape.rules,
            listings=landscape.listings,
            soft_reservations=landscape.soft,
        )
        assert one == results[channel]
        assert one.to_dict()["quantity"] == one.quantity
