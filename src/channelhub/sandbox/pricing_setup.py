"""Pricing governance in the sandbox (issue 8): one Odoo pricelist the channels follow, seeded with
a fixed price for every listed SKU, the pricing service over the running channels, a second user
holding `price_approver`, and the release tick.

    handle = install_pricing(app, bootstrap_user=landscape.odoo.login)   # when the app is built
    pricing = await setup_pricing(landscape, engine, runtime.channels, skus=catalog.skus,
                                  handle=handle, work_dir=work_dir,
                                  align_channels=emulator_price_aligner(emulators))
    pricing.add_to(endpoints)        # odoo.pricelists, channelhub.price_approver_token, …
    ...
    await pricing.stop()

Why one pricelist for every channel: a price cut on one pricelist item is one change set that
reaches Shopify and WooCommerce together (the scenario of the issue); `odoo.pricelists` still maps
each channel to the id it follows, so a landscape can split them later.

The seed price of a SKU is Odoo's sales price (`lst_price`): costs (`standard_price`) are seeded
as a share of it, so margins are realistic. The channels are aligned to the same prices before the
first capture, so governance starts from "Odoo and the channels agree" (the first capture records
what every channel shows as the baseline version and proposes nothing).

Threads: call `setup_pricing` on the loop that owns the channel gateways (the runtime's main
loop); the API reaches the service from its own thread through `handle.run` (a `LoopRunner`).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from channelhub.api.pricing import LoopRunner, PricingHandle
from channelhub.api.security import Role, SecurityError, SecurityStore
from channelhub.clock import SYSTEM_CLOCK, Clock
from channelhub.config import Landscape
from channelhub.connectors.odoo import OdooConnector
from channelhub.connectors.odoo.values import decimal, text
from channelhub.observability import get_logger
from channelhub.service.pricing import (
    OdooOrderRate,
    OdooPriceSource,
    OdooSalesVelocity,
    PricePublisher,
    PricingContext,
    PricingService,
    ensure_fixed_pricelist,
    parse_pricing,
    price_publisher_for,
)

log = get_logger(__name__)

PRICELIST_NAME = "Channel prices"
APPROVER = "approver"
CENT = Decimal("0.01")

PriceAligner = Callable[[Mapping[str, Decimal]], None]
"""Sets every channel's price of these SKUs in-process (the emulators' own records)."""


@dataclass
class PricingSandboxSettings:
    tick_interval_s: float = 2.0  # the release tick; an approval wakes it at once
    pricelist_name: str = PRICELIST_NAME
    approver: str = APPROVER
    min_margin_percent: Decimal = Decimal(10)
    max_auto_change_percent: Decimal = Decimal(5)
    max_auto_drop_percent: Decimal = Decimal(20)
    retry_delay_s: float = 0.5


@dataclass
class PricingSandbox:
    service: PricingService
    handle: PricingHandle
    pricelist: int
    pricelists: dict[str, int]  # channel name -> the Odoo pricelist id it follows
    items: dict[str, int]  # SKU -> its fixed-price pricelist item id
    prices: dict[str, Decimal]  # SKU -> seeded price
    approver: str
    approver_token: str
    approver_password: str | None
    pricing_file: Path | None
    connector: OdooConnector
    _loop: asyncio.AbstractEventLoop
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    def endpoint_entries(self) -> dict[str, dict[str, Any]]:
        channelhub: dict[str, Any] = {
            "price_approver_token": self.approver_token,
            "price_approver": self.approver,
        }
        if self.approver_password is not None:
            channelhub["price_approver_password"] = self.approver_password
        if self.pricing_file is not None:
            channelhub["pricing"] = str(self.pricing_file)
        return {"odoo": {"pricelists": dict(self.pricelists)}, "channelhub": channelhub}

    def add_to(self, endpoints: dict[str, Any]) -> None:
        """Merge `endpoint_entries` into the sandbox's endpoints (keeps what is there)."""
        for section, entries in self.endpoint_entries().items():
            endpoints.setdefault(section, {}).update(entries)

    def wake(self) -> None:
        """Tick now (safe from any thread: the API calls it after an approval)."""
        self._loop.call_soon_threadsafe(self._wake.set)

    def start(self, interval_s: float) -> None:
        self._task = asyncio.ensure_future(self._run(interval_s))
        self._task.set_name("channelhub:pricing-tick")

    async def _run(self, interval_s: float) -> None:
        while not self._stop.is_set():
            try:
                report = await self.service.tick()
                if any(report.to_dict().values()):
                    log.info("pricing_tick", **report.to_dict())
            except Exception as error:  # the tick is a safety net: one failure must not end it
                log.warning("pricing_tick_failed", error=repr(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval_s)
            self._wake.clear()

    async def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._task, 10)
        self.handle.service = None
        await self.connector.aclose()


def pricing_yaml(
    landscape: Landscape, pricelists: Mapping[str, int], approver: str, settings: PricingSandboxSettings
) -> str:
    """The sandbox's pricing file (also read by `channelhub price … --config channelhub.yaml`)."""
    currencies = {channel.name: channel.currency for channel in landscape.channels}
    channels = "\n".join(
        f"  {name}: {{pricelist: {pricelist}, currency: {currencies.get(name) or 'USD'}, tax_included: false}}"
        for name, pricelist in sorted(pricelists.items())
    )
    return f"""# Pricing governance of the sandbox (channelhub issue 8).
proposer: {landscape.odoo.login}
policy:
  min_margin_percent: {settings.min_margin_percent}
  max_auto_change_percent: {settings.max_auto_change_percent}
  max_auto_drop_percent: {settings.max_auto_drop_percent}
channels:
{channels}
users: {{{approver}: [price_approver]}}
release: {{max_attempts: 3, retry_delay_s: {settings.retry_delay_s}}}
"""


