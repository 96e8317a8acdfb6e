"""Money: a `Decimal` amount with its ISO 4217 currency.

Floats are refused on purpose: 0.1 + 0.2 is not 0.3 in binary floating point, and a price that is
off by a cent is a real bug in a shop. Every operation between two amounts checks the currency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Self

from channelhub.domain.errors import CurrencyMismatch, InvalidMoney

CURRENCY_PATTERN = r"^[A-Z]{3}$"
_CURRENCY = re.compile(CURRENCY_PATTERN)


def to_decimal(value: Decimal | int | str) -> Decimal:
    """A finite Decimal from a Decimal, int or decimal string; floats are refused (inexact)."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise InvalidMoney(f"amount must be Decimal, int or str, not {type(value).__name__}")
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation as exc:
        raise InvalidMoney(f"{value!r} is not a decimal number") from exc
    if not amount.is_finite():
        raise InvalidMoney(f"{value!r} is not finite")
    return amount


@dataclass(frozen=True, slots=True)
class Money:
    """An amount of money in one currency, e.g. `Money(Decimal("19.99"), "EUR")`."""

    amount: Decimal
    currency: str = field(metadata={"json_schema": {"pattern": CURRENCY_PATTERN}})

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", to_decimal(self.amount))
        if not isinstance(self.currency, str) or not _CURRENCY.match(self.currency):
            raise InvalidMoney(f"currency {self.currency!r} is not a three-letter ISO 4217 code")

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Self:
        """Build from a decimal string or int, e.g. `Money.of("19.99", "EUR")`."""
        return cls(to_decimal(amount), currency)

    @classmethod
    def zero(cls, currency: str) -> Self:
        return cls(Decimal(0), currency)

    def _same_currency(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise InvalidMoney(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} vs {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int | Decimal):
            raise InvalidMoney(f"money can be multiplied by int or Decimal, not {type(factor).__name__}")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount >= other.amount

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    def rounded(self, places: int = 2) -> Money:
        """Rounded to `places` decimals with banker's rounding (what accounting expects)."""
        return Money(
            self.amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN), self.currency
        )

    def __str__(self) -> str:
        return f"{format(self.amount, 'f')} {self.currency}"


def total(amounts: list[Money] | tuple[Money, ...], currency: str) -> Money:
    """The sum of `amounts`, all of which must be in `currency` (an empty list sums to zero)."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
