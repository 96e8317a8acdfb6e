"""Bad input gets WordPress's error shape and a 4xx — never a 500 or a traceback (in-process HTTP)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channelhub.sandbox.woocommerce.app import WooCommerceSettings, create_app

EMULATOR = create_app(WooCommerceSettings(seed=2, skus=12, consumer_key="ck", consumer_secret="cs"))


@pytest.fixture
async def shop() -> AsyncIterator[httpx.AsyncClient]:
    # Over "https" basic auth is accepted, so requests need no OAuth signature.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=EMULATOR), base_url="https://shop.test", auth=("ck", "cs")
    ) as client:
        yield client


def assert_wp_error(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    body = response.json()
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert set(body) >= {"code", "message", "data"} and body["data"]["status"] == response.status_code
    if status is not None:
        assert response.status_code == status, body
    return dict(body)


API = "/wp-json/wc/v3"
PRODUCT = next(p.id for p in EMULATOR.shop.products.values() if p.type == "simple")


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "code"),
    [
        ("POST", "/products", b"{not json", 400, "rest_invalid_json"),
        ("POST", "/products", b"[1, 2]", 400, "rest_invalid_json"),
        ("POST", "/products/batch", b'{"update": {"id": 1}}', 400, "rest_invalid_param"),
        ("PUT", f"/products/{PRODUCT}", b'{"stock_quantity": "lots"}', 400, "rest_invalid_param"),
        ("PUT", f"/products/{PRODUCT}", b'{"manage_stock": "maybe"}', 400, "rest_invalid_param"),
        ("PUT", f"/products/{PRODUCT}", b'{"backorders": "sometimes"}', 400, "rest_invalid_param"),
        ("PUT", "/products/424242", b'{"stock_quantity": 1}', 400, "woocommerce_rest_product_invalid_id"),
        ("GET", "/products/424242", b"", 404, "woocommerce_rest_product_invalid_id"),
        (
            "GET",
            f"/products/{PRODUCT}/variations/1",
            b"",
            404,
            "woocommerce_rest_product_variation_invalid_id",
        ),
        ("GET", "/products?per_page=-1", b"", 400, "rest_invalid_param"),
        ("GET", "/products?page=abc", b"", 400, "rest_invalid_param"),
        ("GET", "/products?orderby=vibes", b"", 400, "rest_invalid_param"),
        ("GET", "/orders?status=lost", b"", 400, "rest_invalid_param"),
        ("GET", "/orders?after=1e309", b"", 400, "rest_invalid_param"),
        ("DELETE", f"/products/{PRODUCT}?force=perhaps", b"", 400, "rest_invalid_param"),
        ("POST", "/webhooks", b"{}", 400, "rest_missing_callback_param"),
        (
            "POST",
            "/webhooks",
            b'{"topic": "order.exploded", "delivery_url": "http://x.test/"}',
            400,
            "woocommerce_rest_webhook_invalid_topic",
        ),
        (
            "POST",
            "/webhooks",
            b'{"topic": "order.created", "delivery_url": "ftp://x"}',
            400,
            "woocommerce_rest_webhook_invalid_delivery_url",
        ),
        ("PATCH", "/webhooks/999", b'{"status": "active"}', 400, "woocommerce_rest_webhook_invalid_id"),
        ("POST", "/orders/999/refunds", b'{"amount": "1"}', 404, "woocommerce_rest_shop_order_invalid_id"),
        ("GET", "/nothing/here", b"", 404, "rest_no_route"),
        ("PUT", "/products", b"{}", 404, "rest_no_route"),
    ],
)
async def test_refusals_use_the_real_codes(
    shop: httpx.AsyncClient, method: str, path: str, payload: bytes, status: int, code: str
) -> None:
    response = await shop.request(
        method, API + path, content=payload or None, headers={"Content-Type": "application/json"}
    )
    assert assert_wp_error(response, status)["code"] == code


async def test_query_arrays_and_nested_keys_do_not_break_listing(shop: httpx.AsyncClient) -> None:
    response = await shop.get(f"{API}/products?include[]={PRODUCT}&sku[]=nope&search[x]=y")
    assert_wp_error(response, 400)  # search must be a string, as in WordPress
    ok = await shop.get(f"{API}/products?include[]={PRODUCT}&orderby=include")
    assert ok.status_code == 200 and [p["id"] for p in ok.json()] == [PRODUCT]


async def test_sandbox_tooling_refuses_bad_input_with_the_same_shape(shop: httpx.AsyncClient) -> None:
    assert_wp_error(await shop.post("/_sandbox/orders", content=b"nope"), 400)
    assert_wp_error(await shop.post("/_sandbox/orders", json={"line_items": [{"sku": "NOPE"}]}), 400)
    assert_wp_error(
        await shop.post("/_sandbox/orders", json={"line_items": [{"sku": "SKU-00001", "quantity": 0}]})
    )
    assert_wp_error(await shop.post("/_sandbox/chaos", json={"error_rate": "high"}), 400)
    assert_wp_error(await shop.post("/_sandbox/stock", json={"sku": "NOPE", "delta": 1}), 404)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
product_fields = st.dictionaries(
    st.sampled_from(
        [
            "id",
            "sku",
            "stock_quantity",
            "manage_stock",
            "backorders",
            "regular_price",
            "sale_price",
            "status",
            "type",
            "name",
            "stock_status",
            "attributes",
        ]
    ),
    json_values,
    max_size=6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(
        st.sampled_from(["create", "update", "delete", "other"]),
        st.lists(product_fields | json_values, max_size=4) | json_values,
        max_size=3,
    )
)
async def test_random_batch_bodies_never_crash_the_emulator(
    shop: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await shop.post(
        f"{API}/products/batch",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code < 500, response.text
    assert isinstance(response.json(), dict)
