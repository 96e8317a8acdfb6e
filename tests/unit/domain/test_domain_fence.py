"""The low-stock fence: the fenced channels never show more than is left together, a sale moves
only the channel that sold, stock changes only ever move every channel the same way."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channelhub.domain import (
    AllocationRules,
    ChannelAllocation,
    ChannelShare,
    DomainError,
    InvalidAllocationRule,
    LowStockFence,
    SafetyStock,
    Sku,
    SoftReservation,
    StockPosition,
    Warehouse,
    apply_fence,
    available_to_sell_all_channels,
    deal,
    fence_after,
    fenced_units,
)

WEIGHTS = st.lists(st.integers(1, 5), min_size=2, max_size=4).map(
    lambda ws: tuple((f"ch{i}", w) for i, w in enumerate(ws))
)


@st.composite
def fences(draw: st.DrawFn) -> LowStockFence:
    return LowStockFence(below=draw(st.integers(0, 40)), weights=draw(WEIGHTS))


@st.composite
def fenced_state(draw: st.DrawFn) -> tuple[LowStockFence, int, dict[str, int]]:
    """A fence, the units left and what each channel sold, every channel within its deal."""
    fence = draw(fences())
    total = draw(st.integers(0, 60))
    dealt = deal(total, fence.weights)
    sold = {c: draw(st.integers(0, dealt[c])) for c in fence.channels}
    return fence, total - sum(sold.values()), sold


def shown(fence: LowStockFence, left: int, sold: dict[str, int]) -> dict[str, int]:
    return {c: share.units for c, share in fenced_units(left, sold, fence).items()}


def test_deal_follows_the_weights_one_unit_at_a_time() -> None:
    weights = (("a", 2), ("b", 1))
    assert deal(0, weights) == {"a": 0, "b": 0}
    assert deal(1, weights) == {"a": 1, "b": 0}
    assert deal(3, weights) == {"a": 2, "b": 1}
    assert deal(9, weights) == {"a": 6, "b": 3}
    assert deal(5, (("a", 1), ("b", 1))) == {"a": 3, "b": 2}  # a tie goes to the first listed


@given(weights=WEIGHTS, total=st.integers(0, 80))
def test_deal_hands_out_every_unit_and_more_units_never_deal_anyone_fewer(
    weights: tuple[tuple[str, int], ...], total: int
) -> None:
    now, more = deal(total, weights), deal(total + 1, weights)
    assert sum(now.values()) == total
    assert all(more[c] >= now[c] for c in now)


@given(
    fence=fences(),
    left=st.integers(0, 60),
    sold=st.dictionaries(st.sampled_from(["ch0", "ch1", "ch2"]), st.integers(0, 30)),
)
def test_the_fenced_channels_never_show_more_than_is_left(
    fence: LowStockFence, left: int, sold: dict[str, int]
) -> None:
    assert sum(shown(fence, left, sold).values()) <= left


@given(state=fenced_state(), data=st.data())
def test_a_sale_lowers_only_the_channel_that_sold(
    state: tuple[LowStockFence, int, dict[str, int]], data: st.DataObject
) -> None:
    fence, left, sold = state
    before = shown(fence, left, sold)
    channel = data.draw(st.sampled_from(fence.channels))
    units = data.draw(st.integers(0, before[channel]))
    after = shown(fence, left - units, {**sold, channel: sold[channel] + units})
    assert after == {**before, channel: before[channel] - units}


@given(state=fenced_state(), change=st.integers(-20, 20))
def test_a_stock_change_moves_every_channel_the_same_way(
    state: tuple[LowStockFence, int, dict[str, int]], change: int
) -> None:
    """Receipts only raise, losses only lower: no change moves units from one channel to another,
    so no raise can land before the lowering that pays for it."""
    fence, left, sold = state
    before = shown(fence, left, sold)
    after = shown(fence, max(0, left + change), sold)
    if change >= 0:
        assert all(after[c] >= before[c] for c in before)
    else:
        assert all(after[c] <= before[c] for c in before)


def test_a_channel_that_sold_beyond_its_deal_costs_the_others_not_the_total() -> None:
    fence = LowStockFence(below=10, weights=(("a", 1), ("b", 1)))
    # 6 dealt 3/3; a sold 5 (accepted before the fence reached it), 1 left.
    assert shown(fence, 1, {"a": 5, "b": 0}) == {"a": 0, "b": 1}


def test_fence_goes_up_at_the_threshold_and_keeps_its_counts_until_stock_rises_above_it() -> None:
    fence = LowStockFence(below=5, weights=(("a", 1), ("b", 1)))
    assert fence_after(fence, 6, None) is None
    assert fence_after(fence, 5, None) == {"a": 0, "b": 0}
    assert fence_after(fence, 2, {"a": 2, "b": 1}) == {"a": 2, "b": 1}
    assert fence_after(fence, 9, {"a": 2, "b": 1}) is None


@pytest.mark.parametrize(
    ("below", "weights", "problem"),
    [
        (5, (("a", 1),), "at least two channels"),
        (5, (("a", 1), ("a", 2)), "listed twice"),
        (5, (("a", 0), ("b", 1)), "at least 1"),
        (-1, (("a", 1), ("b", 1)), "threshold"),
    ],
)
def test_fence_rule_is_checked(below: int, weights: tuple[tuple[str, int], ...], problem: str) -> None:
    with pytest.raises(DomainError, match=problem):
        LowStockFence(below, weights)


def rules(fence: LowStockFence | None, web_share: ChannelShare | None = None) -> AllocationRules:
    return AllocationRules(
        channels=(
            ChannelAllocation("shop", ("wh1",), ChannelShare.shared()),
            ChannelAllocation("web", ("wh1",), web_share or ChannelShare.shared(), SafetyStock(units=1)),
        ),
        fence=fence,
    )


def test_allocation_rules_refuse_a_fence_over_different_pools() -> None:
    fence = LowStockFence(5, (("shop", 1), ("web", 1)))
    with pytest.raises(InvalidAllocationRule, match="shared"):
        rules(fence, ChannelShare.percentage(50))
    with pytest.raises(InvalidAllocationRule, match="unknown channel"):
        rules(LowStockFence(5, (("shop", 1), ("amazon", 1))))
    with pytest.raises(InvalidAllocationRule, match="same warehouses"):
        AllocationRules(
            channels=(ChannelAllocation("shop", ("wh1",)), ChannelAllocation("web", ("wh1", "wh2"))),
            fence=fence,
        )


def test_apply_fence_limits_each_channel_and_explains_it() -> None:
    fence = LowStockFence(10, (("shop", 1), ("web", 1)))
    results = available_to_sell_all_channels(
        Sku("A"),
        positions=[StockPosition(Sku("A"), "wh1", on_hand=9)],
        warehouses=[Warehouse("wh1", "Main")],
        rules=rules(fence),
        soft_reservations=[SoftReservation("web:1", "web", Sku("A"), 2)],
    )
    assert {c: r.quantity for c, r in results.items()} == {"shop": 7, "web": 6}
    fenced = apply_fence(results, fence, {"shop": 0, "web": 2})
    # 7 left + 2 sold = 9 dealt 5/4; web sold 2 of its 4; web's safety stock (1) leaves it 6 → 2.
    assert {c: r.quantity for c, r in fenced.items()} == {"shop": 5, "web": 2}
    assert fenced["web"].fence is not None and fenced["web"].fence.to_dict() == {
        "total": 9,
        "dealt": 4,
        "sold": 2,
        "units": 2,
    }
    assert any("Low-stock fence: 9 units dealt" in line for line in fenced["shop"].explain())
    assert fenced["shop"].to_dict()["fence"]["units"] == 5
