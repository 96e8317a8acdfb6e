"""Change polling on `write_date`, with a cursor that never misses ties.

Many records share one `write_date` (Odoo stamps the transaction time, to the second, on every row
a batch touches), so a cursor of `write_date` alone either re-reads or skips rows. The cursor is
the pair (write_date, id) and the query asks for rows strictly after it in that order:

    write_date > W  or  (write_date = W and id > I)      ordered by write_date, id

Odoo shows `write_date` to the second, so a row rewritten in the same second as the cursor but with
a lower id would sort *before* it. While the cursor's second is younger than `settle_s`, the next
poll therefore re-reads that whole second (the returned cursor is (W, 0)); once it has settled the
cursor becomes exact. Re-delivered rows are harmless to a level-triggered consumer.

Caveat (Odoo's, not ours): `write_date` is the *start* time of the writing transaction, so a long
transaction can commit rows stamped before rows already seen. Consumers that need certainty pass
`overlap_s` to re-read a short window (harmless for channelhub's level-triggered engine) and still
reconcile periodically. Deleted rows are not visible to polling at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from channelhub.connectors.odoo.client import OdooClient
from channelhub.connectors.odoo.errors import OdooProtocolError
from channelhub.connectors.odoo.values import format_datetime, parse_datetime

EPOCH = "1970-01-01 00:00:00"

# What the engine needs from each model that feeds it.
PRODUCT_CHANGE_FIELDS = (
    "default_code", "barcode", "name", "active", "list_price", "standard_price", "uom_id", "write_date",
)  # fmt: skip
QUANT_CHANGE_FIELDS = ("product_id", "location_id", "quantity", "reserved_quantity", "write_date")
PRICELIST_ITEM_CHANGE_FIELDS = (
    "pricelist_id", "applied_on", "product_id", "product_tmpl_id", "compute_price", "fixed_price",
    "min_quantity", "date_start", "date_end", "write_date",
)  # fmt: skip


@dataclass(frozen=True, order=True)
class ChangeCursor:
    """Position in a model's change stream: everything up to (write_date, id) has been read."""

    write_date: str = EPOCH
    id: int = 0

    def encode(self) -> str:
        return f"{self.write_date}|{self.id}"

    @classmethod
    def decode(cls, raw: str) -> ChangeCursor:
        write_date, separator, record_id = raw.rpartition("|")
        try:
            valid = bool(separator) and record_id.isdigit() and parse_datetime(write_date) is not None
        except OdooProtocolError:
            valid = False
        if not valid:
            raise ValueError(f"not a change cursor: {raw!r}")
        return cls(write_date, int(record_id))

    def domain(self) -> list[Any]:
        return ["|", ("write_date", ">", self.write_date), "&", ("write_date", "=", self.write_date),
                ("id", ">", self.id)]  # fmt: skip


@dataclass(frozen=True)
class ChangeBatch:
    model: str
    records: tuple[dict[str, Any], ...]
    cursor: ChangeCursor
    has_more: bool


async def read_changes(
    client: OdooClient,
    model: str,
    cursor: ChangeCursor,
    fields: Sequence[str],
    *,
    domain: Sequence[Any] = (),
    limit: int = 1000,
    overlap_s: float = 0.0,
    settle_s: float = 2.0,
    now: datetime | None = None,
    context: Mapping[str, Any] | None = None,
) -> ChangeBatch:
    """One batch of records of `model` written after `cursor`, and the cursor after them."""
    start = cursor
    if overlap_s > 0 and cursor.write_date != EPOCH:
        moment = parse_datetime(cursor.write_date)
        assert moment is not None  # cursors are built from valid datetimes
        start = ChangeCursor(format_datetime(moment - timedelta(seconds=overlap_s)), 0)
    wanted = list(dict.fromkeys([*fields, "write_date"]))
    rows = await client.execute_kw(
        model,
        "search_read",
        [[*domain, *start.domain()]],
        {"fields": wanted, "limit": limit, "order": "write_date asc, id asc", "context": dict(context or {})},
    )
    if not isinstance(rows, list):
        raise OdooProtocolError(
            f"search_read returned {type(rows).__name__}", model=model, method="search_read"
        )
    next_cursor = cursor
    for row in rows:
        stamp = row.get("write_date")
        if not isinstance(stamp, str):
            raise OdooProtocolError(f"{model} record {row.get('id')} has no write_date", model=model)
        seen = ChangeCursor(stamp[:19], int(row["id"]))
        next_cursor = max(next_cursor, seen)
    has_more = len(rows) >= limit
    if not has_more and next_cursor.write_date != EPOCH:
        stamp = parse_datetime(next_cursor.write_date)
        current = now or client.clock.now()
        if stamp is not None and stamp > current - timedelta(seconds=settle_s):
            next_cursor = ChangeCursor(next_cursor.write_date, 0)  # the second may still change
    return ChangeBatch(model, tuple(rows), next_cursor, has_more=has_more)


async def product_changes(client: OdooClient, cursor: ChangeCursor, *, limit: int = 1000) -> ChangeBatch:
    """Products created, edited or archived since `cursor` (archived ones included on purpose)."""
    return await read_changes(
        client, "product.product", cursor, PRODUCT_CHANGE_FIELDS, limit=limit, context={"active_test": False}
    )


async def quant_changes(client: OdooClient, cursor: ChangeCursor, *, limit: int = 1000) -> ChangeBatch:
    return await read_changes(client, "stock.quant", cursor, QUANT_CHANGE_FIELDS, limit=limit)


async def pricelist_item_changes(
    client: OdooClient, cursor: ChangeCursor, *, limit: int = 1000
) -> ChangeBatch:
    return await read_changes(
        client, "product.pricelist.item", cursor, PRICELIST_ITEM_CHANGE_FIELDS, limit=limit
    )
