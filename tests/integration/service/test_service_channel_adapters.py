"""The channel gateways over the real connectors and emulators: publish with compare-and-set,
read back, backfill orders, verify webhooks into order snapshots."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from channelhub.clock import ManualClock
from channelhub.connectors.errors import WebhookVerificationError
from channelhub.connectors.shopify import ShopifyConfig, ShopifyConnector
from channelhub.connectors.shopify.webhooks import sign as shopify_sign
from channelhub.connectors.woocommerce import WooCommerceClient, WooCommerceConnector
from channelhub.sandbox.server import RunningServer, serve_in_thread
from channelhub.sandbox.shopify.app import ShopifyEmulator
from channelhub.sandbox.shopify.settings import EmulatorSettings
from channelhub.sandbox.woocommerce.app import WooCommerceEmulator, WooCommerceSettings, create_app
from channelhub.sandbox.woocommerce.webhooks import signature as woo_signature
from channelhub.service.adapters import ShopifyChannelGateway, WooCommerceChannelGateway
from channelhub.service.ports import ChannelGateway, DeliveryKind, PaymentState, PublishStatus, QuantityUpdate

SHOPIFY_SECRET = "shopify-app-secret"
WOO_KEY, WOO_SECRET, WOO_HOOK_SECRET = "ck_service", "cs_service", "woo-hook-secret"


@pytest.fixture
async def shopify() -> AsyncIterator[tuple[ShopifyChannelGateway, ShopifyEmulator, httpx.AsyncClient]]:
    clock = ManualClock()
    emulator = ShopifyEmulator(
        EmulatorSettings(seed=3, skus=20, plan="basic", locations=1, deliver_webhooks=False, clock=clock)
    )
    transport = httpx.ASGITransport(app=emulator.app)
    connector = ShopifyConnector(
        ShopifyConfig(
            shop_url="http://emulator.test",
            access_token=emulator.settings.access_token,
            api_secret=SHOPIFY_SECRET,
        ),
        clock=clock,
        transport=transport,
    )
    storefront = httpx.AsyncClient(transport=transport, base_url="http://emulator.test")
    gateway = ShopifyChannelGateway("shop", connector)
    try:
        yield gateway, emulator, storefront
    finally:
        await gateway.aclose()
        await storefront.aclose()


async def test_shopify_gateway_publishes_with_compare_and_set_and_reads_orders(
    shopify: tuple[ShopifyChannelGateway, ShopifyEmulator, httpx.AsyncClient],
) -> None:
    gateway, _, storefront = shopify
    assert isinstance(gateway, ChannelGateway) and gateway.limits.compare_and_set
    index = await gateway.connector.load_catalog()
    sku = sorted(index.by_sku)[0]
    [current] = (await gateway.read_available([sku])).values()
    [applied] = await gateway.set_available([QuantityUpdate(sku, current + 3, expected_previous=current)])
    assert applied.status is PublishStatus.APPLIED and applied.channel_quantity == current + 3

    placed = await storefront.post(
        "/_sandbox/orders", json={"line_items": [{"sku": sku, "quantity": 1}], "financial_status": "paid"}
    )
    assert placed.status_code == 201, placed.text
    [conflict] = await gateway.set_available([QuantityUpdate(sku, 50, expected_previous=current + 3)])
    assert conflict.status is PublishStatus.CONFLICT and conflict.channel_quantity == current + 2
    assert await gateway.read_available([sku]) == {sku: current + 2}  # the storefront sale survived
    [unknown] = await gateway.set_available([QuantityUpdate("NOT-LISTED", 1)])
    assert unknown.status is PublishStatus.UNKNOWN_SKU

    orders, cursor = await gateway.orders_since(None)
    order = next(o for o in orders if any(line.sku == sku for line in o.lines))
    assert order.channel == "shop" and order.payment is PaymentState.PAID and cursor is not None

    body = json.dumps(placed.json()["order"]).encode()
    headers = {
        "X-Shopify-Hmac-Sha256": shopify_sign(body, SHOPIFY_SECRET),
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Shop-Domain": "emulator.myshopify.com",
        "X-Shopify-Webhook-Id": "wh-1",
    }
    delivery = gateway.verify_webhook(headers, body)
    assert delivery.kind is DeliveryKind.ORDER and delivery.order is not None
    assert delivery.order.order_key == order.order_key and delivery.dedupe_key.endswith("wh-1")
    with pytest.raises(WebhookVerificationError):
        gateway.verify_webhook({**headers, "X-Shopify-Hmac-Sha256": shopify_sign(body, "other")}, body)


@pytest.fixture(scope="module")
def woo_server() -> Iterator[tuple[RunningServer, WooCommerceEmulator]]:
    emulator = create_app(
        WooCommerceSettings(seed=8, skus=20, consumer_key=WOO_KEY, consumer_secret=WOO_SECRET)
    )
    with serve_in_thread(emulator) as running:
        yield running, emulator


async def test_woocommerce_gateway_publishes_reads_back_and_parses_order_webhooks(
    woo_server: tuple[RunningServer, WooCommerceEmulator],
) -> None:
    server, _ = woo_server
    async with WooCommerceClient(server.url, WOO_KEY, WOO_SECRET) as client:
        gateway = WooCommerceChannelGateway(
            "web", WooCommerceConnector(client), webhook_secret=WOO_HOOK_SECRET
        )
        assert isinstance(gateway, ChannelGateway) and not gateway.limits.compare_and_set
        listings = await gateway.connector.read_listings()
        sku = sorted(listings)[0]
        results = await gateway.set_available([QuantityUpdate(sku, 17), QuantityUpdate("NOT-LISTED", 2)])
        assert [r.status for r in results] == [PublishStatus.APPLIED, PublishStatus.UNKNOWN_SKU]
        assert (await gateway.read_available([sku]))[sku] == 17

        async with httpx.AsyncClient() as storefront:
            placed = (
                await storefront.post(
                    f"{server.url}/_sandbox/orders", json={"line_items": [{"sku": sku, "quantity": 2}]}
                )
            ).json()
        orders, cursor = await gateway.orders_since(None)
        order = next(o for o in orders if o.channel_order_id == str(placed["id"]))
        assert order.order_key == f"web:{placed['id']}" and order.units_by_sku() == {sku: 2}
        assert cursor is not None

        body = json.dumps(placed).encode()
        headers = {
            "X-WC-Webhook-Signature": woo_signature(body, WOO_HOOK_SECRET),
            "X-WC-Webhook-Topic": "order.created",
            "X-WC-Webhook-Resource": "order",
            "X-WC-Webhook-Event": "created",
            "X-WC-Webhook-ID": "4",
            "X-WC-Webhook-Delivery-ID": "same-second-id",
        }
        delivery = gateway.verify_webhook(headers, body)
        assert delivery.kind is DeliveryKind.ORDER and delivery.order == order
        assert delivery.dedupe_key != "same-second-id" and str(placed["id"]) in delivery.dedupe_key
        ping = gateway.verify_webhook({}, b"webhook_id=4")
        assert ping.kind is DeliveryKind.PING
        with pytest.raises(WebhookVerificationError):
            gateway.verify_webhook({**headers, "X-WC-Webhook-Signature": "AAAA"}, body)


async def test_woocommerce_gateway_does_not_overwrite_a_sale_it_has_not_seen(
    woo_server: tuple[RunningServer, WooCommerceEmulator],
) -> None:
    """WooCommerce has no compare-and-set: the gateway reads what it is about to replace, and a
    quantity the publisher does not expect comes back as a conflict carrying the shop's value."""
    server, _ = woo_server
    async with (
        WooCommerceClient(server.url, WOO_KEY, WOO_SECRET) as client,
        httpx.AsyncClient() as storefront,
    ):
        gateway = WooCommerceChannelGateway(
            "web", WooCommerceConnector(client), webhook_secret=WOO_HOOK_SECRET
        )
        sku, other = sorted(await gateway.connector.read_listings())[1:3]
        await gateway.set_available([QuantityUpdate(sku, 10), QuantityUpdate(other, 10)])
        sale = {"line_items": [{"sku": sku, "quantity": 3}]}
        assert (await storefront.post(f"{server.url}/_sandbox/orders", json=sale)).status_code == 201
        results = await gateway.set_available(
            [QuantityUpdate(sku, 8, expected_previous=10), QuantityUpdate(other, 8, expected_previous=10)]
        )
        assert [(r.status, r.channel_quantity) for r in results] == [
            (PublishStatus.CONFLICT, 7),  # the unseen sale of 3 is kept, not overwritten with 8
            (PublishStatus.APPLIED, 8),
        ]
        assert await gateway.read_available([sku, other]) == {sku: 7, other: 8}
        unguarded = WooCommerceChannelGateway(
            "web", WooCommerceConnector(client), webhook_secret=WOO_HOOK_SECRET, guard_writes=False
        )
        [result] = await unguarded.set_available([QuantityUpdate(sku, 8, expected_previous=10)])
        assert result.status is PublishStatus.APPLIED  # the old behaviour: the sale is overwritten
