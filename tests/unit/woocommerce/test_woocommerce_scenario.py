"""The storefront traffic driver (`POST /_sandbox/scenario`), in-process."""

from __future__ import annotations

import asyncio

import httpx

from channelhub.sandbox.woocommerce.app import WooCommerceSettings, create_app


async def test_a_flash_sale_places_orders_and_refuses_what_the_shelf_cannot_cover() -> None:
    emulator = create_app(WooCommerceSettings(seed=8, skus=20))
    hot = min((p for p in emulator.shop.products.values() if p.type != "variable"), key=lambda p: p.id)
    hot.backorders, hot.stock_quantity = "no", 10
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emulator), base_url="http://shop.test"
    ) as shop:
        started = await shop.post(
            "/_sandbox/scenario",
            json={"orders": 40, "rate_per_s": 2000, "hot_skus": 1, "hot_share": 1.0, "max_quantity": 2},
        )
        assert started.status_code == 202
        assert (await shop.post("/_sandbox/scenario", json={})).status_code == 409  # one at a time
        status = started.json()
        for _ in range(500):
            status = (await shop.get("/_sandbox/scenario")).json()
            if status["done"]:
                break
            await asyncio.sleep(0.01)
        stats = (await shop.get("/_sandbox/stats")).json()
        bad = await shop.post("/_sandbox/scenario", json={"orders": 0})
    assert status["done"] and status["placed"] + status["refused"] == 40
    assert status["refused"] > 0 and hot.stock_quantity is not None and 0 <= hot.stock_quantity < 2
    assert stats["orders"] == status["placed"] and stats["oversold_units"] == 0
    assert bad.status_code == 400 and bad.json()["code"] == "sandbox_invalid_scenario"
