"""A migrated SQLite store, fake source and channels, a manual clock and the pricing service."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from channelhub.clock import ManualClock
from channelhub.service.pricing import PricingContext, PricingService, parse_pricing
from channelhub.service.pricing.fakes import FakePricePublisher, FakePriceSource, StaticSalesVelocity
from channelhub.store.db import create_store_engine, upgrade_to_head

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday

PRICING_YAML = """
proposer: odoo
policy: {min_margin_percent: 10, max_auto_change_percent: 5, max_auto_drop_percent: 20}
two_approvers_above: 5000
channels:
  shop: {pricelist: 1, currency: EUR, rounding: {ending: "0.99"}, tax_included: false}
  web: {pricelist: 1, currency: EUR, tax_included: false}
map_floors: {MAP-1: "50.00"}
users: {alice: [price_approver], bob: [price_approver], carol: []}
release: {max_attempts: 3, retry_delay_s: 1}
"""


def d(value: str) -> Decimal:
    return Decimal(value)


@dataclass
class Desk:
    engine: sa.Engine
    clock: ManualClock
    source: FakePriceSource
    shop: FakePricePublisher
    web: FakePricePublisher
    velocity: StaticSalesVelocity
    service: PricingService


def build_desk(url: str, yaml_text: str = PRICING_YAML, schema: str | None = None) -> Desk:
    upgrade_to_head(url, schema)
    engine = create_store_engine(url, schema=schema)
    clock = ManualClock(T0)
    source = FakePriceSource(cost_of={"A-1": d("40"), "A-2": d("40"), "MAP-1": d("20")})
    prices = {"A-1": d("100.00"), "A-2": d("80.00"), "MAP-1": d("60.00")}
    shop = FakePricePublisher("shop", {k: v - d("0.01") for k, v in prices.items()})
    web = FakePricePublisher("web", dict(prices))
    velocity = StaticSalesVelocity({("shop", "A-1"): d("3"), ("web", "A-1"): d("2")})
    context = PricingContext(
        engine, parse_pricing(yaml_text), clock, {"shop": shop, "web": web}, source, velocity
    )
    return Desk(engine, clock, source, shop, web, velocity, PricingService(context))


@pytest.fixture
def desk(tmp_sqlite_url: str) -> Iterator[Desk]:
    built = build_desk(tmp_sqlite_url)
    try:
        yield built
    finally:
        built.engine.dispose()
