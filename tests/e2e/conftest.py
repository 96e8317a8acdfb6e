"""Helpers for the end-to-end tests: the sandbox in-process, deadlines instead of sleeps."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


async def eventually(
    probe: Callable[[], T | Awaitable[T]], *, within_s: float = 10.0, what: str = "condition"
) -> T:
    """Poll `probe` until it returns something truthy; fail with `what` after `within_s`."""
    deadline = time.monotonic() + within_s
    last: Any = None
    while True:
        result = probe()
        last = await result if asyncio.iscoroutine(result) else result
        if last:
            return last  # type: ignore[no-any-return]
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} not reached within {within_s} s (last: {last!r})")
        await asyncio.sleep(0.05)


def odoo_order_refs(odoo: Any) -> Counter[str]:
    """client_order_ref of every sale.order in the Odoo emulator (read in-process)."""
    database = odoo.database
    with database.env():
        rows = list(database.model("sale.order").rows.values())
    return Counter(str(row["client_order_ref"]) for row in rows if row.get("client_order_ref"))


async def place_order(
    client: httpx.AsyncClient, base_url: str, channel: str, sku: str, quantity: int = 1
) -> str:
    """A shopper's checkout on a channel's storefront; returns channelhub's order key."""
    body: dict[str, Any] = {"line_items": [{"sku": sku, "quantity": quantity}]}
    if channel == "shopify":
        body["financial_status"] = "paid"
    reply = await client.post(f"{base_url}/_sandbox/orders", json=body)
    assert reply.status_code == 201, reply.text
    payload = reply.json()
    return f"{channel}:{(payload.get('order') or payload)['id']}"
