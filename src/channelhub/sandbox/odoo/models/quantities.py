"""Computed stock quantities of products (``qty_available``, ``free_qty``, forecasts) per context.

Mirrors ``product.product._compute_quantities_dict`` / ``_get_domain_locations``: the locations are
the children of the ``location`` context key (id, list or name), restricted to the warehouse given
by ``warehouse`` (up to 17.0) or ``warehouse_id`` (18.0+, the old key is ignored), defaulting to all
warehouses' view locations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from channelhub.sandbox.odoo.domain import descendants

if TYPE_CHECKING:
    from channelhub.sandbox.odoo.model import BaseModel
    from channelhub.sandbox.odoo.orm import Env

OPEN_MOVE_STATES = frozenset({"waiting", "confirmed", "assigned", "partially_available"})


def _ids_from(model: BaseModel, env: Env, value: Any, name_field: str) -> set[int]:
    if value in (None, False):
        return set()
    values = value if isinstance(value, (list, tuple)) else [value]
    found: set[int] = set()
    for item in values:
        if isinstance(item, int) and not isinstance(item, bool):
            found.add(item)
        elif isinstance(item, str):
            needle = item.casefold()
            found |= {
                rid for rid, row in model.rows.items() if needle in str(row.get(name_field) or "").casefold()
            }
    return found


def context_locations(env: Env) -> frozenset[int]:
    """The internal locations quantities are computed over, for the current context."""
    cache_key = (
        "context_locations",
        repr(sorted(env.context.items(), key=lambda kv: kv[0])),
        env.registry.revision,
    )
    cached = env.cache.get(cache_key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    locations = env["stock.location"]
    warehouses = env["stock.warehouse"]
    context = env.context
    warehouse_value = context.get(env.version.warehouse_context_key)
    location_value = context.get("location")
    if env.version.major >= 18:  # 18+ also reads the search-view aliases
        warehouse_value = warehouse_value or context.get("search_warehouse")
        location_value = location_value or context.get("search_location")
    warehouse_ids = _ids_from(warehouses, env, warehouse_value, "name")
    warehouse_views = {warehouses.rows[w]["view_location_id"] for w in warehouse_ids if w in warehouses.rows}
    compute_child = context.get("compute_child", True)
    if location_value not in (None, False):
        roots = _ids_from(locations, env, location_value, "complete_name")
        chosen = descendants(locations, roots) if compute_child else roots & set(locations.rows)
        if warehouse_views:
            chosen &= descendants(locations, warehouse_views)
    elif warehouse_views:
        chosen = descendants(locations, warehouse_views)
    else:
        every_view = {
            row["view_location_id"] for row in warehouses.rows.values() if row.get("view_location_id")
        }
        chosen = descendants(locations, every_view)
    result = frozenset(chosen)
    env.cache[cache_key] = result
    return result


def product_quantities(env: Env, product_ids: list[int]) -> dict[int, dict[str, float]]:
    cache_key = ("product_quantities", tuple(product_ids), id(env.context), env.registry.revision)
    cached = env.cache.get(cache_key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    inside = context_locations(env)
    quants = env["stock.quant"]
    moves = env["stock.move"]
    quant_index = quants.indexes["product_id"]
    move_index = moves.indexes["product_id"]
    result: dict[int, dict[str, float]] = {}
    for pid in product_ids:
        on_hand = reserved = incoming = outgoing = 0.0
        for qid in quant_index.get(pid, ()):
            quant = quants.rows[qid]
            if quant["location_id"] in inside:
                on_hand += quant.get("quantity") or 0.0
                reserved += quant.get("reserved_quantity") or 0.0
        for mid in move_index.get(pid, ()):
            move = moves.rows[mid]
            if move.get("state") not in OPEN_MOVE_STATES:
                continue
            source_in = move["location_id"] in inside
            dest_in = move["location_dest_id"] in inside
            if dest_in and not source_in:
                incoming += move.get("product_uom_qty") or 0.0
            elif source_in and not dest_in:
                outgoing += move.get("product_uom_qty") or 0.0
        result[pid] = {
            "qty_available": on_hand,
            "free_qty": on_hand - reserved,
            "incoming_qty": incoming,
            "outgoing_qty": outgoing,
            "virtual_available": on_hand + incoming - outgoing,
        }
    env.cache[cache_key] = result
    return result
