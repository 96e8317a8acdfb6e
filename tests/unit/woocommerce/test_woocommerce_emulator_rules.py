"""The emulator's shop rules, argument validation and webhook accounting (no network)."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from channelhub.sandbox.woocommerce.chaos import Chaos, HostLimiter
from channelhub.sandbox.woocommerce.errors import WPError
from channelhub.sandbox.woocommerce.params import Collection, to_boolean, to_integer, to_string
from channelhub.sandbox.woocommerce.seed import seed_catalog
from channelhub.sandbox.woocommerce.shop import Product, Shop
from channelhub.sandbox.woocommerce.webhooks import Webhook, WebhookDispatcher, signature, wp_json

T0 = datetime(2026, 3, 1, 9, 0, 0)


def shop_with(stock: int, backorders: str = "no", manage: bool = True) -> tuple[Shop, Product]:
    shop = Shop(lambda: T0)
    product = shop.add_product(
        Product(
            id=shop.next_id(),
            name="Tee",
            type="simple",
            sku="TEE",
            regular_price="10.00",
            stock_quantity=stock,
            backorders=backorders,
            manage_stock=manage,
        )
    )
    return shop, product


def test_stock_status_follows_quantity_and_backorders() -> None:
    shop, tee = shop_with(3)
    assert shop.stock_status(tee) == "instock"
    tee.stock_quantity = 0
    assert shop.stock_status(tee) == "outofstock"
    tee.backorders = "notify"
    assert shop.stock_status(tee) == "onbackorder"


def test_a_variable_product_is_in_stock_when_any_variation_is() -> None:
    shop = Shop(lambda: T0)
    seed_catalog(shop, seed=3, skus=30)
    parent = next(p for p in shop.products.values() if p.type == "variable")
    for variation_id in parent.variation_ids:
        shop.products[variation_id].stock_quantity = 0
        shop.products[variation_id].backorders = "no"
    assert shop.stock_status(parent) == "outofstock"
    shop.products[parent.variation_ids[1]].stock_quantity = 2
    assert shop.stock_status(parent) == "instock"


def test_the_seeded_catalog_is_reproducible_and_has_the_requested_skus() -> None:
    first, second = Shop(lambda: T0), Shop(lambda: T0)
    seed_catalog(first, seed=9, skus=50)
    seed_catalog(second, seed=9, skus=50)
    sellable = [p for p in first.products.values() if p.type != "variable"]
    assert len(sellable) == 50 and len({p.sku for p in sellable}) == 50
    assert [(p.sku, p.stock_quantity) for p in first.products.values()] == [
        (p.sku, p.stock_quantity) for p in second.products.values()
    ]


def test_checkout_refuses_to_oversell_a_managed_item_without_backorders() -> None:
    shop, tee = shop_with(2)
    with pytest.raises(WPError) as refused:
        shop.place_order([(tee, 3)], {}, "processing")
    assert refused.value.status == 409 and "(2 available)" in refused.value.message
    assert tee.stock_quantity == 2 and shop.stats.refused_orders == 1 and shop.stats.orders == 0


def test_backorders_allow_overselling_and_count_the_oversold_units() -> None:
    shop, tee = shop_with(2, backorders="notify")
    shop.place_order([(tee, 5)], {}, "processing")
    assert tee.stock_quantity == -3
    assert (shop.stats.orders, shop.stats.units_sold, shop.stats.oversold_units) == (1, 5, 3)


def test_cancelling_gives_reduced_stock_back_once() -> None:
    shop, tee = shop_with(5)
    order = shop.place_order([(tee, 2)], {}, "processing")
    assert tee.stock_quantity == 3
    shop.set_order_status(order, "cancelled")
    shop.set_order_status(order, "cancelled")
    assert tee.stock_quantity == 5 and order.status == "cancelled"


def test_a_full_refund_marks_the_order_refunded() -> None:
    shop, tee = shop_with(5)
    order = shop.place_order([(tee, 2)], {}, "processing")
    shop.add_refund(order, order.total, "damaged")
    assert order.status == "refunded"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"per_page": "101"}, "per_page must be between 1 (inclusive) and 100 (inclusive)"),
        ({"per_page": "abc"}, "per_page is not of type integer."),
        ({"page": "0"}, "page must be greater than or equal to 1"),
        ({"order": "sideways"}, "order is not one of asc and desc."),
        ({"modified_after": "yesterday"}, "Invalid date."),
    ],
)
def test_collection_arguments_fail_with_wordpress_messages(query: dict[str, str], message: str) -> None:
    with pytest.raises(WPError) as refused:
        Collection(query, ("date", "id"))
    name = next(iter(query))
    assert refused.value.code == "rest_invalid_param" and refused.value.status == 400
    assert refused.value.data["params"] == {name: message}


def test_value_coercion_matches_wordpress() -> None:
    assert to_integer("q", "12") == 12 and to_boolean("b", "false") is False and to_boolean("b", 1) is True
    for bad in (1.5, "1.5", True, None, [1]):
        with pytest.raises(WPError):
            to_integer("q", bad)
    with pytest.raises(WPError) as refused:
        to_string("regular_price", 9.99)
    assert refused.value.data["params"] == {"regular_price": "regular_price is not of type string."}


def _dispatcher(epoch: list[float]) -> tuple[WebhookDispatcher, Webhook]:
    shop = Shop(lambda: T0)
    dispatcher = WebhookDispatcher(
        shop, Chaos(), random.Random(1), lambda: epoch[0], lambda: "http://shop.test/"
    )
    hook = Webhook(1, "h", "active", "product.updated", "http://r.test/", "s3cret", T0, T0)
    dispatcher.webhooks[1] = hook
    return dispatcher, hook


def test_a_webhook_is_disabled_on_the_failure_after_more_than_five_consecutive_ones() -> None:
    dispatcher, hook = _dispatcher([0.0])
    for _ in range(6):
        dispatcher._account(hook, 500)
    assert hook.status == "active" and hook.failure_count == 6
    dispatcher._account(hook, None)
    assert hook.status == "disabled"


def test_a_success_resets_the_failure_count() -> None:
    dispatcher, hook = _dispatcher([0.0])
    for status in (500, 500, 302):
        dispatcher._account(hook, status)
    assert hook.failure_count == 0


def test_delivery_ids_repeat_within_one_second_and_change_after() -> None:
    epoch = [1000.2]
    dispatcher, _ = _dispatcher(epoch)
    first = dispatcher.delivery_id(1)
    epoch[0] = 1000.9
    assert dispatcher.delivery_id(1) == first
    epoch[0] = 1001.0
    assert dispatcher.delivery_id(1) != first


def test_webhook_bodies_are_php_json_and_signed_over_the_raw_bytes() -> None:
    body = wp_json({"permalink": "http://shop.test/p/1/", "name": "Café"})
    assert body == b'{"permalink":"http:\\/\\/shop.test\\/p\\/1\\/","name":"Caf\\u00e9"}'
    assert signature(body, "s3cret") != signature(body + b" ", "s3cret")


def test_the_host_limit_answers_with_a_retry_after_and_recovers() -> None:
    now = [0.0]
    chaos = Chaos(rate_limit=2, rate_burst=2)
    limiter = HostLimiter(chaos, lambda: now[0], random.Random(1))
    assert limiter.retry_after_if_throttled() is None and limiter.retry_after_if_throttled() is None
    assert limiter.retry_after_if_throttled() == 1
    now[0] = 0.5
    assert limiter.retry_after_if_throttled() is None


def test_chaos_knobs_are_validated() -> None:
    chaos = Chaos()
    with pytest.raises(WPError, match="Unknown chaos knob"):
        chaos.update({"latency": 5})
    with pytest.raises(WPError, match="share between 0 and 1"):
        chaos.update({"error_rate": 2})
    chaos.update({"error_rate": 0.5, "rate_limit": 30})
    assert chaos.error_rate == 0.5 and chaos.rate_limit == 30


def test_a_scheduled_outage_starts_later_and_ends() -> None:
    now = [0.0]
    limiter = HostLimiter(Chaos(), lambda: now[0], random.Random(1))
    limiter.start_outage(10, after_s=5)
    assert limiter.outage_left() == 0.0
    now[0] = 6.0
    assert limiter.outage_left() == 9.0
    now[0] = 15.0
    assert limiter.outage_left() == 0.0


def test_units_sold_count_unmanaged_items_too() -> None:
    shop, tee = shop_with(0, manage=False)
    shop.place_order([(tee, 2)], {}, "processing")
    assert (shop.stats.units_sold, shop.stats.oversold_units) == (2, 0)


async def test_one_request_fires_one_webhook_per_resource_and_topic() -> None:
    import httpx

    from channelhub.sandbox.woocommerce.app import WooCommerceSettings, create_app

    emulator = create_app(WooCommerceSettings(seed=4, skus=10, consumer_key="ck", consumer_secret="cs"))
    emitted: list[tuple[str, int]] = []
    emulator.webhooks.emit = lambda topic, resource_id: emitted.append((topic, resource_id))  # type: ignore[method-assign]
    tee = next(p for p in emulator.shop.products.values() if p.type == "simple")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emulator), base_url="https://shop.test", auth=("ck", "cs")
    ) as shop:
        answer = await shop.post(
            "/wp-json/wc/v3/products/batch",
            json={"update": [{"id": tee.id, "stock_quantity": 1}, {"id": tee.id, "stock_quantity": 2}]},
        )
    assert answer.status_code == 200 and tee.stock_quantity == 2
    assert emitted == [("product.updated", tee.id)]
