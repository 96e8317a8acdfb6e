"""`channelhub bench odoo-stock`: stock positions for N SKUs read through the Odoo connector.

What is measured, honestly:
* the Odoo emulator is seeded with N SKUs (about 4 quants each, 3 warehouses with stock, output
  and quality-hold locations) and served over real HTTP on loopback by uvicorn in a thread of the
  same process, so emulator and connector share one GIL and the machine's cores;
* the SKU list is read once first (timed separately); each round then calls
  `OdooConnector.read_stock_positions(all N SKUs)`: warehouses, internal locations, SKU → product
  ids in chunks, quants in partitioned keyset pages, aggregation into canonical `StockPosition`s;
* a round is timed from the first request to the last position built;
* baseline: one plain sequential page-by-page read of the same quants without any mapping (what
  the server and the wire cost alone), reported as `raw_quant_pages`;
* correctness: on-hand totals per warehouse are compared with the emulator's own quant rows and
  every SKU must be resolved; any mismatch fails the run.
"""

from __future__ import annotations

import asyncio
import os
import platform
import random
import time
from collections import defaultdict
from typing import Any

from channelhub.connectors.odoo import OdooConnection, OdooConnector, OdooResilience, StockReport
from channelhub.sandbox.odoo.app import EmulatorSettings, OdooEmulator, create_emulator
from channelhub.sandbox.server import serve_in_thread

PROTOCOLS = ("jsonrpc", "xmlrpc", "json2")
VERSIONS = ("16.0", "17.0", "18.0", "19.0")


def _expected_on_hand(emulator: OdooEmulator) -> dict[str, int]:
    """On hand per warehouse code straight from the emulator's rows (the ground truth)."""
    database = emulator.database
    locations = database.model("stock.location").rows
    warehouses = database.model("stock.warehouse").rows
    view_to_code = {row["view_location_id"]: str(row["code"]) for row in warehouses.values()}
    totals: dict[str, int] = defaultdict(int)
    for quant in database.model("stock.quant").rows.values():
        location = locations.get(quant["location_id"])
        if not location or location.get("usage") != "internal":
            continue
        path = [int(part) for part in str(location.get("parent_path") or "").split("/") if part]
        code = next((view_to_code[p] for p in path if p in view_to_code), None)
        if code is not None:
            totals[code] += int(quant["quantity"])
    return dict(totals)


def _on_hand_by_warehouse(report: StockReport) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for position in report.positions:
        totals[position.warehouse] += position.on_hand
    return dict(totals)


async def _measure(url: str, secret: str, protocol: str, rounds: int) -> dict[str, Any]:
    connection = OdooConnection(url, "retail", "admin", secret, protocol=protocol, page_size=5000)
    resilience = OdooResilience.default(rng=random.Random(1), max_concurrency=8, latency_target_s=5.0)
    async with OdooConnector(connection, resilience=resilience) as connector:
        started = time.perf_counter()
        rows = await connector.client.search_read_all(
            "product.product", [("default_code", "!=", False)], ["default_code"], page_size=5000
        )
        skus = [str(row["default_code"]) for row in rows]
        listing_s = time.perf_counter() - started
        results = []
        report: StockReport | None = None
        for number in range(1, rounds + 1):
            calls_before = connector.client.stats.calls
            started = time.perf_counter()
            report = await connector.read_stock_positions(skus)
            seconds = time.perf_counter() - started
            results.append(
                {
                    "round": number,
                    "skus": len(skus),
                    "positions": len(report.positions),
                    "quant_records": report.quant_records,
                    "seconds": round(seconds, 3),
                    "skus_per_s": round(len(skus) / seconds, 1),
                    "quants_per_s": round(report.quant_records / seconds, 1),
                    "odoo_calls": connector.client.stats.calls - calls_before,
                }
            )
        assert report is not None
        # Baseline: the same quants read page by page with no mapping at all (server + wire only),
        # so the connector's own share of a round is visible.
        started = time.perf_counter()
        raw = 0
        pages = connector.client.search_read_pages(
            "stock.quant",
            [("location_id", "in", list(report.location_ids.values()))],
            ["product_id", "location_id", "quantity", "reserved_quantity"],
            page_size=5000,
            bare_many2one=True,
        )
        async for page in pages:
            raw += len(page)
        raw_s = time.perf_counter() - started
        return {
            "raw_quant_pages": {
                "records": raw,
                "seconds": round(raw_s, 3),
                "records_per_s": round(raw / raw_s, 1),
            },
            "sku_listing_seconds": round(listing_s, 3),
            "rounds": results,
            "unknown_skus": len(report.unknown_skus),
            "on_hand_by_warehouse": _on_hand_by_warehouse(report),
            "retries": connector.client.stats.retries,
            "final_concurrency_limit": connector.client.resilience.limiter.limit,
        }


def run_benchmark(
    *, skus: int, version: str = "17.0", protocol: str = "jsonrpc", seed: int = 1, rounds: int = 2
) -> dict[str, Any]:
    if skus < 1:
        raise ValueError("--skus must be at least 1")
    if rounds < 1:
        raise ValueError("--rounds must be at least 1")
    if version not in VERSIONS:
        raise ValueError(f"--version must be one of {', '.join(VERSIONS)}")
    if protocol not in PROTOCOLS or (protocol == "json2" and version != "19.0"):
        raise ValueError("--protocol must be jsonrpc or xmlrpc (json2 needs --version 19.0)")
    started = time.perf_counter()
    emulator = create_emulator(EmulatorSettings(version=version, seed=seed, skus=skus))
    seed_s = time.perf_counter() - started
    secret = emulator.database.api_key if protocol == "json2" else "admin"
    with serve_in_thread(emulator.app) as server:
        measured = asyncio.run(_measure(server.url, secret, protocol, rounds))
    expected = _expected_on_hand(emulator)
    best = min(measured["rounds"], key=lambda row: row["seconds"])
    ok = measured["unknown_skus"] == 0 and measured["on_hand_by_warehouse"] == expected
    return {
        "benchmark": "odoo-stock",
        "command": f"channelhub bench odoo-stock --skus {skus} --version {version} --protocol {protocol} "
        f"--seed {seed} --rounds {rounds}",
        "ok": ok,
        "odoo_version": version,
        "protocol": protocol,
        "seeded_skus": skus,
        "seed_seconds": round(seed_s, 3),
        "best": best,
        **measured,
        "expected_on_hand_by_warehouse": expected,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "notes": "emulator and connector in one process (shared GIL) over loopback HTTP",
    }
