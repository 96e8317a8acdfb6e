"""Versioned canonical events: the contracts between ingress, handlers, publishers and other teams.

Each event is a frozen dataclass with a versioned `type` (`stock.changed.v1`). A breaking change
gets a new class and type (`...v2`); the old one stays registered while anything still emits it.

- `event_id` is deterministic: a UUID v5 over the type and the event's natural key (or its whole
  content when it has none). The same fact delivered twice has the same id, so at-least-once
  delivery can be deduplicated.
- `key` is the ordering key: events with the same key are handled strictly in order
  (`sku:<SKU>`, `order:<order key>`, `warehouse:<code>`).
- `to_dict()` / `event_from_dict()` round-trip through plain JSON data (Decimal and datetime as
  strings); `event_json_schemas()` gives the JSON Schema (draft 2020-12) of every type.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from channelhub.domain.catalog import CODE_PATTERN, Sku
from channelhub.domain.codec import (
    JSON_SCHEMA_DIALECT,
    UUID_PATTERN,
    check_constraints,
    decode_dataclass,
    encode,
    object_schema,
)
from channelhub.domain.errors import InvalidEventPayload, InvalidValue, UnknownEventType
from channelhub.domain.money import Money
from channelhub.domain.stock import StockPosition

if TYPE_CHECKING:
    from channelhub.domain.availability import AvailabilityResult

EVENT_NAMESPACE = uuid.UUID("5d3c1f0e-8f5e-4a57-9f55-1c5a1f0b6c11")
"""Namespace of the UUID v5 event ids. Never change it: ids would stop matching past deliveries."""

_COUNT = {"json_schema": {"minimum": 0}}
_NON_EMPTY = {"json_schema": {"minLength": 1}}
_CODE = {"json_schema": {"pattern": CODE_PATTERN}}
_AT_LEAST_ONE = {"json_schema": {"minItems": 1}}
_EVENT_TYPES: dict[str, type[CanonicalEvent]] = {}

E = TypeVar("E", bound="CanonicalEvent")


def canonical_event(cls: type[E]) -> type[E]:
    """Register an event class under its `type` (a decorator; types must be unique)."""
    if not cls.type or cls.type in _EVENT_TYPES:
        raise ValueError(f"event type {cls.type!r} is empty or registered twice")
    _EVENT_TYPES[cls.type] = cls
    return cls


@dataclass(frozen=True, slots=True, kw_only=True)
class CanonicalEvent:
    """Base of every canonical event."""

    type: ClassVar[str] = ""
    tier: ClassVar[int] = 1
    """Priority tier (DESIGN §1.6): 1 seconds (stock, orders, money), 2 minutes, 3 batch."""
    natural_key: ClassVar[tuple[str, ...] | None] = None
    """Fields that identify the fact; None means the whole content (including `occurred_at`)."""

    occurred_at: datetime

    def __post_init__(self) -> None:
        check_constraints(self, self.type)

    @property
    def event_id(self) -> str:
        content = encode(self)
        identity = content if self.natural_key is None else {k: content[k] for k in self.natural_key}
        # ASCII escapes keep the id defined for any text, lone surrogates included.
        canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"))
        return str(uuid.uuid5(EVENT_NAMESPACE, f"{self.type}|{canonical}"))

    @property
    def key(self) -> str:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data: `type`, `event_id`, `key` and every field."""
        return {"type": self.type, "event_id": self.event_id, "key": self.key, **encode(self)}


@dataclass(frozen=True, slots=True, kw_only=True)
class _SkuEvent(CanonicalEvent):
    sku: Sku

    @property
    def key(self) -> str:
        return f"sku:{self.sku}"


@dataclass(frozen=True, slots=True, kw_only=True)
class _OrderEvent(CanonicalEvent):
    order_key: str = field(metadata=_NON_EMPTY)
    """`<channel>:<channel order id>`; also the Odoo `client_order_ref` (idempotency key)."""

    @property
    def key(self) -> str:
        return f"order:{self.order_key}"


@canonical_event
@dataclass(frozen=True, slots=True, kw_only=True)
class StockChanged(_SkuEvent):
    """The stock of a SKU in a warehouse changed (product units)."""

    type: ClassVar[str] = "stock.changed.v1"
    warehouse: str = field(metadata=_CODE)
    on_hand: int
    reserved: int = field(metadata=_COUNT)
    hold: int = field(metadata=_COUNT)
    incoming: int = field(default=0, metadata=_COUNT)

    @classmethod
    def from_position(cls, position: StockPosition, occurred_at: datetime) -> StockChanged:
        return cls(
            occurred_at=occurred_at,
            sku=position.sku,
            warehouse=position.warehouse,
            on_hand=position.on_hand,
            reserved=position.reserved,
            hold=position.hold,
            incoming=position.incoming,
        )

    def to_position(self) -> StockPosition:
        return StockPosition(self.sku, self.warehouse, self.on_hand, self.reserved, self.hold, self.incoming)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlacedLine:
    """One line of a placed order."""

    line_id: str = field(metadata=_NON_EMPTY)
    sku: Sku
    quantity: int = field(metadata={"json_schema": {"minimum": 1}})
    unit_price: Money

    def __post_init__(self) -> None:
        check_constraints(self, "order line")


@dataclass(frozen=True, slots=True, kw_only=True)
class ShippedLine:
    """Units of one order line in a shipment."""

    line_id: str = field(metadata=_NON_EMPTY)
    sku: Sku
    quantity: int = field(metadata={"json_schema": {"minimum": 1}})

    def __post_init__(self) -> None:
        check_constraints(self, "shipped line")


