"""The ingress counts accepted webhook deliveries per topic and channel (pure ASGI middleware)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from channelhub.api.app import WebhookCounter


def app_counting(seen: list[tuple[str, str]]) -> FastAPI:
    app = FastAPI()

    @app.post("/webhooks/{channel}")
    async def deliver(channel: str) -> JSONResponse:
        return JSONResponse({"ok": channel != "refused"}, status_code=401 if channel == "refused" else 200)

    @app.get("/webhooks/shopify")
    async def probe() -> dict[str, str]:
        return {"ok": "yes"}

    @app.post("/api/v1/other")
    async def other() -> dict[str, str]:
        return {"ok": "yes"}

    app.add_middleware(WebhookCounter, events_in=lambda topic, channel: seen.append((topic, channel)))
    return app


async def test_accepted_deliveries_are_counted_by_topic_and_channel() -> None:
    seen: list[tuple[str, str]] = []
    transport = httpx.ASGITransport(app=app_counting(seen))
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        assert (await client.post("/webhooks/shopify", headers={"X-Shopify-Topic": "orders/create"})).json()
        await client.post("/webhooks/woocommerce", headers={"X-WC-Webhook-Topic": "order.updated"})
        await client.post("/webhooks/odoo?token=t", content=b"{}")
        refused = await client.post("/webhooks/refused", headers={"X-Shopify-Topic": "orders/paid"})
        await client.get("/webhooks/shopify")
        await client.post("/api/v1/other")
    assert refused.status_code == 401
    assert seen == [("orders/create", "shopify"), ("order.updated", "woocommerce"), ("notification", "odoo")]
