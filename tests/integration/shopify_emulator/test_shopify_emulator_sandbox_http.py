"""The storefront, operator endpoints, chaos over HTTP, and the `channelhub emulate shopify` command."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import httpx

from channelhub.sandbox.server import RunningServer, free_port
from channelhub.sandbox.shopify.app import ShopifyEmulator

from .conftest import TOKEN


def _graphql(server: RunningServer, query: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(
        f"{server.url}/admin/api/2025-10/graphql.json",
        headers={"X-Shopify-Access-Token": TOKEN},
        json={"query": query, **kwargs},
    )


def test_storefront_refuses_oversell_and_reports_stats(
    server: RunningServer, emulator: ShopifyEmulator
) -> None:
    variant = next(
        v
        for v in emulator.shop.variants.values()
        if v.inventory_policy == "DENY" and emulator.shop.inventory_items[v.inventory_item_id].tracked
    )
    location = f"gid://shopify/Location/{emulator.shop.primary_location.id}"
    changed = httpx.post(
        f"{server.url}/_sandbox/inventory", json={"sku": variant.sku, "location_id": location, "available": 2}
    )
    assert changed.json()["levels"][0]["available"] == 2
    unknown = httpx.post(
        f"{server.url}/_sandbox/inventory", json={"sku": variant.sku, "location_id": 1, "delta": 1}
    )
    assert unknown.status_code == 404
    refused = httpx.post(
        f"{server.url}/_sandbox/orders", json={"line_items": [{"sku": variant.sku, "quantity": 3}]}
    )
    assert refused.status_code == 409
    assert refused.json()["available"] == 2
    sold = httpx.post(
        f"{server.url}/_sandbox/orders",
        json={"line_items": [{"variant_id": f"gid://shopify/ProductVariant/{variant.id}", "quantity": 2}]},
    )
    assert sold.status_code == 201
    stats = httpx.get(f"{server.url}/_sandbox/stats").json()
    assert (stats["orders"], stats["units_sold"], stats["oversold_units"], stats["refused_orders"]) == (
        1,
        2,
        0,
        1,
    )
    stock = httpx.get(f"{server.url}/_sandbox/inventory", params={"sku": variant.sku}).json()["inventory"][0]
    assert (stock["levels"][0]["available"], stock["levels"][0]["committed"]) == (0, 2)


def test_storefront_rejects_bad_orders(server: RunningServer) -> None:
    cases = [
        ({"line_items": []}, 422),
        ({"line_items": [{"sku": "NOPE", "quantity": 1}]}, 404),
        ({"line_items": [{"sku": "SKU-00001", "quantity": 0}]}, 422),
        ({"line_items": [{"sku": "SKU-00001"}], "financial_status": "stolen"}, 422),
    ]
    for body, status in cases:
        response = httpx.post(f"{server.url}/_sandbox/orders", json=body)
        assert response.status_code == status, body
        assert "errors" in response.json()


def test_pending_order_paid_later(server: RunningServer, emulator: ShopifyEmulator) -> None:
    order = httpx.post(
        f"{server.url}/_sandbox/orders",
        json={"line_items": [{"sku": "SKU-00001"}], "financial_status": "pending"},
    ).json()["order"]
    paid = httpx.post(f"{server.url}/_sandbox/orders/{order['id']}/pay")
    assert paid.json()["order"]["financial_status"] == "paid"


def test_chaos_errors_outages_and_validation(server: RunningServer, emulator: ShopifyEmulator) -> None:
    bad = httpx.post(f"{server.url}/_sandbox/chaos", json={"error_rate": 2})
    assert bad.status_code == 422
    assert httpx.post(f"{server.url}/_sandbox/chaos", json={"bogus": 1}).status_code == 422
    assert httpx.post(f"{server.url}/_sandbox/chaos", json={"error_rate": 1.0}).json()["error_rate"] == 1.0
    failed = _graphql(server, "{ shop { id } }")
    assert failed.status_code in (500, 502, 503)
    assert "errors" in failed.json()
    elapsed = emulator.clock.monotonic() - emulator.started_at
    httpx.post(f"{server.url}/_sandbox/chaos", json={"error_rate": 0, "outages": [[0, elapsed + 60]]})
    outage = _graphql(server, "{ shop { id } }")
    assert outage.status_code == 503
    httpx.post(f"{server.url}/_sandbox/chaos", json={"outages": [], "latency_ms": 150})
    started = time.monotonic()
    ok = _graphql(server, "{ shop { id } }")
    assert ok.status_code == 200 and ok.json()["data"]["shop"]["id"].startswith("gid://shopify/Shop/")
    assert time.monotonic() - started >= 0.15
    assert emulator.shop.stats.chaos_errors == 2


def test_bulk_file_for_unknown_operation_is_404(server: RunningServer) -> None:
    assert httpx.get(f"{server.url}/_sandbox/bulk/1.jsonl").status_code == 404


def test_emulate_shopify_command_serves_with_given_credentials() -> None:
    port = free_port()
    command = [
        sys.executable,
        "-c",
        "from channelhub.cli import main; main()",
        "emulate",
        "shopify",
        "--port",
        str(port),
        "--seed",
        "4",
        "--skus",
        "7",
        "--plan",
        "plus",
        "--access-token",
        "shpat_cli",
        "--api-secret",
        "shpss_cli",
        "--shop-name",
        "cli-shop",
        "--locations",
        "3",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy()
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{url}/_sandbox/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "emulator did not start"
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            time.sleep(0.1)
        body = httpx.post(
            f"{url}/admin/api/2026-10/graphql.json",
            headers={"X-Shopify-Access-Token": "shpat_cli"},
            json={"query": "{ productVariants(first: 10) { nodes { sku } } }"},
        ).json()
        assert len(body["data"]["productVariants"]["nodes"]) == 7
        assert body["extensions"]["cost"]["throttleStatus"]["restoreRate"] == 1000.0
        shop = httpx.post(
            f"{url}/admin/api/2025-10/graphql.json",
            headers={"X-Shopify-Access-Token": "shpat_cli"},
            json={"query": "{ shop { myshopifyDomain } locations(first: 10) { nodes { id } } }"},
        ).json()["data"]
        assert shop["shop"]["myshopifyDomain"] == "cli-shop.myshopify.com"
        assert len(shop["locations"]["nodes"]) == 3
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert "shpat_cli" in output and "shpss_cli" in output
    assert "2025-10, 2026-10" in output


def test_shopper_burst_is_seeded_and_counted(server: RunningServer, emulator: ShopifyEmulator) -> None:
    burst = httpx.post(f"{server.url}/_sandbox/shoppers", json={"orders": 40, "seed": 2, "max_quantity": 4})
    assert burst.status_code == 200
    outcome = burst.json()
    stats = httpx.get(f"{server.url}/_sandbox/stats").json()
    assert (stats["orders"], stats["refused_orders"]) == (outcome["placed"], outcome["refused"])
    assert outcome["placed"] + outcome["refused"] == 40
    assert httpx.post(f"{server.url}/_sandbox/shoppers", json={"orders": 0}).status_code == 422
    assert (
        httpx.post(f"{server.url}/_sandbox/shoppers", json={"orders": 1, "skus": ["NOPE"]}).status_code == 422
    )
