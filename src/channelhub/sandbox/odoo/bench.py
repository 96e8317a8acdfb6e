"""Measure the emulator itself: ``search_read`` of 1,000 records over real HTTP at catalog scale."""

from __future__ import annotations

import json
import statistics
import time
import xmlrpc.client
from collections.abc import Callable
from typing import Any

import httpx

from channelhub.sandbox.odoo.app import EmulatorSettings, create_emulator
from channelhub.sandbox.server import serve_in_thread

PRODUCT_FIELDS = ["default_code", "barcode", "list_price", "qty_available", "free_qty", "write_date"]
QUANT_FIELDS = ["product_id", "location_id", "quantity", "reserved_quantity", "write_date"]


def run_search_read_benchmark(version: str, skus: int, seed: int, repeats: int) -> dict[str, Any]:
    started = time.perf_counter()
    emulator = create_emulator(EmulatorSettings(version=version, skus=skus, seed=seed))
    build_s = time.perf_counter() - started
    database = emulator.database
    report: dict[str, Any] = {
        "version": version,
        "products": len(database.model("product.product").rows),
        "quants": len(database.model("stock.quant").rows),
        "build_seconds": round(build_s, 2),
        "search_read_1000_ms": {},
    }
    with serve_in_thread(emulator.app) as server:
        xml: Any = xmlrpc.client.ServerProxy(f"{server.url}/xmlrpc/2/object")
        client = httpx.Client(base_url=server.url, timeout=30)

        def execute_kw_args(model: str, domain: list[Any], fields: list[str]) -> list[Any]:
            """The same `search_read` of one 1,000-record page, whichever protocol carries it."""
            return [
                database.name,
                2,
                database.password,
                model,
                "search_read",
                [domain],
                {"fields": fields, "limit": 1000, "order": "id"},
            ]

        def xmlrpc_call(model: str, domain: list[Any], fields: list[str]) -> int:
            rows = xml.execute_kw(*execute_kw_args(model, domain, fields))
            assert isinstance(rows, list)
            return len(rows)

        def jsonrpc_call(model: str, domain: list[Any], fields: list[str]) -> int:
            args = execute_kw_args(model, domain, fields)
            body = {
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"service": "object", "method": "execute_kw", "args": args},
                "id": 1,
            }
            return len(client.post("/jsonrpc", json=body).json()["result"])

        middle = report["products"] // 2
        cases: dict[str, tuple[str, list[Any], list[str]]] = {
            "products_with_stock_fields": ("product.product", [["id", ">", middle]], PRODUCT_FIELDS),
            "internal_quants": (
                "stock.quant",
                [["location_id.usage", "=", "internal"], ["id", ">", middle]],
                QUANT_FIELDS,
            ),
        }
        protocols: dict[str, Callable[[str, list[Any], list[str]], int]] = {
            "xmlrpc": xmlrpc_call,
            "jsonrpc": jsonrpc_call,
        }
        for protocol, call in protocols.items():
            for case, (model, domain, fields) in cases.items():
                timings = []
                for _ in range(repeats):
                    begin = time.perf_counter()
                    count = call(model, domain, fields)
                    timings.append((time.perf_counter() - begin) * 1000)
                report["search_read_1000_ms"][f"{protocol}:{case}"] = {
                    "records": count,
                    "best": round(min(timings), 1),
                    "median": round(statistics.median(timings), 1),
                }
        client.close()
    return report


def dumps(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2)
