"""Allocation rules: which warehouses feed a channel, how much of the pool it may show, and the
safety buffer it keeps. These are the retailer's knobs behind every available-to-sell number.

Share of the pool (DESIGN §3):
- `ChannelShare.shared()`: the channel sees 100 % of its pool.
- `ChannelShare.percentage(p)`: the channel sees p % of its pool.
- `ChannelShare.fixed_cap(n)`: the channel sees at most n units. Caps are *carved* out of the
  warehouses' free stock one channel after the other, in `(carve_priority, channel code)` order,
  each channel taking from its warehouses in warehouse-code order. So the fixed-cap channels
  together never show more than the free stock that feeds them, whatever the caps add up to.
  Shared and percentage channels are views of the whole pool and are not reduced by the carving
  (caps are ceilings, not ring-fenced stock).

Safety stock is `units` plus `percent` of the channel's share. A percentage *of the share* (not of
the pool) keeps the number monotone: more stock never shows fewer units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from channelhub.domain.catalog import Sku, check_code, check_quantity
from channelhub.domain.errors import InvalidAllocationRule, InvalidMoney, UnknownChannel
from channelhub.domain.fence import LowStockFence
from channelhub.domain.money import to_decimal

_PERCENT_PLACES = Decimal("0.0001")


def to_percent(value: Decimal | int | str, what: str) -> Decimal:
    """A percentage in [0, 100] with at most 4 decimals (keeps the ATS arithmetic exact)."""
    try:
        percent = to_decimal(value)
    except InvalidMoney as exc:
        raise InvalidAllocationRule(f"{what}: {exc.detail}") from exc
    if not 0 <= percent <= 100:
        raise InvalidAllocationRule(f"{what} = {percent} is outside [0, 100]")
    if percent != percent.quantize(_PERCENT_PLACES):
        raise InvalidAllocationRule(f"{what} = {percent} has more than 4 decimals")
    return percent


class ShareKind(StrEnum):
    SHARED = "shared"
    PERCENTAGE = "percentage"
    FIXED_CAP = "fixed_cap"


@dataclass(frozen=True, slots=True)
class ChannelShare:
    """How much of its pool a channel may show; build with `shared()`, `percentage()`, `fixed_cap()`."""

    kind: ShareKind = ShareKind.SHARED
    percent: Decimal = Decimal(100)
    cap: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ShareKind(self.kind))
        object.__setattr__(self, "percent", to_percent(self.percent, "share percent"))
        check_quantity(self.cap, "fixed cap")
        if self.kind is ShareKind.SHARED and self.percent != 100:
            raise InvalidAllocationRule("a shared channel sees 100 % of its pool")

    @classmethod
    def shared(cls) -> ChannelShare:
        return cls(ShareKind.SHARED)

    @classmethod
    def percentage(cls, percent: Decimal | int | str) -> ChannelShare:
        return cls(ShareKind.PERCENTAGE, percent=to_percent(percent, "share percent"))

    @classmethod
    def fixed_cap(cls, cap: int) -> ChannelShare:
        return cls(ShareKind.FIXED_CAP, cap=cap)

    def describe(self) -> str:
        if self.kind is ShareKind.PERCENTAGE:
            return f"{format(self.percent, 'f')} % of the pool"
        if self.kind is ShareKind.FIXED_CAP:
            return f"fixed cap of {self.cap} units"
        return "shared (100 % of the pool)"

    def to_dict(self) -> dict[str, Any]:
        if self.kind is ShareKind.PERCENTAGE:
            return {"kind": self.kind.value, "percent": format(self.percent, "f")}
        if self.kind is ShareKind.FIXED_CAP:
            return {"kind": self.kind.value, "cap": self.cap}
        return {"kind": self.kind.value}


@dataclass(frozen=True, slots=True)
class SafetyStock:
    """A buffer kept back from a channel: `units` plus `percent` of the channel's share."""

    units: int = 0
    percent: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        check_quantity(self.units, "safety stock units")
        object.__setattr__(self, "percent", to_percent(self.percent, "safety stock percent"))

    def to_dict(self) -> dict[str, Any]:
        return {"units": self.units, "percent": format(self.percent, "f")}


