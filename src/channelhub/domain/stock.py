"""Stock positions per SKU and warehouse, built from Odoo `stock.quant`-like rows.

Only quants in *internal* locations count as stock (Odoo's own rule for on-hand quantity); vendor,
customer, transit, inventory-loss and view locations never do. Stock in an internal location
flagged as quality hold is on hand but not sellable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from channelhub.domain.catalog import Sku, check_code, check_quantity
from channelhub.domain.errors import DuplicateStockPosition, InvalidValue, UnknownLocation


class LocationUsage(StrEnum):
    """Odoo `stock.location.usage`."""

    SUPPLIER = "supplier"
    VIEW = "view"
    INTERNAL = "internal"
    CUSTOMER = "customer"
    INVENTORY = "inventory"
    PRODUCTION = "production"
    TRANSIT = "transit"


@dataclass(frozen=True, slots=True)
class Warehouse:
    """A warehouse. `online=False`: its feed is down or it is closed; `on_hold=True`: an operator
    stopped it from selling (stock take, incident). Either way it feeds no channel."""

    code: str
    name: str = ""
    online: bool = True
    on_hold: bool = False

    def __post_init__(self) -> None:
        check_code(self.code, "warehouse code")

    @property
    def can_sell(self) -> bool:
        return self.online and not self.on_hold


@dataclass(frozen=True, slots=True)
class Location:
    """A stock location (Odoo `stock.location`), e.g. `WH/Stock` or `WH/Quality` (quality hold)."""

    code: str
    warehouse: str | None
    usage: LocationUsage = LocationUsage.INTERNAL
    is_quality_hold: bool = False

    def __post_init__(self) -> None:
        if not self.code:
            raise InvalidValue("a location needs a code")
        if self.warehouse is not None:
            check_code(self.warehouse, "warehouse code")

    @property
    def counts_as_stock(self) -> bool:
        return self.usage is LocationUsage.INTERNAL and self.warehouse is not None


@dataclass(frozen=True, slots=True)
class QuantRow:
    """One `stock.quant`: quantity and reserved quantity of a SKU in a location (product unit)."""

    sku: Sku
    location: str
    quantity: int
    reserved: int = 0

    def __post_init__(self) -> None:
        # Odoo allows negative quants (stock sold before it was received); keep them visible.
        check_quantity(self.quantity, "quant quantity", allow_negative=True)
        check_quantity(self.reserved, "quant reserved quantity")


@dataclass(frozen=True, slots=True)
class StockPosition:
    """Stock of one SKU in one warehouse, in the product's unit.

    `on_hand` counts every internal location, `reserved` is what Odoo already promised to pickings,
    `hold` is unreserved stock in quality-hold locations, `incoming` is expected receipts (shown,
    never sold).
    """

    sku: Sku
    warehouse: str
    on_hand: int
    reserved: int = 0
    hold: int = 0
    incoming: int = 0

    def __post_init__(self) -> None:
        check_code(self.warehouse, "warehouse code")
        check_quantity(self.on_hand, "on_hand", allow_negative=True)
        check_quantity(self.reserved, "reserved")
        check_quantity(self.hold, "hold")
        check_quantity(self.incoming, "incoming")

    @property
    def free(self) -> int:
        """`on_hand − reserved − hold`, never below 0 (an oversold warehouse does not drain others)."""
        return max(0, self.on_hand - self.reserved - self.hold)


def stock_positions_from_quants(
    quants: Iterable[QuantRow],
    locations: Iterable[Location],
    incoming: Mapping[tuple[Sku, str], int] | None = None,
) -> tuple[StockPosition, ...]:
    """Aggregate quants into one `StockPosition` per SKU × warehouse, sorted by SKU then warehouse.

    Quants outside internal warehouse locations are ignored; a quant naming an unknown location is
    an error (silently dropping it would under-report stock). `incoming` adds expected receipts.
    """
    by_code = {location.code: location for location in locations}
    totals: dict[tuple[Sku, str], list[int]] = {}
    for quant in quants:
        location = by_code.get(quant.location)
        if location is None:
            raise UnknownLocation(f"{quant.location!r} (SKU {quant.sku})")
        if not location.counts_as_stock:
            continue
        assert location.warehouse is not None  # guaranteed by counts_as_stock
        row = totals.setdefault((quant.sku, location.warehouse), [0, 0, 0])
        row[0] += quant.quantity
        row[1] += quant.reserved
        if location.is_quality_hold:
            # Reserved units in a hold location are already subtracted as reserved.
            row[2] += max(0, quant.quantity - quant.reserved)
    for key in incoming or {}:
        totals.setdefault(key, [0, 0, 0])
    return tuple(
        StockPosition(
            sku=sku,
            warehouse=warehouse,
            on_hand=on_hand,
            reserved=reserved,
            hold=hold,
            incoming=(incoming or {}).get((sku, warehouse), 0),
        )
        for (sku, warehouse), (on_hand, reserved, hold) in sorted(totals.items(), key=_position_order)
    )


def _position_order(item: tuple[tuple[Sku, str], list[int]]) -> tuple[str, str]:
    (sku, warehouse), _ = item
    return (sku.value, warehouse)


def index_positions(positions: Iterable[StockPosition]) -> dict[tuple[Sku, str], StockPosition]:
    """Positions keyed by (SKU, warehouse); two positions for the same pair are an error."""
    index: dict[tuple[Sku, str], StockPosition] = {}
    for position in positions:
        key = (position.sku, position.warehouse)
        if key in index:
            raise DuplicateStockPosition(f"SKU {position.sku} in warehouse {position.warehouse}")
        index[key] = position
    return index
