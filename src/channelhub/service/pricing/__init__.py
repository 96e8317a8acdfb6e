"""Pricing governance (DESIGN §4, issue 8): capture → propose → policy → maker-checker approval →
release (windows, canary, all-or-nothing per channel, read back) → `date_end` revert / rollback,
every step in the hash-chained audit trail.

`PricingService` is the one object the CLI, the API routes and the scheduler talk to:

    service = PricingService(PricingContext(engine, settings, clock, publishers, source, velocity))
    await service.capture.poll()                  # Odoo pricelist changes → change sets
    service.governance.change_sets(status)        # list;  .get(id).to_dict() is the API JSON
    service.governance.approve(id, service.context.approver("alice"), "ok")
    await service.release.run_due()               # the tier-2 tick
    await service.release.rollback(id, approver, "wrong promo")
    service.audit_verify()                        # ChainReport
"""

from __future__ import annotations

import asyncio
import logging

from channelhub.connectors.errors import ConnectorError
from channelhub.domain.audit import ChainReport
from channelhub.domain.price_changes import ChangeSetStatus
from channelhub.service.pricing.adapters import (
    OdooOrderRate,
    OdooPriceSource,
    OdooSalesVelocity,
    ShopifyPricePublisher,
    WooCommercePricePublisher,
    ensure_fixed_pricelist,
    price_publisher_for,
)
from channelhub.service.pricing.audit_trail import AuditTrail
from channelhub.service.pricing.capture import PriceCapture
from channelhub.service.pricing.context import ChangeSetNotFound, PricingContext, PricingError, UnknownChannel
from channelhub.service.pricing.governance import PriceGovernance, ProposedPrice
from channelhub.service.pricing.ports import (
    OrderRate,
    PriceChangeBatch,
    PricelistChange,
    PricePublisher,
    PriceSource,
    PushOutcome,
    SalesVelocity,
    SourcePrice,
)
from channelhub.service.pricing.records import ChangeItem, ChangeSet, PriceVersion
from channelhub.service.pricing.release import PriceRelease, ReleaseReport
from channelhub.service.pricing.settings import (
    PricingSettings,
    PricingSettingsError,
    load_pricing,
    parse_pricing,
)

_log = logging.getLogger(__name__)


class PricingService:
    """The facade: one context, the three use-case groups, and the audit trail."""

    def __init__(self, context: PricingContext) -> None:
        self.context = context
        self.governance = PriceGovernance(context)
        self.capture = PriceCapture(context, self.governance)
        self.release = PriceRelease(context)

    async def tick(self) -> ReleaseReport:
        """One scheduler tick (tier 2, e.g. every minute): capture pricelist changes when a
        source is configured, then publish what is due, judge canaries and revert ended windows.
        A failing capture does not stop releases (the next tick polls again)."""
        if self.context.source is not None:
            try:
                await self.capture.poll()
            except ConnectorError as error:
                _log.warning("price capture failed, retrying next tick: %s", error)
        return await self.release.run_due()

    async def run_forever(self, interval_s: float = 60.0, *, stop: asyncio.Event | None = None) -> None:
        """Tick every `interval_s` on the context's clock until `stop` is set."""
        while stop is None or not stop.is_set():
            await self.tick()
            await self.context.clock.sleep(interval_s)

    def audit_verify(self) -> ChainReport:
        with self.context.unit() as unit:
            return unit.audit.verify()

    def audit_export(self, fmt: str = "json", subject: str | None = None) -> str:
        with self.context.unit() as unit:
            if fmt == "csv":
                return unit.audit.export_csv(subject)
            if fmt == "json":
                return unit.audit.export_json(subject)
        raise PricingError(f"unknown export format {fmt!r}; use json or csv")

    def audit_trail(self, subject: str | None = None) -> list[dict[str, object]]:
        with self.context.unit() as unit:
            return [record.to_dict() for record in unit.audit.records(subject)]


__all__ = [
    "AuditTrail",
    "ChangeItem",
    "ChangeSet",
    "ChangeSetNotFound",
    "ChangeSetStatus",
    "OdooOrderRate",
    "OdooPriceSource",
    "OdooSalesVelocity",
    "OrderRate",
    "PriceCapture",
    "PriceChangeBatch",
    "PriceGovernance",
    "PricePublisher",
    "PriceRelease",
    "PriceSource",
    "PriceVersion",
    "PricelistChange",
    "PricingContext",
    "PricingError",
    "PricingService",
    "PricingSettings",
    "PricingSettingsError",
    "ProposedPrice",
    "PushOutcome",
    "ReleaseReport",
    "SalesVelocity",
    "ShopifyPricePublisher",
    "SourcePrice",
    "UnknownChannel",
    "WooCommercePricePublisher",
    "ensure_fixed_pricelist",
    "load_pricing",
    "parse_pricing",
    "price_publisher_for",
]
