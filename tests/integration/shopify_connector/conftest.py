"""An emulated shop and a connector sharing one manual clock, in one process (ASGI transport)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from channelhub.clock import ManualClock
from channelhub.connectors.shopify import ShopifyConfig, ShopifyConnector
from channelhub.sandbox.shopify.app import ShopifyEmulator
from channelhub.sandbox.shopify.settings import EmulatorSettings


@dataclass
class Rig:
    clock: ManualClock
    emulator: ShopifyEmulator
    connector: ShopifyConnector
    storefront: httpx.AsyncClient

    async def place_order(self, *lines: tuple[str, int], financial_status: str = "paid") -> dict[str, Any]:
        response = await self.storefront.post(
            "/_sandbox/orders",
            json={
                "line_items": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
                "financial_status": financial_status,
            },
        )
        assert response.status_code == 201, response.text
        order: dict[str, Any] = response.json()["order"]
        return order

    def available(self, sku: str) -> int:
        shop = self.emulator.shop
        variant = shop.variant_by_sku(sku)
        assert variant is not None
        level = shop.level(variant.inventory_item_id, shop.primary_location.id)
        assert level is not None
        return level.quantity("available")


async def make_rig(version: str, skus: int = 30, plan: str = "basic", **settings: Any) -> Rig:
    clock = ManualClock()
    emulator = ShopifyEmulator(
        EmulatorSettings(
            seed=3, skus=skus, plan=plan, locations=1, deliver_webhooks=False, clock=clock, **settings
        )
    )
    transport = httpx.ASGITransport(app=emulator.app)
    connector = ShopifyConnector(
        ShopifyConfig(
            shop_url="http://emulator.test", access_token=emulator.settings.access_token, api_version=version
        ),
        clock=clock,
        transport=transport,
    )
    storefront = httpx.AsyncClient(transport=transport, base_url="http://emulator.test")
    return Rig(clock, emulator, connector, storefront)


@pytest.fixture(params=["2025-10", "2026-10"])
async def rig(request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    built = await make_rig(request.param)
    try:
        yield built
    finally:
        await built.connector.aclose()
        await built.storefront.aclose()
