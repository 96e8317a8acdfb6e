"""Pricing governance end to end: the Odoo, Shopify and WooCommerce emulators on loopback, the
sandbox's pricing setup (one pricelist, seeded fixed prices, approver user, release tick) and the
HTTP API with its real authentication, the way a pricing team uses the sandbox's endpoints file.

A 50 % cut on a pricelist item in Odoo is captured but reaches no channel; the proposer (Odoo's
admin, whose person the sandbox's admin token is) cannot approve it; the price approver can, and
both shops then show it, read back through their APIs; rollback restores the old price on both; a
price below cost is rejected naming the rule; the audit chain verifies.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner, Result

from channelhub.api.errors import install_error_handlers
from channelhub.api.operations import OperationsContext, install_operations
from channelhub.api.pricing import PricingHandle, install_pricing
from channelhub.bootstrap import channel_gateways, open_store
from channelhub.cli import app as cli_app
from channelhub.clock import ManualClock
from channelhub.connectors.odoo.values import format_datetime
from channelhub.sandbox.pricing_setup import (
    PricingSandbox,
    PricingSandboxSettings,
    emulator_price_aligner,
    setup_pricing,
)
from channelhub.sandbox.runner import (
    Emulators,
    SandboxSettings,
    read_catalog,
    sandbox_landscape,
    seed_channels,
    start_emulators,
)
from channelhub.sandbox.server import free_port, serve_in_thread

pytestmark = pytest.mark.timeout(60)
ADMIN_TOKEN = "pricing-e2e-admin-token-0123456789"
CHANNELS = ("shopify", "woocommerce")
T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T]], *, within_s: float, what: str) -> T:
    """Poll `probe` until it returns something truthy (a deadline, not a sleep)."""
    deadline = time.monotonic() + within_s
    while True:
        found = await probe()
        if found:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} not reached within {within_s} s (last: {found!r})")
        await asyncio.sleep(0.05)


@dataclass
class PricingLandscape:
    emulators: Emulators
    pricing: PricingSandbox
    api: httpx.AsyncClient
    endpoints: dict[str, Any]
    clock: ManualClock

    def as_admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.endpoints['channelhub']['token']}"}

    def as_approver(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.endpoints['channelhub']['price_approver_token']}"}

    async def shown(self, sku: str) -> dict[str, Decimal]:
        """What each shop shows for `sku`, read back through the shop's API."""
        publishers = self.pricing.service.context.publishers
        return {channel: (await publishers[channel].read_prices([sku]))[sku] for channel in CHANNELS}

    async def write_odoo_price(self, sku: str, price: Decimal) -> None:
        client = self.pricing.connector.client  # logged in as the sandbox's Odoo admin
        item = self.pricing.items[sku]
        await client.execute_kw("product.pricelist.item", "write", [[item], {"fixed_price": float(price)}])

    async def change_sets_of(self, sku: str) -> list[dict[str, Any]]:
        reply = await self.api.get("/api/v1/price-changes", headers=self.as_admin())
        assert reply.status_code == 200, reply.text
        return [c for c in reply.json()["items"] if any(i["sku"] == sku for i in c["items"])]


@pytest.fixture
async def landscape(tmp_path: Path) -> AsyncIterator[PricingLandscape]:
    with contextlib.ExitStack() as stack:
        emulators = start_emulators(SandboxSettings(skus=10, seed=8), stack)
        landscape, _ = sandbox_landscape(emulators, tmp_path, free_port())
        catalog = await read_catalog(landscape, 3)
        seed_channels(emulators, catalog)
        engine = open_store(landscape)
        stack.callback(engine.dispose)
        gateways = channel_gateways(landscape)
        try:
            handle = PricingHandle()
            clock = ManualClock(datetime.now(UTC))  # the governance's business time
            app = FastAPI(title="channelhub pricing e2e")
            install_error_handlers(app)
            store = install_operations(app, OperationsContext(engine=engine, bootstrap_token=ADMIN_TOKEN))
            install_pricing(app, handle)
            server = stack.enter_context(serve_in_thread(app))
            pricing = await setup_pricing(
                landscape, engine, gateways, skus=catalog.skus, handle=handle, security=store,
                work_dir=tmp_path, align_channels=emulator_price_aligner(emulators),
                settings=PricingSandboxSettings(tick_interval_s=0.3), clock=clock,
            )  # fmt: skip
            endpoints: dict[str, Any] = {"channelhub": {"url": server.url, "token": ADMIN_TOKEN}}
            pricing.add_to(endpoints)
            try:
                async with httpx.AsyncClient(base_url=server.url, timeout=15) as api:
                    yield PricingLandscape(emulators, pricing, api, endpoints, clock)
            finally:
                await pricing.stop()
        finally:
            for gateway in gateways.values():
                await gateway.aclose()


