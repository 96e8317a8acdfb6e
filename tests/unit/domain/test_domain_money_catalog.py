from __future__ import annotations

from decimal import Decimal

import pytest

from channelhub.domain import (
    ChannelListing,
    CurrencyMismatch,
    DomainError,
    InvalidMoney,
    InvalidQuantity,
    InvalidSku,
    InvalidValue,
    Money,
    PackSize,
    Product,
    Sku,
    UnitOfMeasure,
    Variant,
)
from channelhub.domain.money import total


def test_money_adds_and_subtracts_exactly() -> None:
    assert Money.of("0.10", "EUR") + Money.of("0.20", "EUR") == Money.of("0.30", "EUR")
    assert Money.of("5", "EUR") - Money.of("7.5", "EUR") == Money.of("-2.5", "EUR")
    assert Money.of("1.99", "EUR") * 3 == Money.of("5.97", "EUR")
    assert 2 * Money.of("1.5", "EUR") == Money.of("3", "EUR")
    assert -Money.of("1", "USD") == Money.of("-1", "USD")
    assert total([Money.of("1", "EUR"), Money.of("2.5", "EUR")], "EUR") == Money.of("3.5", "EUR")


def test_money_refuses_mixed_currencies_in_arithmetic_and_comparison() -> None:
    eur, usd = Money.of("1", "EUR"), Money.of("1", "USD")
    with pytest.raises(CurrencyMismatch, match="EUR vs USD"):
        _ = eur + usd
    with pytest.raises(CurrencyMismatch):
        _ = eur < usd
    with pytest.raises(CurrencyMismatch):
        total([eur, usd], "EUR")


@pytest.mark.parametrize("amount", [0.1, float("nan"), "abc", "Infinity", True, None])
def test_money_refuses_floats_and_garbage(amount: object) -> None:
    with pytest.raises(InvalidMoney):
        Money(amount, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize("currency", ["eur", "EURO", "", "E1R", None])
def test_money_refuses_bad_currency(currency: object) -> None:
    with pytest.raises(InvalidMoney, match="ISO 4217"):
        Money(Decimal(1), currency)  # type: ignore[arg-type]


def test_money_rounding_is_bankers_and_str_has_no_exponent() -> None:
    assert Money.of("2.345", "EUR").rounded() == Money.of("2.34", "EUR")
    assert Money.of("2.355", "EUR").rounded() == Money.of("2.36", "EUR")
    assert str(Money(Decimal("1E+2"), "EUR")) == "100 EUR"


def test_domain_error_message_is_the_docstring_plus_detail() -> None:
    error = CurrencyMismatch("EUR vs USD")
    assert str(error) == "Amounts in different currencies cannot be combined or compared. EUR vs USD"
    assert isinstance(error, DomainError)
    assert str(InvalidSku()).startswith("A SKU must be")


@pytest.mark.parametrize("value", ["", " A", "A B", "A\tB", "x" * 65, "A\x00", 12])
def test_sku_rejects_invalid_codes(value: object) -> None:
    with pytest.raises(InvalidSku):
        Sku(value)  # type: ignore[arg-type]


def test_sku_is_case_sensitive_value_type() -> None:
    assert Sku("TSHIRT-RED-M") == Sku("TSHIRT-RED-M")
    assert Sku("a") != Sku("A")
    assert str(Sku("Ü-1")) == "Ü-1"
    assert sorted([Sku("B"), Sku("A")]) == [Sku("A"), Sku("B")]


def test_pack_size_converts_units_to_whole_packs_only() -> None:
    six = PackSize(6)
    assert [six.packs_from_units(n) for n in (0, 5, 6, 11, 12, -3)] == [0, 0, 1, 1, 2, 0]
    assert six.units_from_packs(2) == 12
    assert six.describe() == "packs of 6" and PackSize().describe() == "units"
    with pytest.raises(InvalidQuantity):
        PackSize(0)
    with pytest.raises(InvalidQuantity):
        six.packs_from_units(1.5)  # type: ignore[arg-type]


def test_unit_of_measure_rounds_down_from_base() -> None:
    dozen = UnitOfMeasure("Dozens", 12)
    assert dozen.to_base(2) == 24
    assert dozen.from_base(23) == 1
    with pytest.raises(InvalidQuantity):
        UnitOfMeasure("Nothing", 0)


def test_product_refuses_duplicate_skus() -> None:
    red = Variant(Sku("T-RED"), "Red")
    assert Product("T", "T-shirt", (red,)).variant(Sku("T-RED")) == red
    with pytest.raises(InvalidValue, match="T-RED"):
        Product("T", "T-shirt", (red, Variant(Sku("T-RED"), "Red again")))


def test_channel_listing_builder_keeps_channel_ids() -> None:
    listing = ChannelListing.create(
        "shopify", "A-1", pack_size=6, variant_id="gid://shopify/ProductVariant/1"
    )
    assert listing.sku == Sku("A-1")
    assert listing.pack_size == PackSize(6)
    assert listing.item_id("variant_id") == "gid://shopify/ProductVariant/1"
    assert listing.item_id("inventory_item_id") is None
    with pytest.raises(InvalidValue):
        ChannelListing.create("shop ify", "A-1")
