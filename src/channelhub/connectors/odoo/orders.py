"""Sale orders in Odoo: created exactly once, confirmed, cancelled.

Idempotency key: `client_order_ref` (e.g. `shopify:1234`). Creating is look-up first, then create,
one attempt at a time: after *any* transient failure the next attempt starts with the look-up
again, because a timeout or a 502/504 can hide an order that Odoo did create. So a retry never
makes a second order. (Two separate processes racing on the same key are prevented upstream by
per-key ordering in the engine; Odoo itself has no unique constraint on `client_order_ref`.)

Confirm and cancel read the order state before acting and again after a failure, so they are safe
to retry and to repeat.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from channelhub.connectors.odoo.client import OdooClient
from channelhub.connectors.odoo.errors import (
    OdooMissingError,
    OdooUserError,
    OdooValidationError,
    is_transient,
)
from channelhub.connectors.odoo.values import many2one_id, text
from channelhub.domain import Order


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: Decimal | int
    unit_price: Decimal | None = None  # None: let the Odoo pricelist price it


@dataclass(frozen=True)
class SaleOrderRequest:
    client_order_ref: str  # the idempotency key, e.g. "shopify:1234"
    partner_id: int
    lines: Sequence[OrderLine]
    origin: str = ""
    warehouse_id: int | None = None
    pricelist_id: int | None = None
    note: str = ""

    @classmethod
    def from_order(
        cls,
        order: Order,
        *,
        partner_id: int,
        warehouse_id: int | None = None,
        pricelist_id: int | None = None,
    ) -> SaleOrderRequest:
        """The Odoo order for a canonical channel order; the key is `<channel>:<channel order id>`."""
        key = f"{order.channel}:{order.channel_order_id}"
        return cls(
            client_order_ref=key,
            partner_id=partner_id,
            lines=[OrderLine(str(line.sku), line.quantity, line.unit_price.amount) for line in order.lines],
            origin=key,
            warehouse_id=warehouse_id,
            pricelist_id=pricelist_id,
        )


@dataclass(frozen=True)
class SaleOrderState:
    id: int
    name: str
    state: str
    client_order_ref: str
    locked: bool
    picking_ids: tuple[int, ...]
    created: bool = False  # True only for the call that created it


class _KeyLocks:
    """One in-flight create per key inside this process (the look-up/create pair is not atomic).
    Locks live only while someone holds or awaits them, so keys do not accumulate."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


_creating = _KeyLocks()


def _state_of(row: dict[str, Any], client: OdooClient, created: bool = False) -> SaleOrderState:
    return SaleOrderState(
        id=int(row["id"]),
        name=str(row.get("name") or ""),
        state=str(row.get("state") or ""),
        client_order_ref=text(row.get("client_order_ref")) or "",
        locked=client.version.is_sale_order_locked(row),
        picking_ids=tuple(int(i) for i in row.get("picking_ids") or ()),
        created=created,
    )


async def find_sale_order(client: OdooClient, client_order_ref: str) -> SaleOrderState | None:
    rows = await client.execute_kw(
        "sale.order",
        "search_read",
        [[("client_order_ref", "=", client_order_ref)]],
        {"fields": client.version.sale_order_fields, "order": "id asc", "limit": 2},
    )
    return _state_of(rows[0], client) if rows else None


async def read_sale_order(client: OdooClient, order_id: int) -> SaleOrderState:
    rows = await client.execute_kw("sale.order", "read", [[order_id], client.version.sale_order_fields])
    if not rows:
        raise OdooMissingError(f"sale order {order_id} does not exist", model="sale.order", method="read")
    return _state_of(rows[0], client)


async def _product_ids(client: OdooClient, skus: list[str]) -> dict[str, int]:
    found = client.product_ids.known(skus)
    wanted = [sku for sku in skus if sku not in found]
    if wanted:
        rows = await client.execute_kw(
            "product.product",
            "search_read",
            [[("default_code", "in", wanted)]],
            {"fields": ["default_code"], "context": {"active_test": False}},
        )
        looked_up = {str(row["default_code"]): int(row["id"]) for row in rows}
        client.product_ids.remember(looked_up)
        found.update(looked_up)
    return found


async def _order_values(client: OdooClient, request: SaleOrderRequest) -> dict[str, Any]:
    if not request.lines:
        raise OdooValidationError("a sale order needs at least one line", model="sale.order", method="create")
    skus = sorted({line.sku for line in request.lines})
    product_ids = await _product_ids(client, skus)
    missing = [sku for sku in skus if sku not in product_ids]
    if missing:
        raise OdooValidationError(
            f"no Odoo product with SKU {', '.join(missing)}", model="sale.order", method="create"
        )
    order_lines = []
    for line in request.lines:
        values: dict[str, Any] = {
            "product_id": product_ids[line.sku],
            "product_uom_qty": Decimal(line.quantity),
        }
        if line.unit_price is not None:
            values["price_unit"] = line.unit_price
        order_lines.append((0, 0, values))
    values = {
        "partner_id": request.partner_id,
        "client_order_ref": request.client_order_ref,
        "origin": request.origin or request.client_order_ref,
        "order_line": order_lines,
    }
    if request.warehouse_id is not None:
        values["warehouse_id"] = request.warehouse_id
    if request.pricelist_id is not None:
        values["pricelist_id"] = request.pricelist_id
    if request.note:
        values["note"] = request.note
    return values


