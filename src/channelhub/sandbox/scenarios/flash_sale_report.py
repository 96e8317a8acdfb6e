"""After a flash sale in the sandbox: audit Odoo, reconcile, measure drift, assemble the report."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from channelhub.sandbox.scenarios.flash_sale import (
    FlashSaleResult,
    FlashSaleSettings,
    FlashSaleTarget,
    audit_odoo_orders,
    drift_after,
)

if TYPE_CHECKING:
    from channelhub.sandbox.runner import Sandbox


async def channel_stats(target: FlashSaleTarget) -> dict[str, Any]:
    """Each storefront's own `/_sandbox/stats` (orders, refusals, oversold units, API calls)."""
    stats: dict[str, Any] = {}
    async with httpx.AsyncClient(timeout=10) as client:
        for channel in target.channels:
            try:
                response = await client.get(f"{channel.storefront_url}/_sandbox/stats")
                stats[channel.name] = response.json()
            except (httpx.HTTPError, ValueError) as error:
                stats[channel.name] = {"error": str(error)}
    return stats


async def _publisher_settled(sandbox: Sandbox, timeout_s: float) -> bool:
    """Wait until channelhub has nothing left to publish (or `timeout_s` passed)."""
    runtime = sandbox.runtime
    assert runtime is not None and runtime.publisher is not None
    deadline = time.monotonic() + timeout_s
    for channel in runtime.publisher.channels:
        left = max(0.0, deadline - time.monotonic())
        if not await runtime.publisher.wait_idle(channel, left):
            return False
    return True


async def finish_report(
    sandbox: Sandbox,
    target: FlashSaleTarget,
    settings: FlashSaleSettings,
    sale: FlashSaleResult,
    started_at: datetime,
) -> dict[str, Any]:
    """Audit Odoo (lost and duplicate orders), run the final reconciliation, then measure drift."""
    runtime = sandbox.runtime
    assert runtime is not None
    channels = [channel.name for channel in target.channels]
    audit = await audit_odoo_orders(target.odoo, sale.order_refs, channels, wait_s=60.0)
    # Give the reservation hand-over and the last publishes a moment before comparing.
    await asyncio.sleep(runtime.settings.reservation_check_interval_s + 0.5)
    await _publisher_settled(sandbox, 30.0)
    reconciliation = await runtime.reconcile()
    check = await runtime.reconcile(dry_run=True)
    truth = drift_after(target, sale.truth)
    stats = await channel_stats(target)
    return {
        "scenario": "flash-sale",
        "settings": {
            "skus": len(target.stock),
            "hot_skus": len(target.hot_skus),
            "rate": settings.rate,
            "duration_s": settings.duration_s,
            "seed": settings.seed,
            "offline_warehouse": settings.offline_warehouse,
        },
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        **sale.to_dict(),
        "oversold_units_reported_by_channels": {
            name: int(values.get("oversold_units", 0))
            for name, values in stats.items()
            if isinstance(values, dict)
        },
        **audit,
        "drift_skus_after_reconcile": len({diff.sku for diff in check.diffs}),
        "reconciliation": {key: value for key, value in reconciliation.to_dict().items() if key != "diffs"},
        "truth_mismatch_after_reconcile": truth,
        # Calls channelhub's publisher made per channel (reconciliation reads not included).
        "api_calls": {
            name: int(memory.get("calls", 0))
            for name, memory in (runtime.publisher.snapshot() if runtime.publisher else {}).items()
        },
        "channel_stats": stats,
        "publisher": runtime.publisher.snapshot() if runtime.publisher else {},
    }