@canonical_event
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderPlaced(_OrderEvent):
    """A channel accepted an order."""

    type: ClassVar[str] = "order.placed.v1"
    natural_key: ClassVar[tuple[str, ...] | None] = ("order_key",)
    channel: str = field(metadata=_CODE)
    channel_order_id: str = field(metadata=_NON_EMPTY)
    lines: tuple[PlacedLine, ...] = field(metadata=_AT_LEAST_ONE)
    total: Money

    def __post_init__(self) -> None:
        CanonicalEvent.__post_init__(self)
        if any(line.unit_price.currency != self.total.currency for line in self.lines):
            raise InvalidValue("order lines and total must share one currency")


@canonical_event
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderPaid(_OrderEvent):
    """A payment for the order was captured."""

    type: ClassVar[str] = "order.paid.v1"
    natural_key: ClassVar[tuple[str, ...] | None] = ("order_key", "payment_id")
    payment_id: str = field(metadata=_NON_EMPTY)
    amount: Money


@canonical_event
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCancelled(_OrderEvent):
    """The order was cancelled."""

    type: ClassVar[str] = "order.cancelled.v1"
    natural_key: ClassVar[tuple[str, ...] | None] = ("order_key",)
    reason: str


@canonical_event
@dataclass(frozen=True, slots=True, kw_only=True)
class ShipmentCreated(_OrderEvent):
    """Units of the order left the warehouse (partial shipments are separate shipments)."""

    type: ClassVar[str] = "shipment.created.v1"
    tier: ClassVar[int] = 2
    natural_key: ClassVar[tuple[str, ...] | None] = ("order_key", "shipment_id")
    shipment_id: str = field(metadata=_NON_EMPTY)
    lines: tuple[ShippedLine, ...] = field(metadata=_AT_LEAST_ONE)
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None


@canonical_event
@dataclass(frozen=True, slots=True, kw_only=True)
class RefundCreated(_OrderEvent):
    """Money was refunded to the customer."""

    type: ClassVar[str] = "refund.created.v1"
    natural_key: ClassVar[tuple[str, ...] | None] = ("order_key", "refund_id")
    refund_id: str = field(metadata=_NON_EMPTY)
    amount: Money
    reason: str = ""


@canonical_event
@dataclass(frozen=True, slots=True, kw_only=True)
class PriceChanged(_SkuEvent):
    """The price of a SKU on a channel changed (released, effective now)."""

    type: ClassVar[str] = "price.changed.v1"
    tier: ClassVar[int] = 2
    channel: str = field(metadata=_CODE)
    price: Money
    compare_at: Money | None = None
    version: int = field(default=1, metadata={"json_schema": {"minimum": 1}})


@canonical_event
@dataclass(frozen=True, slots=True, kw_only=True)
class AvailabilityChanged(_SkuEvent):
    """The available-to-sell number of a SKU on a channel changed (in the channel's unit)."""

    type: ClassVar[str] = "availability.changed.v1"
    channel: str = field(metadata=_CODE)
    quantity: int = field(metadata=_COUNT)
    pack_size: int = field(default=1, metadata={"json_schema": {"minimum": 1}})

    @classmethod
    def from_result(cls, result: AvailabilityResult, occurred_at: datetime) -> AvailabilityChanged:
        return cls(
            occurred_at=occurred_at,
            sku=result.sku,
            channel=result.channel,
            quantity=result.quantity,
            pack_size=result.pack_size,
        )


@canonical_event
@dataclass(frozen=True, slots=True, kw_only=True)
class WarehouseStatusChanged(CanonicalEvent):
    """A warehouse went online/offline or on/off hold."""

    type: ClassVar[str] = "warehouse.status_changed.v1"
    warehouse: str = field(metadata=_CODE)
    online: bool
    on_hold: bool
    reason: str = ""

    @property
    def key(self) -> str:
        return f"warehouse:{self.warehouse}"


def event_types() -> dict[str, type[CanonicalEvent]]:
    """Every registered event class by type name."""
    return dict(_EVENT_TYPES)


def event_from_dict(data: dict[str, Any]) -> CanonicalEvent:
    """The event encoded by `CanonicalEvent.to_dict()`.

    `event_id` and `key`, when present, must match what the content implies: a mismatch means the
    payload was altered or produced by a different contract, and is refused.
    """
    if not isinstance(data, dict):
        raise InvalidEventPayload(f"expected an object, got {type(data).__name__}")
    event_type = data.get("type")
    cls = _EVENT_TYPES.get(event_type) if isinstance(event_type, str) else None
    if cls is None:
        raise UnknownEventType(repr(event_type))
    event_type = cls.type
    content = {k: v for k, v in data.items() if k not in ("type", "event_id", "key")}
    event: CanonicalEvent = decode_dataclass(cls, content, cls.type)
    for name in ("event_id", "key"):
        if name in data and data[name] != getattr(event, name):
            raise InvalidEventPayload(f"{event_type}.{name} {data[name]!r} does not match the content")
    return event


def event_json_schema(cls: type[CanonicalEvent]) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one event type, as `to_dict()` writes it."""
    defs: dict[str, Any] = {}
    body = object_schema(cls, defs)
    schema: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"urn:channelhub:event:{cls.type}",
        "title": cls.type,
        "description": body.pop("description", cls.type),
        "type": "object",
        "properties": {
            "type": {"const": cls.type},
            "event_id": {"type": "string", "format": "uuid", "pattern": UUID_PATTERN},
            "key": {"type": "string", "minLength": 1},
            **body["properties"],
        },
        "required": ["type", "event_id", "key", *body["required"]],
        "additionalProperties": False,
    }
    if defs:
        schema["$defs"] = dict(sorted(defs.items()))
    return schema


def event_json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of every registered event type, keyed by type name (sorted)."""
    return {name: event_json_schema(cls) for name, cls in sorted(_EVENT_TYPES.items())}