async def ensure_sale_order(
    client: OdooClient, request: SaleOrderRequest, *, read_back: bool = True
) -> SaleOrderState:
    """The order for `request.client_order_ref`, created if (and only if) Odoo does not have it.
    `read_back=False` saves the read after a create: the state returned is then the one every
    new order has (draft, no pickings), without the name Odoo gave it."""
    if not request.client_order_ref.strip():
        raise OdooValidationError("client_order_ref (the idempotency key) is required", model="sale.order")
    async with _creating.hold(request.client_order_ref):
        values: dict[str, Any] | None = None
        attempt = 0
        while True:
            attempt += 1
            existing = await find_sale_order(client, request.client_order_ref)  # retried reads
            if existing is not None:
                return existing
            values = values or await _order_values(client, request)
            try:
                order_id = await client.act("sale.order", "create", [values])
            except Exception as error:
                if not await client.back_off(attempt, error, retryable=is_transient(error)):
                    client.product_ids.forget(line.sku for line in request.lines)
                    raise
                continue
            if not read_back:
                return SaleOrderState(
                    int(order_id), "", "draft", request.client_order_ref, False, (), created=True
                )
            state = await read_sale_order(client, int(order_id))
            return replace(state, created=True)


async def _until(
    client: OdooClient,
    order_id: int,
    done: Callable[[SaleOrderState], bool],
    act: Callable[[SaleOrderState], Awaitable[None]],
    known: SaleOrderState | None = None,
    after: Callable[[SaleOrderState], SaleOrderState] | None = None,
) -> SaleOrderState:
    """Read state; if not `done`, `act` once; on transient failure re-read before acting again.
    `known`: a state the caller just read, used instead of the first read. `after`: the state an
    act that returned leaves (no read to verify it); None reads it back."""
    attempt = 0
    while True:
        attempt += 1
        order = known if known is not None and attempt == 1 else await read_sale_order(client, order_id)
        if done(order):
            return order
        try:
            await act(order)
        except Exception as error:
            if not await client.back_off(attempt, error):
                raise
            continue
        if after is not None:
            return after(order)


async def confirm_sale_order(
    client: OdooClient, order_id: int, *, known_state: str | None = None, read_after: bool = True
) -> SaleOrderState:
    """Confirm (`action_confirm`: reserves stock and creates the delivery picking). `known_state`:
    the order's state as the caller just read it (skips the read before acting).
    `read_after=False` trusts a returned `action_confirm` (Odoo raises when it cannot confirm):
    the state returned is then `sale`, without the pickings' ids and name a read would add."""

    async def confirm(order: SaleOrderState) -> None:
        if order.state == "cancel":
            raise OdooUserError(
                f"sale order {order.name} is cancelled", model="sale.order", method="action_confirm"
            )
        await client.act("sale.order", "action_confirm", [[order_id]])

    known = None
    if known_state in ("draft", "sent"):  # to act on at once; any other state is read first
        known = SaleOrderState(order_id, "", known_state, "", locked=False, picking_ids=())
    after = None if read_after else (lambda o: replace(o, state="sale"))
    return await _until(client, order_id, lambda o: o.state in ("sale", "done"), confirm, known, after)


async def cancel_sale_order(client: OdooClient, order_id: int) -> SaleOrderState:
    """Cancel without the interactive warning wizard; a locked order cannot be cancelled."""
    context = client.version.cancel_context

    async def cancel(order: SaleOrderState) -> None:
        if order.locked:
            raise OdooUserError(
                f"sale order {order.name} is locked; unlock it in Odoo first",
                model="sale.order",
                method="action_cancel",
            )
        result = await client.act("sale.order", "action_cancel", [[order_id]], {"context": context})
        if isinstance(result, dict) and result.get("res_model") == "sale.order.cancel":
            # A server that still answers with the wizard: run it the way its button does.
            wizard_id = await client.act(
                "sale.order.cancel", "create", [{"order_id": order_id}], {"context": context}
            )
            await client.act("sale.order.cancel", "action_cancel", [[wizard_id]], {"context": context})

    return await _until(client, order_id, lambda o: o.state == "cancel", cancel)


async def order_pickings(client: OdooClient, order_id: int) -> list[dict[str, Any]]:
    """Pickings of an order (delivery first), with state and backorder link."""
    return list(
        await client.execute_kw(
            "stock.picking",
            "search_read",
            [[("sale_id", "=", order_id)]],
            {"fields": ["name", "state", "backorder_id", "origin"], "order": "id asc"},
        )
    )


def picking_backorder_of(row: dict[str, Any]) -> int | None:
    return many2one_id(row.get("backorder_id"))
