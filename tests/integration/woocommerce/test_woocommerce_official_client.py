"""The official `woocommerce` package, unchanged, against the emulator over real loopback HTTP(S)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from woocommerce import API

from channelhub.sandbox.server import RunningServer, serve_in_thread
from channelhub.sandbox.woocommerce.app import WooCommerceEmulator, WooCommerceSettings, create_app
from channelhub.sandbox.woocommerce.tls import write_self_signed

KEY, SECRET = "ck_integration", "cs_integration"


@pytest.fixture(scope="module")
def emulator() -> WooCommerceEmulator:
    return create_app(WooCommerceSettings(seed=11, skus=60, consumer_key=KEY, consumer_secret=SECRET))


@pytest.fixture(scope="module")
def http_server(emulator: WooCommerceEmulator) -> Iterator[RunningServer]:
    with serve_in_thread(emulator) as server:
        yield server


@pytest.fixture(scope="module")
def https_server(
    emulator: WooCommerceEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    certfile, keyfile = write_self_signed(Path(tmp_path_factory.mktemp("tls")))
    with serve_in_thread(emulator, ssl_certfile=certfile, ssl_keyfile=keyfile) as server:
        yield server


@pytest.fixture(autouse=True)
def _quiet_self_signed_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def test_oauth1_over_http_lists_creates_updates_and_batch_updates(http_server: RunningServer) -> None:
    api = API(url=http_server.url, consumer_key=KEY, consumer_secret=SECRET, version="wc/v3")
    listed = api.get("products", params={"per_page": 20, "page": 2})
    assert listed.status_code == 200 and len(listed.json()) == 20
    total = int(listed.headers["X-WP-Total"])
    assert int(listed.headers["X-WP-TotalPages"]) == -(-total // 20)
    assert 'rel="prev"' in listed.headers["Link"] and 'rel="next"' in listed.headers["Link"]

    created = api.post(
        "products",
        {
            "name": "Rain Jacket",
            "type": "simple",
            "sku": "JACKET-1",
            "regular_price": "79.00",
            "manage_stock": True,
            "stock_quantity": 3,
        },
    )
    assert created.status_code == 201
    jacket = created.json()
    assert (jacket["sku"], jacket["price"], jacket["stock_status"]) == ("JACKET-1", "79.00", "instock")
    assert created.headers["Location"].endswith(f"/wp-json/wc/v3/products/{jacket['id']}")

    updated = api.put(f"products/{jacket['id']}", {"stock_quantity": 0, "sale_price": "59.00"})
    assert updated.status_code == 200
    assert (updated.json()["stock_status"], updated.json()["price"]) == ("outofstock", "59.00")

    others = [p["id"] for p in listed.json()[:3] if p["type"] == "simple"]
    batch = api.post(
        "products/batch",
        {
            "update": [{"id": pid, "stock_quantity": 9} for pid in others]
            + [{"id": 987654, "stock_quantity": 1}]
        },
    )
    assert batch.status_code == 200
    answers = batch.json()["update"]
    assert [a["stock_quantity"] for a in answers[:-1]] == [9] * len(others)
    assert answers[-1] == {
        "id": 987654,
        "error": {
            "code": "woocommerce_rest_product_invalid_id",
            "message": "Invalid ID.",
            "data": {"status": 400},
        },
    }
    assert api.get(f"products/{jacket['id']}").json()["sale_price"] == "59.00"


def test_variations_are_listed_and_batch_updated_under_their_parent(http_server: RunningServer) -> None:
    api = API(url=http_server.url, consumer_key=KEY, consumer_secret=SECRET, version="wc/v3")
    parent = api.get("products", params={"type": "variable", "per_page": 1}).json()[0]
    variations = api.get(f"products/{parent['id']}/variations").json()
    assert sorted(v["id"] for v in variations) == sorted(parent["variations"])
    by_sku = api.get("products", params={"sku": f"{variations[0]['sku']},{parent['sku']}"}).json()
    assert {(p["id"], p["parent_id"]) for p in by_sku} == {
        (variations[0]["id"], parent["id"]),
        (parent["id"], 0),
    }
    result = api.post(
        f"products/{parent['id']}/variations/batch",
        {"update": [{"id": v["id"], "stock_quantity": 2} for v in variations]},
    )
    assert [v["stock_quantity"] for v in result.json()["update"]] == [2] * len(variations)


def test_orders_are_read_with_filters(http_server: RunningServer, emulator: WooCommerceEmulator) -> None:
    import httpx

    sku = next(
        p.sku for p in emulator.shop.products.values() if p.type == "simple" and (p.stock_quantity or 0) > 1
    )
    placed = httpx.post(
        f"{http_server.url}/_sandbox/orders",
        json={"line_items": [{"sku": sku, "quantity": 1}], "billing": {"email": "x@y.z"}},
    )
    assert placed.status_code == 201
    api = API(url=http_server.url, consumer_key=KEY, consumer_secret=SECRET, version="wc/v3")
    orders = api.get("orders", params={"status": "processing", "orderby": "modified", "order": "asc"}).json()
    assert placed.json()["id"] in [o["id"] for o in orders]
    order = api.get(f"orders/{placed.json()['id']}").json()
    assert order["line_items"][0]["sku"] == sku and order["billing"]["email"] == "x@y.z"
    assert api.get("orders/999999").json()["code"] == "woocommerce_rest_shop_order_invalid_id"


def test_wordpress_errors_for_bad_input(http_server: RunningServer) -> None:
    api = API(url=http_server.url, consumer_key=KEY, consumer_secret=SECRET, version="wc/v3")
    too_big = api.post("products/batch", {"update": [{"id": 1}] * 60, "delete": list(range(1, 42))})
    assert too_big.status_code == 413
    assert too_big.json() == {
        "code": "woocommerce_rest_request_entity_too_large",
        "message": "Unable to accept more than 100 items for this request.",
        "data": {"status": 413},
    }
    assert api.get("products", params={"per_page": 101}).json()["code"] == "rest_invalid_param"
    wrong_type = api.post("products", {"name": "x", "regular_price": 12.5})
    assert wrong_type.status_code == 400 and wrong_type.json()["data"]["params"] == {
        "regular_price": "regular_price is not of type string."
    }
    assert api.get("nonsense").json() == {
        "code": "rest_no_route",
        "message": "No route was found matching the URL and request method.",
        "data": {"status": 404},
    }
    assert api.delete("products/123456789").status_code == 404


def test_wrong_credentials_get_woocommerces_401(
    http_server: RunningServer, https_server: RunningServer
) -> None:
    over_http = API(url=http_server.url, consumer_key="ck_wrong", consumer_secret=SECRET, version="wc/v3")
    refused = over_http.get("products")
    assert refused.status_code == 401
    assert refused.json() == {
        "code": "woocommerce_rest_authentication_error",
        "message": "Consumer key is invalid.",
        "data": {"status": 401},
    }
    wrong_secret = API(
        url=https_server.url, consumer_key=KEY, consumer_secret="cs_wrong", version="wc/v3", verify_ssl=False
    )
    assert wrong_secret.get("products").json()["message"] == "Consumer secret is invalid."
    unknown = API(
        url=https_server.url, consumer_key="ck_wrong", consumer_secret="x", version="wc/v3", verify_ssl=False
    )
    assert unknown.get("products").json() == {
        "code": "woocommerce_rest_cannot_view",
        "message": "Sorry, you cannot list resources.",
        "data": {"status": 401},
    }


@pytest.mark.parametrize("query_string_auth", [False, True])
def test_https_with_basic_or_query_string_auth(https_server: RunningServer, query_string_auth: bool) -> None:
    api = API(
        url=https_server.url,
        consumer_key=KEY,
        consumer_secret=SECRET,
        version="wc/v3",
        verify_ssl=False,
        query_string_auth=query_string_auth,
    )
    listed = api.get("products", params={"per_page": 5})
    assert listed.status_code == 200 and len(listed.json()) == 5
    product = listed.json()[0]
    assert product["_links"]["self"][0]["href"].startswith("https://")
    updated = api.put(f"products/{product['id']}", {"name": "Renamed over TLS"})
    assert updated.status_code == 200 and updated.json()["name"] == "Renamed over TLS"
    sku = f"TLS-{int(query_string_auth)}"
    created = api.post("products", {"name": "Over TLS", "sku": sku, "regular_price": "5.00"})
    assert created.status_code == 201 and created.json()["sku"] == sku
    batch = api.post("products/batch", {"update": [{"id": created.json()["id"], "stock_quantity": 4}]})
    assert batch.status_code == 200 and batch.json()["update"][0]["stock_quantity"] == 4
    assert api.get("orders").status_code == 200


def test_basic_auth_is_not_accepted_over_plain_http(http_server: RunningServer) -> None:
    import httpx

    refused = httpx.get(f"{http_server.url}/wp-json/wc/v3/products", auth=(KEY, SECRET))
    assert refused.status_code == 401 and refused.json()["code"] == "woocommerce_rest_cannot_view"


def test_orders_are_created_through_the_api_and_reduce_stock_when_paid(
    http_server: RunningServer, emulator: WooCommerceEmulator
) -> None:
    api = API(url=http_server.url, consumer_key=KEY, consumer_secret=SECRET, version="wc/v3")
    product = next(p for p in emulator.shop.products.values() if p.type == "simple" and p.manage_stock)
    before = product.stock_quantity or 0
    created = api.post(
        "orders",
        {
            "set_paid": True,
            "billing": {"email": "api@shop.test"},
            "line_items": [{"product_id": product.id, "quantity": before + 2}],
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "processing" and created.json()["date_paid_gmt"]
    assert product.stock_quantity == -2  # the REST API does not refuse an oversell; stock goes negative
    missing = api.post("orders", {"line_items": [{"quantity": 1}]})
    assert (
        missing.status_code == 400 and missing.json()["code"] == "woocommerce_rest_required_product_reference"
    )
    invalid = api.post("orders", {"line_items": [{"product_id": 999999, "quantity": 1}]})
    assert invalid.json()["code"] == "woocommerce_rest_invalid_product_id"


def test_options_describes_a_route(http_server: RunningServer) -> None:
    import httpx

    api = API(url=http_server.url, consumer_key=KEY, consumer_secret=SECRET, version="wc/v3")
    described = api.options("products/batch")
    assert described.status_code == 200
    assert set(described.json()["methods"]) == {"POST", "PUT", "PATCH"}
    anonymous = httpx.options(f"{http_server.url}/wp-json/wc/v3/orders")
    assert anonymous.status_code == 200 and anonymous.headers["Allow"] == "GET, POST"
    bad_key = API(url=http_server.url, consumer_key="ck_nobody", consumer_secret="x", version="wc/v3")
    assert bad_key.options("products").status_code == 401  # a failed key fails every request


async def test_the_connector_uses_basic_auth_over_https(
    https_server: RunningServer, emulator: WooCommerceEmulator
) -> None:
    from channelhub.connectors.woocommerce import WooCommerceClient, WooCommerceConnector

    sku = next(p.sku for p in emulator.shop.products.values() if p.type == "variation")
    async with WooCommerceClient(https_server.url, KEY, SECRET, verify=False) as client:
        result = await WooCommerceConnector(client).set_stock({sku: 17})
    assert client.is_ssl and result.applied[sku].quantity == 17
