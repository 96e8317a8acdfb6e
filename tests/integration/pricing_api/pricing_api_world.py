"""A small real app for the pricing API tests: FastAPI + the operations surface (roles, tokens,
sessions) + the pricing routes and pages, on a migrated SQLite store, with the pricing fakes as
Odoo and the two channels and a manual clock.

Users (API tokens named after them, so the acting user is the token's name):
carol proposes (price_approver), alice and bob approve (price_approver), vera views, oscar
operates; alice and carol also have dashboard logins. The store is migrated and the tokens are
made once per process, then the database file is copied for every world.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from channelhub.api.errors import install_error_handlers
from channelhub.api.operations import OperationsContext, install_operations
from channelhub.api.pricing import PricingHandle, install_pricing
from channelhub.api.security import Role, SecurityStore
from channelhub.clock import ManualClock
from channelhub.service.pricing import (
    ChangeSet,
    PricingContext,
    PricingService,
    ProposedPrice,
    parse_pricing,
)
from channelhub.service.pricing.fakes import FakePricePublisher, FakePriceSource, StaticSalesVelocity
from channelhub.store.db import create_store_engine, upgrade_to_head

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BOOTSTRAP = "pricing-admin-token-0123456789"
PASSWORD = "correct-horse-battery"
USERS = {
    "carol": Role.PRICE_APPROVER,
    "alice": Role.PRICE_APPROVER,
    "bob": Role.PRICE_APPROVER,
    "vera": Role.VIEWER,
    "oscar": Role.OPERATOR,
}
PRICING_YAML = """
proposer: odoo
policy: {min_margin_percent: 10, max_auto_change_percent: 5, max_auto_drop_percent: 20}
channels:
  shop: {pricelist: 1, currency: EUR, tax_included: false}
  web: {pricelist: 1, currency: EUR, tax_included: false}
release: {max_attempts: 2, retry_delay_s: 1}
"""


@dataclass(frozen=True)
class _Template:
    path: Path
    tokens: dict[str, str]


_TEMPLATES: list[_Template] = []


def _template() -> _Template:
    if not _TEMPLATES:
        path = Path(tempfile.mkdtemp(prefix="pricing-api-template-")) / "template.db"
        url = f"sqlite:///{path}"
        upgrade_to_head(url)
        engine = create_store_engine(url)
        try:
            store = SecurityStore(engine)
            tokens = {name: store.create_token(name, role, "test").token for name, role in USERS.items()}
            for name in ("alice", "carol"):
                store.create_user(name, PASSWORD, USERS[name])
        finally:
            engine.dispose()  # checkpoints the WAL into the file
        _TEMPLATES.append(_Template(path, tokens))
    return _TEMPLATES[0]


@dataclass
class PricingApiWorld:
    engine: sa.Engine
    app: FastAPI
    handle: PricingHandle
    service: PricingService
    clock: ManualClock
    shop: FakePricePublisher
    web: FakePricePublisher
    tokens: dict[str, str]
    wakes: list[int] = field(default_factory=list)

    def bearer(self, user: str) -> dict[str, str]:
        token = BOOTSTRAP if user == "bootstrap" else self.tokens[user]
        return {"Authorization": f"Bearer {token}"}

    def propose(self, prices: dict[str, str], proposed_by: str = "carol") -> ChangeSet:
        """One change set for these SKU prices on both channels (run on a loop of its own)."""
        proposed = [
            ProposedPrice(sku, channel, Decimal(amount), "EUR")
            for sku, amount in prices.items()
            for channel in ("shop", "web")
        ]
        created = asyncio.run(
            self.service.governance.propose(proposed, title="Spring promotion", proposed_by=proposed_by)
        )
        assert created is not None
        return created

    def release_due(self) -> list[int]:
        return asyncio.run(self.service.release.run_due()).published


def build_world(
    tmp_path: Path, *, bootstrap_user: str = "bootstrap-token", with_service: bool = True
) -> PricingApiWorld:
    template = _template()
    target = tmp_path / "pricing-api.db"
    for suffix in ("", "-wal", "-shm"):
        copied = template.path.with_name(template.path.name + suffix)
        if copied.exists():
            shutil.copyfile(copied, target.with_name(target.name + suffix))
    engine = create_store_engine(f"sqlite:///{target}")
    clock = ManualClock(T0)
    prices = {"A-1": Decimal("100.00"), "A-2": Decimal("80.00")}
    shop = FakePricePublisher("shop", dict(prices))
    web = FakePricePublisher("web", dict(prices))
    source = FakePriceSource(cost_of={"A-1": Decimal("40"), "A-2": Decimal("40")})
    velocity = StaticSalesVelocity({("shop", "A-1"): Decimal("3"), ("web", "A-1"): Decimal("2")})
    context = PricingContext(
        engine, parse_pricing(PRICING_YAML), clock, {"shop": shop, "web": web}, source, velocity
    )
    service = PricingService(context)
    app = FastAPI(title="channelhub pricing (test)")
    install_error_handlers(app)
    install_operations(app, OperationsContext(engine=engine, clock=clock, bootstrap_token=BOOTSTRAP))
    wakes: list[int] = []
    handle = install_pricing(app, service if with_service else None, bootstrap_user=bootstrap_user)
    handle.wake = lambda: wakes.append(1)
    return PricingApiWorld(engine, app, handle, service, clock, shop, web, dict(template.tokens), wakes)


def login(client: TestClient, username: str) -> str:
    """Log in through the dashboard form like a browser; returns the session's CSRF token."""
    form = client.get("/dashboard/login")
    login_csrf = form.text.split('name="login_csrf" value="')[1].split('"')[0]
    response = client.post(
        "/dashboard/login",
        data={
            "username": username,
            "password": PASSWORD,
            "login_csrf": login_csrf,
            "next": "/dashboard/prices",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = client.get("/dashboard/prices")
    assert page.status_code == 200, page.text
    csrf: str = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    return csrf
