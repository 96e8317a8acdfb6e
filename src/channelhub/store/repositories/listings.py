"""Channel listings: identity on the channel, and the publisher's level-triggered state.

Per channel and SKU the store keeps the *desired* quantity and price (what the channel should show)
and the last *acknowledged* ones (what the channel confirmed, or what reconciliation read back).
The publisher asks for `dirty()` rows and sends the difference: a burst of 100 changes to one SKU
leaves one dirty row (coalesced), and a crash loses nothing (the row stays dirty).

Acknowledging records the values that were actually sent, not "done": if the desired value moved
while the call was in flight, the row is still dirty afterwards and goes out again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from channelhub.domain import ChannelListing, Money, PackSize, Sku
from channelhub.store.repositories._sql import insert_for
from channelhub.store.state_tables import channel_listing as table


@dataclass(frozen=True, slots=True)
class ListingState:
    """Desired vs acknowledged quantity and price of one SKU on one channel."""

    channel: str
    sku: Sku
    item_ids: tuple[tuple[str, str], ...]
    pack_size: int
    desired_quantity: int | None
    acknowledged_quantity: int | None
    desired_price: Money | None
    acknowledged_price: Money | None
    desired_at: datetime | None
    acknowledged_at: datetime | None
    last_error: str | None

    @property
    def quantity_differs(self) -> bool:
        return self.desired_quantity is not None and self.desired_quantity != self.acknowledged_quantity

    @property
    def price_differs(self) -> bool:
        return self.desired_price is not None and self.desired_price != self.acknowledged_price

    @property
    def dirty(self) -> bool:
        return self.quantity_differs or self.price_differs


def _differs(desired: Any, acknowledged: Any) -> sa.ColumnElement[bool]:
    return sa.and_(desired.is_not(None), desired.is_distinct_from(acknowledged))


def _dirty(quantity: Any, acknowledged_quantity: Any, price: Any, acknowledged_price: Any) -> Any:
    """The `dirty` flag for a row whose four values are these SQL expressions."""
    return sa.or_(_differs(quantity, acknowledged_quantity), _differs(price, acknowledged_price))


class ListingRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    # --- identity -----------------------------------------------------------------------------

    def save(self, listings: Iterable[ChannelListing]) -> None:
        """Insert or update how SKUs are listed (ids, pack size, stock behaviour); desired and
        acknowledged values are left as they are."""
        params = [
            {
                "channel": listing.channel,
                "sku": listing.sku.value,
                "item_ids": dict(listing.item_ids),
                "pack_size": listing.pack_size.units,
                "tracks_inventory": listing.tracks_inventory,
                "continue_selling": listing.continue_selling,
            }
            for listing in listings
        ]
        if not params:
            return
        insert = insert_for(self._connection, table)
        new = insert.excluded
        self._connection.execute(
            insert.on_conflict_do_update(
                index_elements=[table.c.channel, table.c.sku],
                set_={
                    "item_ids": new.item_ids,
                    "pack_size": new.pack_size,
                    "tracks_inventory": new.tracks_inventory,
                    "continue_selling": new.continue_selling,
                },
            ),
            params,
        )

    def listing(self, channel: str, sku: Sku) -> ChannelListing | None:
        row = self._connection.execute(
            sa.select(table).where(table.c.channel == channel, table.c.sku == sku.value)
        ).first()
        return None if row is None else _listing(row)

    def listings(self, channel: str) -> list[ChannelListing]:
        rows = self._connection.execute(
            sa.select(table).where(table.c.channel == channel).order_by(table.c.sku)
        )
        return [_listing(row) for row in rows]

    # --- desired ------------------------------------------------------------------------------

    def set_desired_quantities(self, quantities: Iterable[tuple[str, Sku, int]], at: datetime) -> None:
        """Set what `(channel, sku)` should show; unchanged values keep their `desired_at`."""
        self._set_desired(
            [
                {"channel": c, "sku": s.value, "desired_quantity": q, "desired_at": at}
                for c, s, q in quantities
            ],
            "desired_quantity",
        )

    def set_desired_prices(self, prices: Iterable[tuple[str, Sku, Money]], at: datetime) -> None:
        """Set the price `(channel, sku)` should show (its currency replaces the listing's)."""
        self._set_desired(
            [
                {
                    "channel": c,
                    "sku": s.value,
                    "desired_price": p.amount,
                    "currency": p.currency,
                    "desired_at": at,
                }
                for c, s, p in prices
            ],
            "desired_price",
        )

    def _set_desired(self, params: list[dict[str, Any]], column: str) -> None:
        if not params:
            return
        for row in params:
            row.setdefault("item_ids", {})
            row["dirty"] = True  # a new row has nothing acknowledged yet
        insert = insert_for(self._connection, table)
        new = insert.excluded
        new_value, old_value = getattr(new, column), table.c[column]
        if column == "desired_quantity":
            dirty = _dirty(
                new_value, table.c.acknowledged_quantity, table.c.desired_price, table.c.acknowledged_price
            )
            changes: dict[str, Any] = {column: new_value}
            changed = new_value.is_distinct_from(old_value)
        else:
            dirty = _dirty(
                table.c.desired_quantity, table.c.acknowledged_quantity, new_value, table.c.acknowledged_price
            )
            changes = {column: new_value, "currency": new.currency}
            changed = sa.or_(
                new_value.is_distinct_from(old_value), new.currency.is_distinct_from(table.c.currency)
            )
        statement = insert.on_conflict_do_update(
            index_elements=[table.c.channel, table.c.sku],
            # desired_at marks when the channel first fell behind: kept while it stays behind.
            set_={
                **changes,
                "dirty": dirty,
                "desired_at": sa.case((table.c.dirty, table.c.desired_at), else_=new.desired_at),
            },
            where=changed,
        )
        self._connection.execute(statement, params)

    # --- acknowledged -------------------------------------------------------------------------

    def acknowledge_quantities(self, quantities: Iterable[tuple[str, Sku, int]], at: datetime) -> None:
        """Record quantities the channel confirmed (or reconciliation read back from it)."""
        self._acknowledge(
            [
                {"channel": c, "sku": s.value, "acknowledged_quantity": q, "acknowledged_at": at}
                for c, s, q in quantities
            ],
            "acknowledged_quantity",
        )

    def acknowledge_prices(self, prices: Iterable[tuple[str, Sku, Money]], at: datetime) -> None:
        """Record prices the channel confirmed (or reconciliation read back from it)."""
        self._acknowledge(
            [
                {
                    "channel": c,
                    "sku": s.value,
                    "acknowledged_price": p.amount,
                    "currency": p.currency,
                    "acknowledged_at": at,
                }
                for c, s, p in prices
            ],
            "acknowledged_price",
        )

    def _acknowledge(self, params: list[dict[str, Any]], column: str) -> None:
        if not params:
            return
        for row in params:
            row.update(item_ids={}, dirty=False)  # a new row has nothing desired yet
        insert = insert_for(self._connection, table)
        new = insert.excluded
        new_value = getattr(new, column)
        changes: dict[str, Any] = {
            column: new_value,
            "acknowledged_at": new.acknowledged_at,
            "last_error": None,
        }
        if column == "acknowledged_quantity":
            dirty = _dirty(
                table.c.desired_quantity, new_value, table.c.desired_price, table.c.acknowledged_price
            )
        else:
            dirty = _dirty(
                table.c.desired_quantity, table.c.acknowledged_quantity, table.c.desired_price, new_value
            )
            changes["currency"] = sa.func.coalesce(table.c.currency, new.currency)
        self._connection.execute(
            insert.on_conflict_do_update(
                index_elements=[table.c.channel, table.c.sku], set_={**changes, "dirty": dirty}
            ),
            params,
        )

    def record_channel_sale(
        self, channel: str, quantities: Mapping[Sku, int], placed_at: datetime, margin: timedelta
    ) -> None:
        """The channel sold `quantities` (its own units) at `placed_at` and took them off its stock
        itself: lower the acknowledged quantity by them where our last write to the channel
        (`acknowledged_at`) came at least `margin` before the sale. The channel then shows exactly
        that, and with the desired quantity lowered by the same order nothing is left to send.

        Sending it anyway would be harmless on a compare-and-set channel (a conflict), but on one
        without (WooCommerce) the write would overwrite any later sale not ingested yet and put
        its units back on sale. A sale that may have raced our last write (placed less than
        `margin` after it: the write may have overwritten it; `margin` covers clock skew and
        whole-second timestamps) is left alone: the desired quantity goes out as before."""
        rows = [{"c": channel, "s": sku.value, "n": n} for sku, n in sorted(quantities.items()) if n > 0]
        if not rows:
            return
        sold: sa.BindParameter[int] = sa.bindparam("n")
        new_value = sa.case(
            (table.c.acknowledged_quantity > sold, table.c.acknowledged_quantity - sold), else_=0
        )
        self._connection.execute(
            sa.update(table)
            .where(
                table.c.channel == sa.bindparam("c"),
                table.c.sku == sa.bindparam("s"),
                table.c.acknowledged_quantity.is_not(None),
                table.c.acknowledged_at <= placed_at.astimezone(UTC) - margin,
            )
            .values(
                acknowledged_quantity=new_value,
                dirty=_dirty(
                    table.c.desired_quantity, new_value, table.c.desired_price, table.c.acknowledged_price
                ),
            ),
            rows,
        )

    def record_error(self, channel: str, sku: Sku, error: str) -> None:
        """Remember why the last publish failed; the row stays dirty and is retried."""
        self._connection.execute(
            sa.update(table)
            .where(table.c.channel == channel, table.c.sku == sku.value)
            .values(last_error=error)
        )

    # --- reading state ------------------------------------------------------------------------

    def dirty(self, channel: str | None = None, limit: int = 500) -> list[ListingState]:
        """Listings whose desired value differs from the acknowledged one, longest waiting first."""
        query = sa.select(table).where(table.c.dirty == sa.true())
        if channel is not None:
            query = query.where(table.c.channel == channel)
        query = query.order_by(table.c.desired_at, table.c.channel, table.c.sku).limit(limit)
        return [_state(row) for row in self._connection.execute(query)]

    def dirty_of(self, channel: str, skus: Iterable[str]) -> list[ListingState]:
        """The listings of `skus` on `channel` that are dirty (in SKU order)."""
        wanted = sorted(set(skus))
        if not wanted:
            return []
        query = (
            sa.select(table)
            .where(table.c.channel == channel, table.c.sku.in_(wanted), table.c.dirty == sa.true())
            .order_by(table.c.sku)
        )
        return [_state(row) for row in self._connection.execute(query)]

    def count_dirty(self, channel: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(table).where(table.c.dirty == sa.true())
        if channel is not None:
            query = query.where(table.c.channel == channel)
        return int(self._connection.execute(query).scalar_one())

    def state(self, channel: str, sku: Sku) -> ListingState | None:
        row = self._connection.execute(
            sa.select(table).where(table.c.channel == channel, table.c.sku == sku.value)
        ).first()
        return None if row is None else _state(row)


def _money(amount: Decimal | None, currency: str | None) -> Money | None:
    return None if amount is None or currency is None else Money(amount, currency)


def _listing(row: sa.Row[Any]) -> ChannelListing:
    return ChannelListing(
        channel=row.channel,
        sku=Sku(row.sku),
        item_ids=tuple(sorted((str(k), str(v)) for k, v in row.item_ids.items())),
        pack_size=PackSize(row.pack_size),
        tracks_inventory=row.tracks_inventory,
        continue_selling=row.continue_selling,
    )


def _state(row: sa.Row[Any]) -> ListingState:
    return ListingState(
        channel=row.channel,
        sku=Sku(row.sku),
        item_ids=tuple(sorted((str(k), str(v)) for k, v in row.item_ids.items())),
        pack_size=row.pack_size,
        desired_quantity=row.desired_quantity,
        acknowledged_quantity=row.acknowledged_quantity,
        desired_price=_money(row.desired_price, row.currency),
        acknowledged_price=_money(row.acknowledged_price, row.currency),
        desired_at=row.desired_at,
        acknowledged_at=row.acknowledged_at,
        last_error=row.last_error,
    )