async def _costs(landscape: PricingLandscape) -> dict[str, Decimal]:
    rows = await landscape.pricing.connector.client.search_read_all(
        "product.product",
        [("default_code", "in", sorted(landscape.pricing.items))],
        ["default_code", "standard_price"],
    )
    return {str(row["default_code"]): Decimal(str(row["standard_price"])) for row in rows}


async def test_a_price_cut_needs_a_second_person_then_reaches_both_shops_and_rolls_back(
    landscape: PricingLandscape,
) -> None:
    pricing, api = landscape.pricing, landscape.api
    assert set(landscape.endpoints["odoo"]["pricelists"]) == set(CHANNELS)
    assert set(landscape.endpoints["odoo"]["pricelists"].values()) == {pricing.pricelist}
    costs = await _costs(landscape)
    # The SKU whose cost leaves room for a 50 % cut above the margin floor (10 %).
    sku = min(pricing.items, key=lambda code: costs[code] / pricing.prices[code])
    old = pricing.prices[sku]
    half = (old / 2).quantize(Decimal("0.01"))
    assert costs[sku] <= half * Decimal("0.9"), "the seeded catalog has a SKU with room for a 50 % cut"
    assert await landscape.shown(sku) == dict.fromkeys(CHANNELS, old)  # seeded: Odoo and shops agree

    await landscape.write_odoo_price(sku, half)
    [change_set] = await eventually(
        lambda: landscape.change_sets_of(sku), within_s=10, what="the cut captured"
    )
    assert change_set["status"] == "pending_approval" and change_set["proposed_by"] == "admin"
    assert {(i["channel"], i["old_price"], i["new_price"]) for i in change_set["items"]} == {
        (channel, f"{old:.2f}", f"{half:.2f}") for channel in CHANNELS
    }
    approve = f"/api/v1/price-changes/{change_set['id']}/approve"
    refused = await api.post(approve, json={"comment": "my own cut"}, headers=landscape.as_admin())
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "approval_refused"
    assert await landscape.shown(sku) == dict.fromkeys(CHANNELS, old)  # nothing reached a shop

    approved = await api.post(approve, json={"comment": "clearance"}, headers=landscape.as_approver())
    assert approved.status_code == 200 and approved.json()["status"] == "scheduled", approved.text

    async def published() -> bool:
        reply = await api.get(f"/api/v1/price-changes/{change_set['id']}", headers=landscape.as_admin())
        return bool(reply.json()["status"] == "published")

    await eventually(published, within_s=5, what="the cut published")
    assert await landscape.shown(sku) == dict.fromkeys(CHANNELS, half)

    rolled = await api.post(
        f"/api/v1/price-changes/{change_set['id']}/rollback",
        json={"reason": "clearance cancelled"},
        headers=landscape.as_approver(),
    )
    assert rolled.status_code == 200 and rolled.json()["status"] == "rolled_back", rolled.text
    assert await landscape.shown(sku) == dict.fromkeys(CHANNELS, old)
    history = await api.get(f"/api/v1/prices/{sku}/history?channel=woocommerce", headers=landscape.as_admin())
    assert [v["cause"] for v in history.json()["versions"]] == ["baseline", "release", "rollback"]

    # Below cost plus the margin floor: rejected by policy, naming the rule; no shop changes.
    cheap = next(code for code in sorted(pricing.items) if code != sku)
    await landscape.write_odoo_price(cheap, costs[cheap].quantize(Decimal("0.01")))
    [rejected] = await eventually(
        lambda: landscape.change_sets_of(cheap), within_s=10, what="below cost captured"
    )
    assert rejected["status"] == "rejected" and rejected["decision"]["rule"] == "below_margin_floor"
    assert await landscape.shown(cheap) == dict.fromkeys(CHANNELS, pricing.prices[cheap])

    verify = await api.get("/api/v1/audit/verify", headers=landscape.as_admin())
    assert verify.json()["ok"] is True and verify.json()["count"] > 8

    # The CLI reads the same store with the sandbox's landscape and pricing files.
    config = str(Path(landscape.endpoints["channelhub"]["pricing"]).with_name("channelhub.yaml"))

    def cli(*args: str) -> Result:  # the CLI runs its own event loop: call it from a thread
        return CliRunner().invoke(cli_app, [*args, "--config", config])

    listed = await asyncio.to_thread(cli, "price", "list", "--status", "rolled_back", "--json")
    assert listed.exit_code == 0, listed.output
    assert [c["id"] for c in json.loads(listed.stdout)] == [change_set["id"]]
    audited = await asyncio.to_thread(cli, "audit", "verify")
    assert audited.exit_code == 0 and "intact" in audited.output


