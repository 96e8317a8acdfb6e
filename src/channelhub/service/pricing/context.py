"""What every pricing use case shares: the store, the settings, the clock and the outside world."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from channelhub.clock import Clock
from channelhub.domain import Approver
from channelhub.service.pricing.audit_trail import AuditTrail
from channelhub.service.pricing.ports import OrderRate, PricePublisher, PriceSource, SalesVelocity
from channelhub.service.pricing.records import ChangeSet, PricingRecords
from channelhub.service.pricing.settings import PricingSettings


class PricingError(Exception):
    """A pricing request cannot be carried out (the message says why)."""


class ChangeSetNotFound(PricingError):
    """No change set has this id."""


class UnknownChannel(PricingError):
    """No price publisher is configured for this channel."""


@dataclass(frozen=True)
class Unit:
    """One transaction's view: records, audit trail and the raw connection."""

    connection: sa.Connection
    records: PricingRecords
    audit: AuditTrail


@dataclass
class PricingContext:
    engine: sa.Engine
    settings: PricingSettings
    clock: Clock
    publishers: Mapping[str, PricePublisher] = field(default_factory=dict)
    source: PriceSource | None = None
    velocity: SalesVelocity | None = None
    order_rate: OrderRate | None = None

    @contextmanager
    def unit(self) -> Iterator[Unit]:
        """One transaction: everything written inside commits together (state + audit rows)."""
        with self.engine.begin() as connection:
            yield Unit(connection, PricingRecords(connection), AuditTrail(connection))

    def load(self, unit: Unit, change_set_id: int) -> ChangeSet:
        found = unit.records.get(change_set_id, for_update=True)
        if found is None:
            raise ChangeSetNotFound(f"change set {change_set_id} does not exist")
        return found

    def publisher(self, channel: str) -> PricePublisher:
        publisher = self.publishers.get(channel)
        if publisher is None:
            known = ", ".join(sorted(self.publishers)) or "none"
            raise UnknownChannel(f"no price publisher for channel {channel!r} (configured: {known})")
        return publisher

    def approver(self, user: str) -> Approver:
        """The user with the roles the pricing file gives them (until the API's users exist)."""
        return Approver(user, self.settings.roles_of(user))


def summary(change_set: ChangeSet) -> dict[str, Any]:
    """What an audit row says about a change set (small: status and prices, not the decisions)."""
    return {
        "status": change_set.status.value,
        "items": [
            {
                "sku": item.sku,
                "channel": item.channel,
                "old_price": None if item.old_price is None else str(item.old_price),
                "new_price": str(item.new_price),
                "state": item.state,
            }
            for item in change_set.items
        ],
    }
