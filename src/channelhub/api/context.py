"""What the API needs from the running engine (built by `channelhub.bootstrap`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from channelhub.clock import SYSTEM_CLOCK, Clock
from channelhub.service.availability import AvailabilityService
from channelhub.service.ports import ChannelGateway, ErpGateway

ODOO_CHANNEL = "odoo"
"""The inbox `channel` of Odoo notifications (channel names of the landscape never clash: Odoo is
not a sales channel)."""


@dataclass
class ApiContext:
    """`channels`: the sales channels by landscape name. `erp`: None when Odoo webhooks are not
    received (every Odoo delivery is then refused). `api_token`: the admin API's bearer token.
    `on_accepted`: called (from the API's thread) after a delivery was stored: wakes the inbox
    processor. `on_delivery_lag`: see the field. `health`: extra fields for `GET /api/v1/health` (queue depths, publisher state)."""

    engine: Engine
    channels: Mapping[str, ChannelGateway]
    erp: ErpGateway | None
    availability: AvailabilityService
    api_token: str
    clock: Clock = SYSTEM_CLOCK
    on_accepted: Callable[[], None] | None = None
    health: Callable[[], Mapping[str, Any]] | None = None
    # Called for each stored channel delivery with the channel and the seconds from the state it
    # carries (`occurred_at`) to its receipt: how late the platform delivers (a metrics hook).
    on_delivery_lag: Callable[[str, float], None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def channels_of_kind(self, kind: str) -> list[ChannelGateway]:
        return [gateway for gateway in self.channels.values() if gateway.kind == kind]
