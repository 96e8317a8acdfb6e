"""The connector against the Shopify emulator: catalog, quantities, conflicts, prices, orders."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from channelhub.connectors.shopify import (
    Outcome,
    PriceUpdate,
    QuantityUpdate,
    RefundLine,
    ShipmentLine,
    ShopifyAuthError,
    ShopifyConfig,
    ShopifyConnector,
    ShopifyUserError,
    Tracking,
    order_events,
)
from channelhub.domain.events import OrderPaid, OrderPlaced

from .conftest import Rig, make_rig


async def test_catalog_maps_every_sku_with_its_available(rig: Rig) -> None:
    index = await rig.connector.load_catalog()
    assert len(index) == 30 and not index.duplicates
    ref = index.get("SKU-00007")
    assert ref is not None
    assert ref.variant_id.startswith("gid://shopify/ProductVariant/")
    assert ref.inventory_item_id.startswith("gid://shopify/InventoryItem/")
    assert ref.available == rig.available("SKU-00007")


async def test_bulk_catalog_read_matches_the_paged_one(rig: Rig) -> None:
    paged = await rig.connector.load_catalog()
    calls_before = rig.connector.client.stats.calls
    bulk = await rig.connector.load_catalog(bulk=True)
    assert bulk.by_sku == paged.by_sku
    # One mutation and one poll (the emulator finishes at once); the download costs no points.
    assert rig.connector.client.stats.calls - calls_before == 2


async def test_publish_applies_and_reports_a_concurrent_sale_as_conflict(rig: Rig) -> None:
    index = await rig.connector.load_catalog()
    tracked = [sku for sku, ref in sorted(index.by_sku.items()) if ref.tracked and (ref.available or 0) > 1]
    sold, untouched = tracked[0], tracked[1]
    before = rig.available(sold)
    await rig.place_order((sold, 1))  # a storefront sale after our read
    results = {
        r.sku: r
        for r in await rig.connector.set_available([QuantityUpdate(sold, 40), QuantityUpdate(untouched, 41)])
    }
    assert results[untouched].outcome is Outcome.APPLIED and rig.available(untouched) == 41
    conflict = results[sold]
    assert conflict.outcome is Outcome.CONFLICT
    assert conflict.current == before - 1 == rig.available(sold)  # the sale survives
    # The engine re-decides with the fresh value; the next publish compares against it.
    [retry] = await rig.connector.set_available([QuantityUpdate(sold, 39)])
    assert retry.outcome is Outcome.APPLIED and rig.available(sold) == 39


async def test_a_stale_lowering_is_sent_again_at_once_and_a_stale_raise_is_a_conflict(rig: Rig) -> None:
    index = await rig.connector.load_catalog()
    tracked = [sku for sku, ref in sorted(index.by_sku.items()) if ref.tracked and (ref.available or 0) > 3]
    lowered, raised, landed, plain = tracked[:4]
    sold_to = {sku: rig.available(sku) - 1 for sku in (lowered, raised, landed)}
    for sku in (lowered, raised, landed):
        await rig.place_order((sku, 1))  # storefront sales after our read: our compares are stale
    calls = rig.connector.client.stats.calls
    results = {
        r.sku: r
        for r in await rig.connector.set_available(
            [
                QuantityUpdate(lowered, sold_to[lowered] - 2),  # lower than Shopify now: goes out
                QuantityUpdate(raised, sold_to[raised] + 5),  # a raise over the sale: held back
                QuantityUpdate(landed, sold_to[landed]),  # Shopify already shows it
                QuantityUpdate(plain, 7),
            ],
            lower_on_conflict=True,
        )
    }
    assert results[lowered].outcome is Outcome.APPLIED and rig.available(lowered) == sold_to[lowered] - 2
    assert results[raised].outcome is Outcome.CONFLICT and results[raised].current == sold_to[raised]
    assert rig.available(raised) == sold_to[raised]  # the sale survives
    assert results[landed].outcome is Outcome.APPLIED and rig.available(landed) == sold_to[landed]
    assert results[plain].outcome is Outcome.APPLIED and rig.available(plain) == 7
    # The refused call, one read-back, one call with the held-back quantities and the lowering.
    assert rig.connector.client.stats.calls - calls == 3


async def test_prices_and_read_back(rig: Rig) -> None:
    index = await rig.connector.load_catalog()
    skus = sorted(index.by_sku)[:4]
    results = await rig.connector.set_prices(
        [PriceUpdate(skus[0], Decimal("12.50"), Decimal("15.00"))]
        + [PriceUpdate(sku, Decimal("9.99")) for sku in skus[1:]]
    )
    assert [r.outcome for r in results] == [Outcome.APPLIED] * 4
    await rig.connector.set_available([QuantityUpdate(skus[1], 17)])
    snapshot = await rig.connector.read_back()
    assert snapshot[skus[0]].price == Decimal("12.50") and snapshot[skus[0]].compare_at_price == Decimal(
        "15.00"
    )
    assert snapshot[skus[2]].price == Decimal("9.99") and snapshot[skus[2]].compare_at_price is None
    assert snapshot[skus[1]].available == 17
    assert len(snapshot) == 30


async def test_orders_since_cursor_fulfil_partially_refund_and_cancel(rig: Rig) -> None:
    index = await rig.connector.load_catalog()
    stocked = [sku for sku, ref in sorted(index.by_sku.items()) if (ref.available or 0) >= 3][:2]
    cursor = rig.clock.now()
    rig.clock.advance(5)
    placed = await rig.place_order((stocked[0], 2), (stocked[1], 1))
    order_id = placed["id"]

    backfilled = [o async for o in rig.connector.orders_updated_since(cursor)]
    assert [o.order_id for o in backfilled] == [str(order_id)]
    events = order_events("shopify", backfilled[0])
    assert {type(e) for e in events} == {OrderPlaced, OrderPaid}
    assert events[0].key == f"order:shopify:{order_id}"

    # Partial shipment with tracking: one of the two units of the first line.
    shipped = await rig.connector.create_fulfillment(
        order_id,
        [ShipmentLine(quantity=1, sku=stocked[0])],
        Tracking("1Z999", "UPS", "https://ups.example/1Z999"),
    )
    assert shipped.fulfillment_id.startswith("gid://shopify/Fulfillment/")
    order = rig.emulator.shop.orders[order_id]
    assert order.fulfillment_status == "partial"
    fulfillment = rig.emulator.shop.fulfillments[order.fulfillment_ids[0]]
    assert fulfillment.tracking[0].number == "1Z999" and fulfillment.tracking[0].company == "UPS"
    assert sum(line.quantity for line in fulfillment.lines) == 1

    # Asking for more than is still open is refused before anything is sent.
    with pytest.raises(ShopifyUserError, match="not enough open units"):
        await rig.connector.create_fulfillment(order_id, [ShipmentLine(quantity=5, sku=stocked[1])])

    line_gid = next(line for line in placed["line_items"] if line["sku"] == stocked[1])[
        "admin_graphql_api_id"
    ]
    refund = await rig.connector.create_refund(
        order_id,
        lines=[RefundLine(line_gid, 1, restock_type="CANCEL")],
        amount=Decimal("1.00"),
        note="damaged",
    )
    assert refund.refund_id.startswith("gid://shopify/Refund/")
    assert rig.emulator.shop.orders[order_id].refund_ids

    # A backfill read (GraphQL) and a webhook body (REST) of this order state the same facts.
    from channelhub.connectors.shopify.mapping import order_from_rest
    from channelhub.sandbox.shopify import payloads

    rest_body = payloads.order_payload(rig.emulator.shop, rig.emulator.shop.orders[order_id])
    from_webhook = order_events("shopify", order_from_rest(rest_body))
    from_backfill = order_events("shopify", await rig.connector.get_order(order_id))
    assert {e.event_id for e in from_backfill} == {e.event_id for e in from_webhook}
    assert {e.type for e in from_backfill} == {
        "order.placed.v1",
        "order.paid.v1",
        "shipment.created.v1",
        "refund.created.v1",
    }

    # Shopify refuses to cancel an order with fulfillments: a user error for the engine to act on.
    with pytest.raises(ShopifyUserError, match="fulfillments") as refused:
        await rig.connector.cancel_order(order_id, reason="CUSTOMER", restock=True)
    assert refused.value.transient is False

    unshipped = await rig.place_order((stocked[1], 1))
    level_before = rig.available(stocked[1])
    job = await rig.connector.cancel_order(unshipped["id"], reason="CUSTOMER", restock=True)
    assert job is None or job.startswith("gid://shopify/Job/")
    after = await rig.connector.get_order(unshipped["id"])
    assert after.cancelled_at is not None and after.cancel_reason == "customer"
    assert rig.available(stocked[1]) == level_before + 1  # restocked


async def test_cursor_excludes_older_orders(rig: Rig) -> None:
    index = await rig.connector.load_catalog()
    sku = next(s for s, ref in sorted(index.by_sku.items()) if (ref.available or 0) >= 2)
    await rig.place_order((sku, 1))
    rig.clock.advance(10)
    cursor = rig.clock.now()
    rig.clock.advance(10)
    newer = await rig.place_order((sku, 1))
    ids = [o.order_id async for o in rig.connector.orders_updated_since(cursor)]
    assert ids == [str(newer["id"])]
    assert [o.order_id async for o in rig.connector.orders_updated_since(cursor + timedelta(hours=1))] == []


async def test_adjust_quantities_idempotent_where_required(rig: Rig) -> None:
    index = await rig.connector.load_catalog()
    sku = sorted(index.by_sku)[3]
    before = rig.available(sku)
    await rig.connector.adjust_available({sku: 5}, idempotency_key="restock-42")
    assert rig.available(sku) == before + 5
    if rig.connector.client.profile.requires_idempotency_key:
        # The same key again (a resend after a lost answer) is not applied twice.
        await rig.connector.adjust_available({sku: 5}, idempotency_key="restock-42")
        assert rig.available(sku) == before + 5


async def test_wrong_token_is_an_authentication_error() -> None:
    built = await make_rig("2025-10")
    try:
        bad = ShopifyConnector(
            ShopifyConfig(shop_url="http://emulator.test", access_token="shpat_wrong"),
            clock=built.clock,
            transport=built.connector.client._http._transport,
        )
        async with bad:
            with pytest.raises(ShopifyAuthError):
                await bad.load_catalog()
    finally:
        await built.connector.aclose()
        await built.storefront.aclose()


async def test_forced_throttling_and_5xx_never_reach_the_caller() -> None:
    built = await make_rig("2026-10", skus=600)
    built.emulator.chaos.update({"throttle_rate": 0.3, "error_rate": 0.1})
    try:
        index = await built.connector.load_catalog()
        results = await built.connector.set_available(
            [QuantityUpdate(sku, 7) for sku in sorted(index.by_sku)]
        )
        assert {r.outcome for r in results} == {Outcome.APPLIED}
        assert built.emulator.shop.stats.throttled_requests > 0
        assert (
            built.connector.client.stats.throttled_responses == built.emulator.shop.stats.throttled_requests
        )
        assert all(built.available(sku) == 7 for sku in index.by_sku)
    finally:
        await built.connector.aclose()
        await built.storefront.aclose()
