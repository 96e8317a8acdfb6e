"""Low-stock fence: deal a SKU's last units between channels so that together they never show
more than there is, whatever the latency between a sale and the other channels' updates.

With shared stock every channel shows the whole pool, so when a SKU is down to its last units a
sale on one channel must reach every other channel before it sells the same unit. Under a flash
sale that race is lost a few times, however fast the updates are. The fence (opt-in, a retailer's
policy: a unit dealt to one channel cannot be sold on another until it is dealt again) closes it:

- A SKU is *fenced* while the units nobody has sold yet (`left`: the pool minus every soft
  reservation, DESIGN §3) are at or below `below`. From that moment each fenced channel counts the
  units it sells (`sold`, per channel, since the fence went up).
- `total = left + Σ sold` is what the fence deals: it does not change when a fenced channel sells
  (left falls by what sold rises) nor when Odoo's reservation replaces a soft one (neither
  changes), only when stock really changes (receipts, adjustments, a warehouse going offline,
  an order cancelled, a sale on a channel outside the fence).
- `deal(total)` hands the units out one at a time to the channel with the highest
  `weight / (dealt + 1)` (D'Hondt): more units never deal any channel fewer, so a receipt only
  ever raises channels and a loss only ever lowers them; no change moves units from one channel
  to another.
- A channel shows `dealt − sold` (never below 0). A sale therefore lowers only the channel that
  sold, which has already lowered itself: no other channel needs an update, and the sum shown
  never exceeds `left`. Should a channel have sold beyond its deal (sales accepted before the
  fence reached it), the others give up the excess, largest first, so the sum still fits.

Each fenced channel's number is the lower of this and its ordinary ATS (safety stock, packs and
suppression still apply). The fence comes down when `left` rises above `below` (a receipt), and
goes up afresh, with every `sold` at 0, the next time it falls to `below`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from channelhub.domain.catalog import check_code, check_quantity
from channelhub.domain.errors import InvalidAllocationRule


@dataclass(frozen=True, slots=True)
class LowStockFence:
    """Fence a SKU on `weights`' channels while its units left are at or below `below`."""

    below: int
    weights: tuple[tuple[str, int], ...]

    def __post_init__(self) -> None:
        check_quantity(self.below, "low-stock fence threshold")
        object.__setattr__(self, "weights", tuple((str(c), int(w)) for c, w in self.weights))
        if len(self.weights) < 2:
            raise InvalidAllocationRule("a low-stock fence deals between at least two channels")
        for channel, weight in self.weights:
            check_code(channel, "fenced channel")
            if weight < 1:
                raise InvalidAllocationRule(f"fence weight of {channel} must be at least 1 (got {weight})")
        if len({channel for channel, _ in self.weights}) != len(self.weights):
            raise InvalidAllocationRule("a channel is listed twice in the low-stock fence")

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(channel for channel, _ in self.weights)


@dataclass(frozen=True, slots=True)
class FenceShare:
    """How the fence limited one channel's number: its deal, what it sold since, what is left."""

    total: int
    dealt: int
    sold: int
    units: int

    def to_dict(self) -> dict[str, int]:
        return {"total": self.total, "dealt": self.dealt, "sold": self.sold, "units": self.units}


def deal(total: int, weights: tuple[tuple[str, int], ...]) -> dict[str, int]:
    """`total` units dealt by weight, one at a time to the highest `weight / (dealt + 1)`; ties go to
    the channel listed first. Monotone: `deal(n + 1)` is `deal(n)` plus one unit somewhere."""
    check_quantity(total, "units to deal")
    dealt = {channel: 0 for channel, _ in weights}
    for _ in range(total):
        best = max(weights, key=lambda cw: cw[1] / (dealt[cw[0]] + 1))
        dealt[best[0]] += 1
    return dealt


def fenced_units(left: int, sold: Mapping[str, int], fence: LowStockFence) -> dict[str, FenceShare]:
    """What each fenced channel may show: `left` units not sold yet, `sold[c]` units channel `c`
    sold since the fence went up. The shares never add up to more than `left`."""
    left = max(0, left)
    sold_by = {channel: max(0, sold.get(channel, 0)) for channel in fence.channels}
    total = left + sum(sold_by.values())
    dealt = deal(total, fence.weights)
    units = {channel: max(0, dealt[channel] - sold_by[channel]) for channel in fence.channels}
    order = {channel: index for index, channel in enumerate(fence.channels)}
    excess = sum(units.values()) - left
    while excess > 0:  # a channel sold beyond its deal: the others give up the difference
        largest = max(units, key=lambda c: (units[c], order[c]))
        units[largest] -= 1
        excess -= 1
    return {
        c: FenceShare(total=total, dealt=dealt[c], sold=sold_by[c], units=units[c]) for c in fence.channels
    }


def fence_after(fence: LowStockFence, left: int, sold: Mapping[str, int] | None) -> dict[str, int] | None:
    """The fence's state once `left` units are not sold yet: None (down) above `below`, the same
    counts while it stays up, zero counts when it goes up now."""
    if left > fence.below:
        return None
    if sold is None:
        return {channel: 0 for channel in fence.channels}
    return {channel: sold.get(channel, 0) for channel in fence.channels}
