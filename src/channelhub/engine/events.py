"""What goes into the log (`NewEvent`) and what a handler receives (`LoggedEvent`)."""

from __future__ import annotations

import uuid
import zlib
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, NamedTuple

from channelhub.store.log_tables import PARTITIONS

_ID_NAMESPACE = uuid.UUID("6f1c1d52-8a8e-4f0e-9a53-1d2c8c0b7e41")


class Tier(IntEnum):
    """Priority tier: 1 seconds (stock, orders, payments), 2 minutes (shipments), 3 batch."""

    REALTIME = 1
    MINUTES = 2
    BATCH = 3


class EventError(ValueError):
    """An event cannot be appended as given."""


def deterministic_event_id(topic: str, key: str, *identity: object) -> str:
    """A stable id for an event, so appending the same fact twice stores it once.

    `identity` names what makes this occurrence unique (a webhook delivery id, an Odoo write_date,
    a version number): the same inputs always give the same id.
    """
    name = "\x1f".join([topic, key, *(str(part) for part in identity)])
    return str(uuid.uuid5(_ID_NAMESPACE, name))


def partition_of(key: str, partitions: int = PARTITIONS) -> int:
    """The partition of an ordering key: a stable hash, equal across processes and machines."""
    return zlib.crc32(key.encode()) % partitions


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append. `event_id` must be deterministic (see `deterministic_event_id`)."""

    event_id: str
    topic: str
    key: str
    payload: dict[str, Any] = field(default_factory=dict)
    tier: Tier = Tier.REALTIME
    delay_s: float = 0.0

    def __post_init__(self) -> None:
        for name in ("event_id", "topic", "key"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise EventError(f"{name} must be a non-empty string, got {value!r}")
            if len(value) > 255:
                raise EventError(f"{name} is longer than 255 characters: {value[:40]!r}...")
        if int(self.tier) not in (1, 2, 3):
            raise EventError(f"tier must be 1, 2 or 3, got {self.tier!r}")
        if self.delay_s < 0:
            raise EventError(f"delay_s cannot be negative, got {self.delay_s}")


class LoggedEvent(NamedTuple):
    """An event as stored in the log and handed to a handler (immutable; a tuple because workers
    build hundreds of thousands of them per second)."""

    seq: int
    event_id: str
    topic: str
    key: str
    tier: int
    payload: dict[str, Any]
    created_at: float
    attempts: int
    """Attempts before this one (0 on first delivery)."""
