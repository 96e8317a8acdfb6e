"""Catalog identity: SKUs, products and variants, units of measure, pack sizes and channel listings.

The SKU is the one identity every system agrees on (Odoo `default_code`, Shopify variant `sku`,
WooCommerce `sku`). Quantities inside channelhub are whole numbers in the product's unit; a channel
that sells packs of 6 sees `floor(units / 6)` packs, never a pack it cannot fill.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Self

from channelhub.domain.errors import InvalidQuantity, InvalidSku, InvalidValue

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_CODE = re.compile(CODE_PATTERN)

MAX_QUANTITY = 10**12
"""Upper bound for any stock quantity: catches unit mix-ups and garbage before they spread."""


def check_quantity(value: int, what: str, *, allow_negative: bool = False) -> int:
    """`value` if it is a whole number in range, else `InvalidQuantity` naming `what`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidQuantity(f"{what} must be an int, not {type(value).__name__}")
    low = -MAX_QUANTITY if allow_negative else 0
    if not low <= value <= MAX_QUANTITY:
        raise InvalidQuantity(f"{what} = {value} is outside [{low}, {MAX_QUANTITY}]")
    return value


def check_code(value: str, what: str) -> str:
    """An identifier such as a channel or warehouse code (`shopify-eu`, `WH1`)."""
    if not isinstance(value, str) or not _CODE.match(value):
        raise InvalidValue(f"{what} {value!r} must match {_CODE.pattern}")
    return value


@dataclass(frozen=True, slots=True, order=True)
class Sku:
    """A stock keeping unit code, e.g. `Sku("TSHIRT-RED-M")`; case and punctuation are significant."""

    value: str

    def __post_init__(self) -> None:
        value = self.value
        if (
            not isinstance(value, str)
            or not 1 <= len(value) <= 64
            or not value.isprintable()
            or any(char.isspace() for char in value)
        ):
            raise InvalidSku(repr(value))

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class UnitOfMeasure:
    """A unit such as `Units` or `Dozens`, defined by how many base units of its category it holds."""

    name: str
    base_units: int = 1

    def __post_init__(self) -> None:
        if not self.name:
            raise InvalidValue("a unit of measure needs a name")
        if check_quantity(self.base_units, "base_units") < 1:
            raise InvalidQuantity("base_units must be at least 1")

    def to_base(self, quantity: int) -> int:
        return check_quantity(quantity, "quantity", allow_negative=True) * self.base_units

    def from_base(self, base_quantity: int) -> int:
        """Whole units in `base_quantity`, rounded down: a dozen is not sold from 11 pieces."""
        return check_quantity(base_quantity, "quantity", allow_negative=True) // self.base_units


UNITS = UnitOfMeasure("Units", 1)


@dataclass(frozen=True, slots=True)
class PackSize:
    """How many product units a channel sells as one (1 = single units)."""

    units: int = 1

    def __post_init__(self) -> None:
        if check_quantity(self.units, "pack size") < 1:
            raise InvalidQuantity("pack size must be at least 1")

    def packs_from_units(self, units: int) -> int:
        """Full packs in `units`; always rounds down so a channel never sells a pack we cannot fill."""
        check_quantity(units, "units", allow_negative=True)
        return max(0, units) // self.units

    def units_from_packs(self, packs: int) -> int:
        return check_quantity(packs, "packs") * self.units

    def describe(self) -> str:
        return "units" if self.units == 1 else f"packs of {self.units}"


@dataclass(frozen=True, slots=True)
class Variant:
    """One sellable variant of a product (Odoo `product.product`), identified by its SKU."""

    sku: Sku
    name: str
    unit: UnitOfMeasure = UNITS
    barcode: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Product:
    """A product (Odoo `product.template`) and its variants; SKUs must be unique within it."""

    code: str
    name: str
    variants: tuple[Variant, ...] = ()

    def __post_init__(self) -> None:
        skus = [variant.sku for variant in self.variants]
        duplicates = sorted({str(sku) for sku in skus if skus.count(sku) > 1})
        if duplicates:
            raise InvalidValue(f"product {self.code!r} lists SKU(s) twice: {', '.join(duplicates)}")

    def variant(self, sku: Sku) -> Variant | None:
        return next((variant for variant in self.variants if variant.sku == sku), None)


@dataclass(frozen=True, slots=True)
class Channel:
    """A sales channel instance, e.g. code `shopify-eu` of kind `shopify`, selling in one currency."""

    code: str
    kind: str
    currency: str = "EUR"

    def __post_init__(self) -> None:
        check_code(self.code, "channel code")


@dataclass(frozen=True, slots=True)
class ChannelListing:
    """How a SKU is listed on one channel: the channel's own ids, pack size and stock behaviour.

    `tracks_inventory=False` means the channel does not count stock for this item (we still compute
    the number, but it is informational). `continue_selling=True` is Shopify's "continue selling
    when out of stock" (`inventoryPolicy: CONTINUE`): the channel oversells past zero by choice.
    """

    channel: str
    sku: Sku
    item_ids: tuple[tuple[str, str], ...] = ()
    pack_size: PackSize = field(default_factory=PackSize)
    tracks_inventory: bool = True
    continue_selling: bool = False

    def __post_init__(self) -> None:
        check_code(self.channel, "channel code")

    @classmethod
    def create(
        cls,
        channel: str,
        sku: Sku | str,
        *,
        pack_size: int = 1,
        tracks_inventory: bool = True,
        continue_selling: bool = False,
        **item_ids: str,
    ) -> Self:
        """Convenience builder: `ChannelListing.create("shopify", "A-1", variant_id="gid://...")`."""
        return cls(
            channel=channel,
            sku=sku if isinstance(sku, Sku) else Sku(sku),
            item_ids=tuple(sorted(item_ids.items())),
            pack_size=PackSize(pack_size),
            tracks_inventory=tracks_inventory,
            continue_selling=continue_selling,
        )

    def item_id(self, name: str) -> str | None:
        """A channel-side id such as `variant_id` or `inventory_item_id`."""
        return dict(self.item_ids).get(name)