async def list_prices(connector: OdooConnector, skus: Sequence[str] | None) -> dict[str, Decimal]:
    """Odoo's sales price of each SKU (every product with an internal reference when None)."""
    domain: list[Any] = (
        [("default_code", "!=", False)] if skus is None else [("default_code", "in", list(skus))]
    )
    rows = await connector.client.search_read_all(
        "product.product", domain, ["default_code", "lst_price"], context={"active_test": False}
    )
    prices: dict[str, Decimal] = {}
    for row in rows:
        code = text(row.get("default_code"))
        price = decimal(row.get("lst_price")).quantize(CENT)
        if code and price > 0:
            prices[code] = price
    return prices


async def align_through_channels(
    publishers: Mapping[str, PricePublisher], prices: Mapping[str, Decimal]
) -> int:
    """Make every channel show `prices` through its API (only SKUs that differ); returns the
    number of prices set. Used when the emulators cannot be written in-process."""
    changed = 0
    for publisher in publishers.values():
        shown = await publisher.read_prices(sorted(prices))
        wrong = {sku: price for sku, price in prices.items() if sku in shown and shown[sku] != price}
        if wrong:
            await publisher.set_prices(wrong)
            changed += len(wrong)
    return changed


def emulator_price_aligner(emulators: Any) -> PriceAligner:
    """Sets prices straight in the Shopify and WooCommerce emulators' records (like the sandbox
    seeds their catalogs): fast for any catalog size, no rate limits spent."""

    def align(prices: Mapping[str, Decimal]) -> None:
        shop, woo = emulators.shopify.shop, emulators.woocommerce.shop
        with shop.lock:
            for sku, price in prices.items():
                variant = shop.variant_by_sku(sku)
                if variant is not None:
                    variant.price = price
        for sku, price in prices.items():
            product = woo.by_sku(sku)
            if product is not None:
                product.regular_price = f"{price:.2f}"
                product.sale_price = ""
                woo.touch(product)

    return align


def _approver_credentials(security: SecurityStore, name: str) -> tuple[str, str | None]:
    """An API token (and, when the user is new, a dashboard login) for the second user."""
    token = security.create_token(name, Role.PRICE_APPROVER, "sandbox").token
    password = secrets.token_urlsafe(12)
    try:
        security.create_user(name, password, Role.PRICE_APPROVER, by="sandbox")
    except SecurityError:  # a reused work directory: the user exists, their password is theirs
        return token, None
    return token, password


async def setup_pricing(
    landscape: Landscape,
    engine: Engine,
    gateways: Mapping[str, object],
    *,
    skus: Sequence[str] | None = None,
    handle: PricingHandle | None = None,
    security: SecurityStore | None = None,
    work_dir: Path | None = None,
    clock: Clock = SYSTEM_CLOCK,
    align_channels: PriceAligner | None = None,
    settings: PricingSandboxSettings | None = None,
) -> PricingSandbox:
    """Seed the pricelist, align the channels, build the service, create the approver, start the
    tick. `gateways`: the runtime's channel gateways (bound to this loop); `handle`: the one
    `install_pricing` returned (a new one otherwise)."""
    from channelhub.service.adapters.factory import odoo_connector

    settings = settings or PricingSandboxSettings()
    # The connector waits in real time (backoff, limits against a real server); `clock` is the
    # business time of the governance (effective windows, audit times), injectable in tests.
    connector = odoo_connector(landscape.odoo)
    await connector.connect()
    try:
        prices = await list_prices(connector, skus)
        pricelist, items = await ensure_fixed_pricelist(connector, settings.pricelist_name, prices)
        publishers: dict[str, PricePublisher] = {}
        for name, gateway in gateways.items():
            publisher = price_publisher_for(gateway)
            if publisher is not None:
                publishers[name] = publisher
        seeded = {sku: prices[sku] for sku in items}
        if align_channels is not None:
            align_channels(seeded)
        else:
            await align_through_channels(publishers, seeded)
        pricelists = dict.fromkeys(sorted(publishers), pricelist)
        policy_text = pricing_yaml(landscape, pricelists, settings.approver, settings)
        pricing_file = None
        if work_dir is not None:
            pricing_file = work_dir / "pricing.yaml"
            pricing_file.write_text(policy_text, encoding="utf-8")
        context = PricingContext(
            engine,
            parse_pricing(policy_text, str(pricing_file or "<sandbox pricing>")),
            clock,
            publishers,
            OdooPriceSource(connector),
            OdooSalesVelocity(connector, clock=clock),
            OdooOrderRate(connector),
        )
        service = PricingService(context)
        leftovers = await service.capture.poll()  # the seed itself: baselines, nothing to govern
        if leftovers:
            log.warning("pricing_seed_proposed", change_sets=[c.id for c in leftovers])
        security = security or SecurityStore(engine, clock)
        token, password = await asyncio.to_thread(_approver_credentials, security, settings.approver)
    except BaseException:
        await connector.aclose()
        raise
    handle = handle or PricingHandle()
    sandbox = PricingSandbox(
        service, handle, pricelist, pricelists, items, seeded, settings.approver, token, password,
        pricing_file, connector, asyncio.get_running_loop(),
    )  # fmt: skip
    handle.service = service
    handle.run = LoopRunner(asyncio.get_running_loop())
    handle.wake = sandbox.wake
    handle.bootstrap_user = landscape.odoo.login
    sandbox.start(settings.tick_interval_s)
    log.info("pricing_ready", pricelist=pricelist, skus=len(items), channels=sorted(publishers))
    return sandbox