@dataclass(frozen=True, slots=True)
class ChannelAllocation:
    """The rule for one channel: the warehouses that feed it, its share and its default safety."""

    channel: str
    warehouses: tuple[str, ...]
    share: ChannelShare = ChannelShare()
    safety: SafetyStock = SafetyStock()
    carve_priority: int = 100

    def __post_init__(self) -> None:
        check_code(self.channel, "channel code")
        object.__setattr__(self, "warehouses", tuple(self.warehouses))
        for code in self.warehouses:
            check_code(code, f"warehouse code of channel {self.channel}")
        if len(set(self.warehouses)) != len(self.warehouses):
            raise InvalidAllocationRule(f"channel {self.channel} lists a warehouse twice")


@dataclass(frozen=True, slots=True)
class SkuSafetyStock:
    """A per-SKU safety stock for one channel, overriding the channel default."""

    channel: str
    sku: Sku
    safety: SafetyStock


@dataclass(frozen=True, slots=True)
class Suppression:
    """A SKU switched off on a channel (discontinued, compliance, listing error): it shows 0."""

    channel: str
    sku: Sku
    reason: str = "suppressed"


@dataclass(frozen=True, slots=True)
class SoftReservation:
    """Units of an order accepted on a channel but not yet reserved in Odoo (product unit)."""

    order_key: str
    channel: str
    sku: Sku
    units: int

    def __post_init__(self) -> None:
        check_quantity(self.units, "soft reservation units")


@dataclass(frozen=True, slots=True)
class AllocationRules:
    """All allocation rules of the landscape."""

    channels: tuple[ChannelAllocation, ...]
    sku_safety: tuple[SkuSafetyStock, ...] = ()
    suppressions: tuple[Suppression, ...] = ()
    fence: LowStockFence | None = None
    # Lookup tables built once: ATS runs per SKU and channel over large catalogs.
    _by_channel: dict[str, ChannelAllocation] = field(init=False, repr=False, compare=False)
    _safety: dict[tuple[str, Sku], SafetyStock] = field(init=False, repr=False, compare=False)
    _suppressed: dict[tuple[str, Sku], Suppression] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "sku_safety", tuple(self.sku_safety))
        object.__setattr__(self, "suppressions", tuple(self.suppressions))
        by_channel = {allocation.channel: allocation for allocation in self.channels}
        if len(by_channel) != len(self.channels):
            raise InvalidAllocationRule("a channel has more than one allocation rule")
        safety = {(entry.channel, entry.sku): entry.safety for entry in self.sku_safety}
        if len(safety) != len(self.sku_safety):
            raise InvalidAllocationRule("a SKU has more than one safety stock on the same channel")
        object.__setattr__(self, "_by_channel", by_channel)
        object.__setattr__(self, "_safety", safety)
        # The first suppression of a (channel, SKU) wins; its reason is the one reported.
        suppressed: dict[tuple[str, Sku], Suppression] = {}
        for entry in self.suppressions:
            suppressed.setdefault((entry.channel, entry.sku), entry)
        object.__setattr__(self, "_suppressed", suppressed)
        if self.fence is not None:
            self._check_fence(self.fence)

    def _check_fence(self, fence: LowStockFence) -> None:
        """The fence deals one pool: its channels are shared ones fed by the same warehouses."""
        fenced = []
        for channel in fence.channels:
            allocation = self._by_channel.get(channel)
            if allocation is None:
                raise InvalidAllocationRule(f"the low-stock fence names unknown channel {channel!r}")
            if allocation.share.kind is not ShareKind.SHARED:
                raise InvalidAllocationRule(
                    f"the low-stock fence deals a shared pool: channel {channel} has a {allocation.share.kind} share"
                )
            fenced.append(allocation)
        if len({frozenset(a.warehouses) for a in fenced}) != 1:
            raise InvalidAllocationRule("the low-stock fence's channels must be fed by the same warehouses")

    def allocation(self, channel: str) -> ChannelAllocation:
        try:
            return self._by_channel[channel]
        except KeyError:
            raise UnknownChannel(repr(channel)) from None

    def safety_for(self, channel: str, sku: Sku) -> SafetyStock:
        override = self._safety.get((channel, sku))
        return override if override is not None else self.allocation(channel).safety

    def suppression(self, channel: str, sku: Sku) -> Suppression | None:
        return self._suppressed.get((channel, sku))

    def carve_order(self) -> tuple[ChannelAllocation, ...]:
        """Fixed-cap channels in the order they take their cap out of the free stock."""
        fixed = [a for a in self.channels if a.share.kind is ShareKind.FIXED_CAP]
        return tuple(sorted(fixed, key=lambda a: (a.carve_priority, a.channel)))