async def test_a_dated_pricelist_item_publishes_at_its_start_and_reverts_at_its_end(
    landscape: PricingLandscape,
) -> None:
    """With the governance's clock injected: `date_start` in an hour, `date_end` in three."""
    pricing, clock = landscape.pricing, landscape.clock
    costs = await _costs(landscape)
    sku = max(pricing.items, key=lambda code: pricing.prices[code] - costs[code])
    old = pricing.prices[sku]
    promo = (old * Decimal("1.03")).quantize(Decimal("0.01"))  # within the auto threshold (5 %)
    starts, ends = clock.now() + timedelta(hours=1), clock.now() + timedelta(hours=3)
    client = pricing.connector.client
    [product] = await client.execute_kw("product.product", "search", [[("default_code", "=", sku)]])
    await client.execute_kw(
        "product.pricelist.item", "create",
        [{"pricelist_id": pricing.pricelist, "applied_on": "0_product_variant", "product_id": product,
          "compute_price": "fixed", "fixed_price": float(promo), "date_start": format_datetime(starts),
          "date_end": format_datetime(ends)}],
    )  # fmt: skip
    [window] = await eventually(
        lambda: landscape.change_sets_of(sku), within_s=10, what="the window captured"
    )
    assert window["status"] == "scheduled" and window["effective_from"] is not None

    async def status() -> str:
        reply = await landscape.api.get(f"/api/v1/price-changes/{window['id']}", headers=landscape.as_admin())
        return str(reply.json()["status"])

    pricing.wake()
    await asyncio.sleep(0.5)
    assert await status() == "scheduled" and await landscape.shown(sku) == dict.fromkeys(CHANNELS, old)
    clock.advance(3600)
    pricing.wake()
    await eventually(lambda: _is(status, "published"), within_s=5, what="published at date_start")
    assert await landscape.shown(sku) == dict.fromkeys(CHANNELS, promo)
    clock.advance(2 * 3600)
    pricing.wake()
    await eventually(lambda: _is(status, "reverted"), within_s=5, what="reverted at date_end")
    assert await landscape.shown(sku) == dict.fromkeys(CHANNELS, old)

    # The second user can also work in the dashboard with the credentials the endpoints file gives.
    channelhub = landscape.endpoints["channelhub"]
    async with httpx.AsyncClient(base_url=channelhub["url"]) as browser:
        form = await browser.get("/dashboard/login")
        login_csrf = form.text.split('name="login_csrf" value="')[1].split('"')[0]
        await browser.post(
            "/dashboard/login",
            data={"username": channelhub["price_approver"], "password": channelhub["price_approver_password"],
                  "login_csrf": login_csrf, "next": "/dashboard/prices"},
        )  # fmt: skip
        page = await browser.get(f"/dashboard/prices/{window['id']}")
        assert page.status_code == 200 and 'data-status="reverted"' in page.text


async def _is(probe: Callable[[], Awaitable[str]], wanted: str) -> bool:
    return await probe() == wanted
