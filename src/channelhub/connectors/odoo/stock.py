"""Stock positions per SKU, warehouse and location, read from Odoo's `stock.quant`.

One pass reads warehouses and internal locations, resolves SKUs (`default_code`) to product ids in
chunks, then reads the quants of those products in internal locations, chunk by chunk and page by
page (keyset on id), several chunks at once under the client's adaptive concurrency limit. The
result maps onto the canonical `StockPosition` (on hand, reserved, hold per SKU × warehouse) and
keeps the per-location rows that explain it.

Quality hold: Odoo has no "hold" flag on locations, so the deployer says which internal locations
hold stock that must not be sold: explicit location ids, and/or name markers ("Quality", "Hold",
"Quarantine" by default) matched against the location's full name.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from channelhub.connectors.odoo.client import OdooClient
from channelhub.connectors.odoo.values import many2one_id, text, whole_down, whole_up
from channelhub.domain import (
    InvalidValue,
    Location,
    LocationUsage,
    QuantRow,
    Sku,
    StockPosition,
    Warehouse,
    stock_positions_from_quants,
)

QUANT_FIELDS = ("product_id", "location_id", "quantity", "reserved_quantity")
LOCATION_FIELDS = ("complete_name", "name", "usage", "parent_path", "location_id")
WAREHOUSE_FIELDS = ("code", "name", "view_location_id", "lot_stock_id")
TOPOLOGY_TTL_S = 60.0  # how long targeted re-reads reuse the warehouses and locations read


@dataclass(frozen=True)
class HoldPolicy:
    """Which internal locations are quality hold (stock on hand that must not be sold)."""

    location_ids: frozenset[int] = frozenset()
    name_markers: tuple[str, ...] = ("quality", "hold", "quarantine")

    def is_hold(self, location_id: int, full_name: str) -> bool:
        if location_id in self.location_ids:
            return True
        lowered = full_name.lower()
        return any(marker in lowered for marker in self.name_markers)


@dataclass(frozen=True)
class OdooWarehouse:
    id: int
    code: str
    name: str
    view_location_id: int
    stock_location_id: int | None


@dataclass(frozen=True)
class OdooLocation:
    id: int
    full_name: str
    warehouse_code: str | None
    is_hold: bool


@dataclass(frozen=True)
class StockReport:
    """What Odoo holds for the requested SKUs, per warehouse and per location."""

    positions: tuple[StockPosition, ...]
    quants: tuple[QuantRow, ...]
    locations: tuple[Location, ...]
    warehouses: tuple[Warehouse, ...]
    unknown_skus: tuple[str, ...] = ()
    unusable_codes: tuple[str, ...] = ()
    quant_records: int = 0
    odoo_calls: int = 0
    location_ids: dict[str, int] = field(default_factory=dict)


def _record_id(value: Any) -> int:
    """A many2one read with or without display name (`[7, "WH/Stock"]` or `7`); 0 when empty."""
    if type(value) is int:
        return value
    return many2one_id(value) or 0


def warehouse_code(raw: str, warehouse_id: int) -> str:
    """Odoo codes may hold spaces or accents; channelhub codes may not (`WH 2` → `WH-2`)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", raw.strip())[:64].strip("-_.")
    return cleaned or f"WH{warehouse_id}"


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


