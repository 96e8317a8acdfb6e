"""The domain's exception tree.

Every error raised by `channelhub.domain` is a `DomainError`. The default message of each subclass
is its docstring, so `raise CurrencyMismatch()` already says what went wrong; callers add the
specifics (`CurrencyMismatch("EUR vs USD")` keeps the docstring and appends the detail).

    DomainError
    ├── InvalidValue                 a value object was given a value it cannot hold
    │   ├── InvalidSku
    │   ├── InvalidMoney
    │   ├── InvalidQuantity
    │   └── InvalidAllocationRule
    ├── CurrencyMismatch
    ├── UnknownChannel
    ├── UnknownLocation
    ├── DuplicateStockPosition
    ├── InvalidEventPayload
    ├── UnknownEventType
    ├── InvalidTransition            a state machine was asked for a move it does not have
    └── ApprovalRefused
        ├── SelfApprovalForbidden
        └── MissingApproverRole

Business conflicts on orders (cancel after fulfilment started, refund before payment) are *not*
exceptions: they are `BusinessException` values (see `orders.py`) so they are recorded and acted on,
never lost in a stack trace.
"""

from __future__ import annotations


class DomainError(Exception):
    """A domain rule was violated."""

    def __init__(self, detail: str | None = None) -> None:
        base = (type(self).__doc__ or "Domain error.").strip().splitlines()[0]
        self.detail = detail
        super().__init__(f"{base} {detail}" if detail else base)


class InvalidValue(DomainError, ValueError):
    """A value object was given a value it cannot hold."""


class InvalidSku(InvalidValue):
    """A SKU must be 1-64 printable characters without surrounding or inner whitespace."""


class InvalidMoney(InvalidValue):
    """Money needs a finite Decimal amount and a three-letter upper-case ISO 4217 currency."""


class InvalidQuantity(InvalidValue):
    """Quantities are whole numbers in the product's unit and must be in range."""


class InvalidAllocationRule(InvalidValue):
    """An allocation rule (share, safety stock, warehouse mapping) is out of range."""


class CurrencyMismatch(DomainError):
    """Amounts in different currencies cannot be combined or compared."""


class UnknownChannel(DomainError):
    """The channel has no allocation rule."""


class UnknownLocation(DomainError):
    """A stock row refers to a location that was not supplied."""


class DuplicateStockPosition(DomainError):
    """More than one stock position was given for the same SKU and warehouse."""


class InvalidEventPayload(DomainError):
    """An event payload does not match its contract."""


class UnknownEventType(DomainError):
    """No canonical event is registered under this type."""


class InvalidTransition(DomainError):
    """The state machine has no such move from the current state."""


class ApprovalRefused(DomainError):
    """The price proposal cannot be approved by this person."""


class SelfApprovalForbidden(ApprovalRefused):
    """Maker-checker: the approver must not be the person who proposed the change."""


class MissingApproverRole(ApprovalRefused):
    """The approver does not hold the role the price policy requires."""
