"""The channelhub engine in its own process, driven by the flash-sale benchmark.

In production channelhub does not share a process (and a GIL) with Shopify, WooCommerce and Odoo;
the benchmark's emulators and stream driver would otherwise steal its CPU. So the `channelhub`
arm starts `python -m channelhub.benchmarks.flash_sale_engine LANDSCAPE.yaml` (secrets in the
environment) and talks to it over stdin/stdout, one JSON object per line:

    -> {"op": "unpublished"}             <- {"unpublished": 12, "pending_events": 3, "inbox_pending": 0}
    -> {"op": "offline", "code": "east"} <- {"ok": true}
    -> {"op": "reconcile"}               <- {"diffs": 3, "fixed": 3, "errors": {}}
    -> {"op": "memory"}                  <- {"rss_kb": ..., "peak_rss_kb": ...}
    -> {"op": "latency"}                 <- {"handling": {topic: {"count", "mean_s", ...}}, ...,
                                             "store_writer": {thread: {"mean_wait_ms", ...}}}
    -> {"op": "stop"}                    <- {"stopped": true}

The first line it prints is `{"ready": true, "url": ..., "pid": ...}` once the runtime has started
(snapshot taken, Shopify catalog read, webhooks can be delivered to `url`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

ODOO_TOKEN_ENV = "FLASH_SALE_ODOO_TOKEN"
API_PORT_ENV = "FLASH_SALE_API_PORT"  # optional: a fixed port (a restarted engine keeps its URL)
BACKFILL_ENV = "FLASH_SALE_BACKFILL_S"  # optional: seconds between order backfills


def memory_kb(pid: int | str = "self") -> dict[str, int]:
    """Resident set size now and its peak (Linux `/proc/<pid>/status`, kB)."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found["rss_kb" if name == "VmRSS" else "peak_rss_kb"] = int(value.split()[0])
    return found


def _stdin_lines(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    for line in sys.stdin:
        loop.call_soon_threadsafe(queue.put_nowait, line)
    loop.call_soon_threadsafe(queue.put_nowait, None)


_protocol = sys.stdout


def _reply(document: dict[str, Any]) -> None:
    _protocol.write(json.dumps(document) + "\n")
    _protocol.flush()


def _pending_work(runtime: Any) -> dict[str, int]:
    """Events still pending in the log (every tier) and webhooks not yet turned into events."""
    import time

    from channelhub.api.operations.queues import queue_stats
    from channelhub.store.db import reader
    from channelhub.store.repositories import StateRepositories

    with reader(runtime.require_engine()).connect() as connection:
        stats = queue_stats(connection, time.time())
        inbox = StateRepositories.on(connection).inbox.counts_by_status().get("received", 0)
    return {"pending_events": sum(tier.pending for tier in stats.tiers.values()), "inbox_pending": inbox}


async def _start(landscape_path: Path) -> Any:
    from channelhub import bootstrap
    from channelhub.config import load_config
    from channelhub.service.adapters.factory import channel_gateway
    from channelhub.service.adapters.shopify import ShopifyChannelGateway

    landscape = load_config(landscape_path)
    settings = bootstrap.RuntimeSettings(
        api_host="127.0.0.1",
        api_port=int(os.environ.get(API_PORT_ENV, "0")),
        odoo_webhook_token=os.environ[ODOO_TOKEN_ENV],
    )
    if BACKFILL_ENV in os.environ:
        settings.backfill_interval_s = float(os.environ[BACKFILL_ENV])
    runtime = bootstrap.Runtime(landscape, settings)
    gateways = {c.name: channel_gateway(c) for c in landscape.channels if c.enabled}
    for gateway in gateways.values():
        if isinstance(gateway, ShopifyChannelGateway):
            # One bulk operation instead of a paged catalog read on first publish (see
            # `flash_sale_arms.warm_up`): the engine has been running before the sale.
            await gateway.connector.load_catalog(bulk=True)
    build = bootstrap.channel_gateways
    bootstrap.channel_gateways = lambda _landscape, _clock=None: gateways  # type: ignore[assignment]
    try:
        await runtime.start()
    finally:
        bootstrap.channel_gateways = build
    return runtime


async def _serve(landscape_path: Path) -> None:
    runtime = await _start(landscape_path)
    _reply({"ready": True, "url": runtime.url, "pid": os.getpid()})
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    threading.Thread(target=_stdin_lines, args=(asyncio.get_running_loop(), queue), daemon=True).start()
    try:
        while (line := await queue.get()) is not None:
            request = json.loads(line)
            op = request.get("op")
            if op == "unpublished":
                health = await asyncio.to_thread(runtime.health)
                pending = await asyncio.to_thread(_pending_work, runtime)
                _reply({"unpublished": int(sum(health["unpublished"].values())), **pending})
            elif op == "offline":
                await runtime.set_warehouse(str(request["code"]), "offline", reason="flash sale", by="bench")
                _reply({"ok": True})
            elif op == "reconcile":
                report = await runtime.reconcile()
                for channel in runtime.channels:
                    await runtime.publisher.wait_idle(channel, 60.0)
                _reply({"diffs": len(report.diffs), "fixed": report.fixed, "errors": report.errors})
            elif op == "memory":
                _reply(memory_kb())
            elif op == "latency":
                from channelhub.store.db import writer_stats

                summary = runtime.metrics.latency_summary() if runtime.metrics is not None else {}
                _reply({**summary, "store_writer": writer_stats(runtime.require_engine())})
            elif op == "stop":
                break
            else:
                _reply({"error": f"unknown op {op!r}"})
    finally:
        with contextlib.suppress(Exception):
            await runtime.stop()
        _reply({"stopped": True})


def main() -> None:
    global _protocol
    from channelhub.observability import configure_logging

    # Replies go to the original stdout; anything else printed lands on stderr.
    _protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)

    configure_logging("WARNING")
    asyncio.run(_serve(Path(sys.argv[1])))


if __name__ == "__main__":
    main()
