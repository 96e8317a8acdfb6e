"""A minimal Odoo JSON-RPC caller for scenarios: what a warehouse clerk does in Odoo (receipts,
inventory adjustments) and what an auditor reads (sale orders by reference).

Scenarios talk to Odoo the way any external client does (`/jsonrpc`, `execute_kw`), so they work
against the emulator or a real Odoo and never through channelhub's own connector.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class OdooAccess:
    url: str
    db: str
    login: str
    password: str
    version: str = "17.0"  # the Odoo series, as a landscape file names it


class OdooRpcError(RuntimeError):
    """Odoo answered a call with an error."""


class OdooRpc:
    def __init__(self, access: OdooAccess, client: httpx.AsyncClient) -> None:
        self.access = access
        self._client = client
        self._ids = itertools.count(1)
        self._uid: int | None = None
        self._stock_locations: dict[str, int] = {}
        self._products: dict[str, int] = {}

    async def _call(self, service: str, method: str, *args: Any) -> Any:
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": next(self._ids),
            "params": {"service": service, "method": method, "args": list(args)},
        }
        response = await self._client.post(f"{self.access.url}/jsonrpc", json=payload, timeout=30)
        response.raise_for_status()
        body = response.json()
        if body.get("error"):
            message = body["error"].get("data", {}).get("message") or body["error"].get("message")
            raise OdooRpcError(f"{service}.{method}: {message}")
        return body.get("result")

    async def execute(
        self, model: str, method: str, args: Sequence[Any], kwargs: dict[str, Any] | None = None
    ) -> Any:
        if self._uid is None:
            uid = await self._call("common", "login", self.access.db, self.access.login, self.access.password)
            if not uid:
                raise OdooRpcError("login refused")
            self._uid = int(uid)
        access = self.access
        return await self._call(
            "object",
            "execute_kw",
            access.db,
            self._uid,
            access.password,
            model,
            method,
            list(args),
            kwargs or {},
        )

    async def stock_location(self, warehouse_code: str) -> int:
        if warehouse_code not in self._stock_locations:
            rows = await self.execute(
                "stock.warehouse",
                "search_read",
                [[("code", "=", warehouse_code)]],
                {"fields": ["lot_stock_id"]},
            )
            if not rows:
                raise OdooRpcError(f"no warehouse {warehouse_code!r}")
            self._stock_locations[warehouse_code] = int(rows[0]["lot_stock_id"][0])
        return self._stock_locations[warehouse_code]

    async def product(self, sku: str) -> int:
        if sku not in self._products:
            ids = await self.execute(
                "product.product", "search", [[("default_code", "=", sku)]], {"limit": 1}
            )
            if not ids:
                raise OdooRpcError(f"no product {sku!r}")
            self._products[sku] = int(ids[0])
        return self._products[sku]

    async def change_stock(self, sku: str, warehouse_code: str, delta: int) -> int:
        """An inventory adjustment (counted quantity applied) at the warehouse's stock location;
        returns the location's new quantity (never below 0)."""
        product, location = await self.product(sku), await self.stock_location(warehouse_code)
        rows = await self.execute(
            "stock.quant",
            "search_read",
            [[("product_id", "=", product), ("location_id", "=", location)]],
            {"fields": ["quantity"]},
        )
        current = int(rows[0]["quantity"]) if rows else 0
        counted = max(0, current + delta)
        quant = await self.execute(
            "stock.quant",
            "create",
            [{"product_id": product, "location_id": location, "inventory_quantity": counted}],
        )
        quant_id = quant[0] if isinstance(quant, list) else quant
        await self.execute("stock.quant", "action_apply_inventory", [[int(quant_id)]])
        return counted - current

    async def sale_order_refs(self, prefixes: Sequence[str]) -> list[str]:
        """`client_order_ref` of every sale order whose reference starts with one of `prefixes`."""
        domain: list[Any] = ["|"] * (len(prefixes) - 1) + [
            ("client_order_ref", "=like", f"{p}%") for p in prefixes
        ]
        rows = await self.execute("sale.order", "search_read", [domain], {"fields": ["client_order_ref"]})
        return [str(row["client_order_ref"]) for row in rows if row.get("client_order_ref")]
