"""``read_group``: aggregates per group, in the shape Odoo's web client and RPC callers receive.

Supports ``field`` / ``field:agg`` / ``alias:agg(field)`` aggregates (sum, min, max, avg, count,
count_distinct; numeric fields default to sum), group-bys on stored fields, ``date:day|month|year``
on dates, lazy grouping (only the first group-by, with ``<field>_count`` and ``__context``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from channelhub.sandbox.odoo.domain import search_ids
from channelhub.sandbox.odoo.errors import value_error
from channelhub.sandbox.odoo.fields import NUMERIC

if TYPE_CHECKING:
    from channelhub.sandbox.odoo.model import BaseModel
    from channelhub.sandbox.odoo.orm import Env

AGGREGATE_SPEC = re.compile(r"^(?:(\w+):)?(\w+)(?:\((\w+)\))?$")
AGGREGATORS: dict[str, Callable[[list[Any]], Any]] = {
    "sum": lambda values: sum(v for v in values if v is not False and v is not None),
    "min": lambda values: min((v for v in values if v is not False), default=False),
    "max": lambda values: max((v for v in values if v is not False), default=False),
    "avg": lambda values: (sum(v for v in values if v is not False) / len(values)) if values else False,
    "count": len,
    "count_distinct": lambda values: len({v for v in values if v is not False}),
}
DATE_LABELS = {"day": "%d %b %Y", "month": "%B %Y", "year": "%Y"}


def _aggregates(model: BaseModel, specs: Iterable[str]) -> list[tuple[str, str, str]]:
    """[(output name, field, aggregator)] from Odoo's field specs."""
    result = []
    for spec in specs:
        match = AGGREGATE_SPEC.match(spec.strip()) if isinstance(spec, str) else None
        if match is None:
            raise value_error(f"Invalid field specification {spec!r}.")
        alias, first, inner = match.groups()
        if inner:  # alias:agg(field)
            name, aggregator, output = inner, first, alias or inner
        elif alias:  # field:agg
            name, aggregator, output = alias, first, alias
        else:
            name, aggregator, output = first, "", first
        fld = model.field(name)
        if not aggregator:
            if fld.type not in NUMERIC or not fld.store or name == "id":
                continue
            aggregator = "sum"
        if aggregator not in AGGREGATORS:
            raise value_error(f"Invalid aggregation function {aggregator!r}.")
        result.append((output, name, aggregator))
    return result


def _group_key(model: BaseModel, env: Env, spec: str, ids: list[int]) -> tuple[str, str, dict[int, Any]]:
    name, _, granularity = spec.partition(":")
    fld = model.field(name)
    values = model.values_of(env, ids, name)
    if fld.type in ("date", "datetime") and values:
        fmt = DATE_LABELS.get(granularity or "month")
        if fmt is None:
            raise value_error(f"Invalid date granularity {granularity!r}")
        values = {
            rid: datetime.strptime(str(v)[:10], "%Y-%m-%d").strftime(fmt) if v else False
            for rid, v in values.items()
        }
    return spec, name, values


def read_group(
    model: BaseModel,
    env: Env,
    domain: Any,
    fields: list[str],
    groupby: Any,
    offset: int = 0,
    limit: int | None = None,
    orderby: str | bool = False,
    lazy: bool = True,
) -> list[dict[str, Any]]:
    groupbys = [groupby] if isinstance(groupby, str) else list(groupby or [])
    if not groupbys:
        raise value_error("read_group needs at least one group-by field")
    used = groupbys[:1] if lazy else groupbys
    ids = search_ids(model, env, domain or [], order="id")
    keys = [_group_key(model, env, spec, ids) for spec in used]
    aggregates = _aggregates(model, fields or [])
    groups: dict[tuple[Any, ...], list[int]] = {}
    for rid in ids:
        groups.setdefault(tuple(values[rid] or False for _, _, values in keys), []).append(rid)
    labels: dict[str, dict[Any, str]] = {}
    for spec, name, values in keys:
        fld = model.fields[name]
        if fld.type == "many2one":
            labels[spec] = env[fld.relation or ""].display_names(env, {v for v in values.values() if v})
    rows = []
    for key, members in groups.items():
        row: dict[str, Any] = {}
        group_domain = list(domain or [])
        for (spec, name, _), value in zip(keys, key, strict=True):
            row[spec] = [value, labels[spec].get(value, "")] if spec in labels and value else value
            group_domain.append((name, "=", value))
        row["__count" if not lazy else f"{used[0].partition(':')[0]}_count"] = len(members)
        for output, name, aggregator in aggregates:
            column = model.values_of(env, members, name)
            row[output] = AGGREGATORS[aggregator](list(column.values()))
        row["__domain"] = group_domain
        if lazy and len(groupbys) > 1:
            row["__context"] = {"group_by": groupbys[1:]}
        rows.append(row)
    descending = isinstance(orderby, str) and orderby.strip().lower().endswith(" desc")
    rows.sort(key=lambda r: [_sortable(r[spec]) for spec, _, _ in keys], reverse=descending)
    start = offset or 0
    return rows[start : start + limit] if limit else rows[start:]


def _sortable(value: Any) -> tuple[int, Any]:
    if value is False or value is None:
        return (1, "")
    if isinstance(value, list):
        return (0, str(value[1]).casefold())
    return (0, value.casefold() if isinstance(value, str) else value)