class StockReader:
    def __init__(
        self,
        client: OdooClient,
        *,
        hold: HoldPolicy | None = None,
        sku_chunk: int = 1000,
        quant_chunk: int = 2000,
        quant_page: int = 5000,
        scan_threshold: int = 5000,
        partitions: int = 4,
        topology_ttl_s: float = TOPOLOGY_TTL_S,
    ) -> None:
        self.client = client
        self.topology_ttl_s = topology_ttl_s
        self._topology: tuple[float, list[OdooWarehouse], list[OdooLocation]] | None = None
        self.hold = hold or HoldPolicy()
        self.sku_chunk = sku_chunk
        self.quant_chunk = quant_chunk
        self.quant_page = quant_page
        self.scan_threshold = scan_threshold
        self.partitions = max(1, partitions)

    async def topology(self, *, fresh: bool = False) -> tuple[list[OdooWarehouse], list[OdooLocation]]:
        """The warehouses and their internal locations. Targeted re-reads (a few SKUs, as stock
        notifications ask during a sale) use the copy read within `topology_ttl_s` instead of two
        more calls each; full reads (`fresh`: snapshot, reconciliation) always read it again. A
        new warehouse or location is thus seen at once by full reads, within the TTL by others."""
        now = time.monotonic()
        if not fresh and self._topology is not None and now - self._topology[0] < self.topology_ttl_s:
            return self._topology[1], self._topology[2]
        warehouses = await self.warehouses()
        locations = await self.internal_locations(warehouses)
        self._topology = (now, warehouses, locations)
        return warehouses, locations

    async def warehouses(self) -> list[OdooWarehouse]:
        rows = await self.client.search_read_all("stock.warehouse", [], WAREHOUSE_FIELDS)
        result = []
        for row in rows:
            view = many2one_id(row.get("view_location_id"))
            if view is None:
                continue
            result.append(
                OdooWarehouse(
                    id=int(row["id"]),
                    code=warehouse_code(str(row.get("code") or ""), int(row["id"])),
                    name=str(row.get("name") or ""),
                    view_location_id=view,
                    stock_location_id=many2one_id(row.get("lot_stock_id")),
                )
            )
        return result

    async def internal_locations(self, warehouses: Iterable[OdooWarehouse]) -> list[OdooLocation]:
        """Internal locations, each assigned to the warehouse whose view location is its ancestor."""
        by_view = {warehouse.view_location_id: warehouse.code for warehouse in warehouses}
        rows = await self.client.search_read_all(
            "stock.location", [("usage", "=", "internal")], LOCATION_FIELDS
        )
        locations = []
        for row in rows:
            location_id = int(row["id"])
            ancestors = [int(part) for part in str(row.get("parent_path") or "").split("/") if part.isdigit()]
            warehouse = next((by_view[a] for a in ancestors if a in by_view), None)
            full_name = text(row.get("complete_name")) or text(row.get("name")) or f"location-{location_id}"
            locations.append(
                OdooLocation(location_id, full_name, warehouse, self.hold.is_hold(location_id, full_name))
            )
        return locations

    async def product_ids_by_sku(self, skus: Sequence[str]) -> dict[str, int]:
        """Product ids for SKUs (`default_code`), archived products too: looked up in chunks, or
        for a large share of the catalog read in full (fewer, cheaper calls) and filtered here.
        Ids found are remembered in `client.product_ids`: re-reading a few hot SKUs, as stock
        notifications do during a sale, then costs only the quant read."""
        known = self.client.product_ids.known(skus)
        wanted_now = [sku for sku in skus if sku not in known]
        found = await self._lookup_product_ids(wanted_now) if wanted_now else {}
        self.client.product_ids.remember(found)
        return {**known, **found}

    async def _lookup_product_ids(self, skus: Sequence[str]) -> dict[str, int]:
        if len(skus) >= self.scan_threshold:
            wanted = set(skus)
            every = await self._product_ids([("default_code", "!=", False)], {"active_test": False})
            return {code: product_id for code, product_id in every.items() if code in wanted}

        async def lookup(chunk: Sequence[str]) -> dict[str, int]:
            return await self._product_ids([("default_code", "in", list(chunk))], {"active_test": False})

        found: dict[str, int] = {}
        for part in await asyncio.gather(*(lookup(chunk) for chunk in _chunks(list(skus), self.sku_chunk))):
            for code, product_id in part.items():
                found.setdefault(code, product_id)
        return found

    async def all_product_ids(self) -> dict[str, int]:
        """Every storable product with a SKU."""
        return await self._product_ids(
            [("default_code", "!=", False), *self.client.version.storable_product_domain]
        )

    async def _product_ids(self, domain: list[Any], context: dict[str, Any] | None = None) -> dict[str, int]:
        found: dict[str, int] = {}
        pages = self.client.search_read_pages(
            "product.product", domain, ["default_code"], page_size=self.quant_page, context=context
        )
        async for page in pages:
            for row in page:
                code = text(row.get("default_code"))
                if code is not None:
                    found.setdefault(code, int(row["id"]))
        return found

    async def quants(self, product_ids: Sequence[int], location_ids: Sequence[int]) -> list[dict[str, Any]]:
        """Quants of the products in the locations: by product chunks for a few SKUs, by a
        partitioned scan of all quants in the locations when most of the catalog is asked for."""
        if len(product_ids) >= self.scan_threshold:
            wanted = set(product_ids)
            rows = await self.scan_quants(location_ids)
            return [row for row in rows if _record_id(row["product_id"]) in wanted]
        return await self.quants_by_product(product_ids, location_ids)

    async def scan_quants(self, location_ids: Sequence[int]) -> list[dict[str, Any]]:
        """All quants in the locations, as `partitions` id ranges read concurrently (each range
        paged by id), so a multi-worker Odoo answers several pages at once."""
        base = [("location_id", "in", list(location_ids))]
        first = await self.client.execute_kw("stock.quant", "search", [base], {"limit": 1, "order": "id asc"})
        last = await self.client.execute_kw("stock.quant", "search", [base], {"limit": 1, "order": "id desc"})
        if not first or not last:
            return []
        low, high = int(first[0]), int(last[0])
        step = max(1, (high - low + self.partitions) // self.partitions)
        bounds = [(start, min(start + step, high + 1)) for start in range(low, high + 1, step)]

        async def read_range(start: int, stop: int) -> list[dict[str, Any]]:
            domain = [*base, ("id", ">=", start), ("id", "<", stop)]
            return await self.client.search_read_all(
                "stock.quant", domain, QUANT_FIELDS, page_size=self.quant_page, bare_many2one=True
            )

        rows: list[dict[str, Any]] = []
        for part in await asyncio.gather(*(read_range(start, stop) for start, stop in bounds)):
            rows.extend(part)
        return rows

    async def quants_by_product(
        self, product_ids: Sequence[int], location_ids: Sequence[int]
    ) -> list[dict[str, Any]]:
        async def read_chunk(chunk: Sequence[int]) -> list[dict[str, Any]]:
            domain = [("product_id", "in", list(chunk)), ("location_id", "in", list(location_ids))]
            return await self.client.search_read_all(
                "stock.quant", domain, QUANT_FIELDS, page_size=self.quant_page, bare_many2one=True
            )

        chunks = _chunks(list(product_ids), self.quant_chunk)
        rows: list[dict[str, Any]] = []
        for chunk_rows in await asyncio.gather(*(read_chunk(chunk) for chunk in chunks)):
            rows.extend(chunk_rows)
        return rows

    async def read(self, skus: Iterable[str] | None = None) -> StockReport:
        """Stock for `skus` (all storable products with a SKU when None)."""
        calls_before = self.client.stats.calls
        odoo_warehouses, odoo_locations = await self.topology(fresh=skus is None)
        if skus is None:
            ids_by_sku = await self.all_product_ids()
            unknown: list[str] = []
        else:
            wanted = list(dict.fromkeys(skus))
            ids_by_sku = await self.product_ids_by_sku(wanted)
            unknown = [sku for sku in wanted if sku not in ids_by_sku]
        usable: dict[int, Sku] = {}
        unusable: list[str] = []
        for code, product_id in ids_by_sku.items():
            try:
                usable[product_id] = Sku(code)
            except InvalidValue:
                unusable.append(code)  # a default_code channelhub cannot use as a SKU
        stock_locations = [location for location in odoo_locations if location.warehouse_code]
        rows = await self.quants(sorted(usable), [location.id for location in stock_locations])
        return self._report(odoo_warehouses, stock_locations, usable, rows, unknown, unusable, calls_before)

    async def read_pages(self, page_size: int | None = None) -> AsyncIterator[StockReport]:
        """Stock of every storable product with a SKU, one report per page of products (by id,
        `page_size` products each, default `quant_page`): each report is complete for its SKUs
        (all their quants are in it), so a caller can apply page after page without ever
        holding the whole catalog. A SKU two products share is read with the first one only,
        as `read` does."""
        calls_before = self.client.stats.calls
        odoo_warehouses, odoo_locations = await self.topology(fresh=True)
        stock_locations = [location for location in odoo_locations if location.warehouse_code]
        location_ids = [location.id for location in stock_locations]
        seen: set[str] = set()
        pages = self.client.search_read_pages(
            "product.product",
            [("default_code", "!=", False), *self.client.version.storable_product_domain],
            ["default_code"],
            page_size=page_size or self.quant_page,
        )
        async for page in pages:
            usable: dict[int, Sku] = {}
            unusable: list[str] = []
            for row in page:
                code = text(row.get("default_code"))
                if code is None or code in seen:
                    continue
                seen.add(code)
                try:
                    usable[int(row["id"])] = Sku(code)
                except InvalidValue:
                    unusable.append(code)  # a default_code channelhub cannot use as a SKU
            # The ids are known now: later re-reads of these SKUs need no product lookup.
            self.client.product_ids.remember({sku.value: product_id for product_id, sku in usable.items()})
            rows = await self.quants_by_product(sorted(usable), location_ids) if usable else []
            yield self._report(odoo_warehouses, stock_locations, usable, rows, [], unusable, calls_before)
            calls_before = self.client.stats.calls

    def _report(
        self,
        odoo_warehouses: list[OdooWarehouse],
        stock_locations: list[OdooLocation],
        skus_by_product: dict[int, Sku],
        rows: list[dict[str, Any]],
        unknown: list[str],
        unusable: list[str],
        calls_before: int,
    ) -> StockReport:
        location_code = {location.id: location.full_name for location in stock_locations}
        locations = tuple(
            Location(
                code=location.full_name,
                warehouse=location.warehouse_code,
                usage=LocationUsage.INTERNAL,
                is_quality_hold=location.is_hold,
            )
            for location in stock_locations
        )
        # Several quants per SKU and location (lots, packages, owners) add up to one row. This loop
        # runs once per quant (200,000 for a large catalog): keys are plain ints, lookups local.
        totals: dict[tuple[int, int], list[int]] = {}
        setdefault = totals.setdefault
        for row in rows:
            key = (_record_id(row["product_id"]), _record_id(row["location_id"]))
            if key[0] not in skus_by_product or key[1] not in location_code:
                continue
            total = setdefault(key, [0, 0])
            total[0] += whole_down(row["quantity"])
            total[1] += whole_up(row["reserved_quantity"])
        ordered = sorted(
            totals.items(), key=lambda item: (skus_by_product[item[0][0]].value, location_code[item[0][1]])
        )
        quants = tuple(
            QuantRow(
                sku=skus_by_product[product_id],
                location=location_code[location_id],
                quantity=quantity,
                reserved=max(0, reserved),
            )
            for (product_id, location_id), (quantity, reserved) in ordered
        )
        return StockReport(
            positions=stock_positions_from_quants(quants, locations),
            quants=quants,
            locations=locations,
            warehouses=tuple(Warehouse(code=w.code, name=w.name) for w in odoo_warehouses),
            unknown_skus=tuple(unknown),
            unusable_codes=tuple(sorted(unusable)),
            quant_records=len(rows),
            odoo_calls=self.client.stats.calls - calls_before,
            location_ids={location.full_name: location.id for location in stock_locations},
        )

    async def warehouse_quantities(
        self, warehouse_id: int, product_ids: Sequence[int]
    ) -> dict[int, dict[str, float]]:
        """Odoo's own computed `qty_available`/`free_qty`/`virtual_available` for one warehouse,
        using the context key the server version reads (a cross-check of the quant arithmetic)."""
        context = self.client.version.warehouse_context(warehouse_id)
        rows = await self.client.execute_kw(
            "product.product",
            "read",
            [list(product_ids), ["qty_available", "free_qty", "virtual_available"]],
            {"context": context},
        )
        return {
            int(row["id"]): {key: float(value) for key, value in row.items() if key != "id"} for row in rows
        }
