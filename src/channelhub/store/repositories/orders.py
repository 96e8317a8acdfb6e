"""Order links: a channel order's key → the Odoo `sale.order` created for it, and its last state.

`record` is protected against stale events: at-least-once delivery and webhook retries (which
carry the payload as it was when first triggered) reorder messages, so an update whose source
`updated_at` is older than the stored one is refused. An equal timestamp is accepted, which makes
re-applying the same event idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from channelhub.domain import OrderStatus
from channelhub.store.repositories._sql import chunks, insert_for
from channelhub.store.state_tables import order_link as table


@dataclass(frozen=True, slots=True)
class OrderLink:
    order_key: str
    channel: str
    channel_order_id: str
    state: OrderStatus
    source_updated_at: datetime
    odoo_order_id: int | None = None


class OrderLinkRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def record(self, link: OrderLink, at: datetime) -> bool:
        """Insert or update the link; False when the stored one is newer (a stale event)."""
        insert = insert_for(self._connection, table)
        new = insert.excluded
        statement = insert.on_conflict_do_update(
            index_elements=[table.c.order_key],
            set_={
                "state": new.state,
                "source_updated_at": new.source_updated_at,
                # A later event that does not know the Odoo id must not erase it.
                "odoo_order_id": sa.func.coalesce(new.odoo_order_id, table.c.odoo_order_id),
                "updated_at": new.updated_at,
            },
            where=new.source_updated_at >= table.c.source_updated_at,
        ).returning(table.c.order_key)
        params = {
            "order_key": link.order_key,
            "channel": link.channel,
            "channel_order_id": link.channel_order_id,
            "odoo_order_id": link.odoo_order_id,
            "state": OrderStatus(link.state).value,
            "source_updated_at": link.source_updated_at,
            "updated_at": at,
        }
        # RETURNING, not rowcount: drivers disagree on rowcount for INSERT .. ON CONFLICT.
        return self._connection.execute(statement, params).first() is not None

    def link_odoo_order(self, order_key: str, odoo_order_id: int, at: datetime) -> bool:
        """Remember the `sale.order` id created for the order; False if the order is unknown."""
        statement = (
            sa.update(table)
            .where(table.c.order_key == order_key)
            .values(odoo_order_id=odoo_order_id, updated_at=at)
        )
        return self._connection.execute(statement).rowcount == 1

    def get(self, order_key: str) -> OrderLink | None:
        row = self._connection.execute(sa.select(table).where(table.c.order_key == order_key)).first()
        return None if row is None else _link(row)

    def in_state(self, order_keys: Iterable[str], state: OrderStatus) -> set[str]:
        """Those of `order_keys` whose link is in `state` (one query per chunk, not one per key)."""
        found: set[str] = set()
        for batch in chunks(sorted(set(order_keys))):
            query = sa.select(table.c.order_key).where(
                table.c.order_key.in_(batch), table.c.state == OrderStatus(state).value
            )
            found.update(key for (key,) in self._connection.execute(query))
        return found

    def by_odoo_order(self, odoo_order_id: int) -> OrderLink | None:
        row = self._connection.execute(sa.select(table).where(table.c.odoo_order_id == odoo_order_id)).first()
        return None if row is None else _link(row)


def _link(row: sa.Row[Any]) -> OrderLink:
    return OrderLink(
        order_key=row.order_key,
        channel=row.channel,
        channel_order_id=row.channel_order_id,
        state=OrderStatus(row.state),
        source_updated_at=row.source_updated_at,
        odoo_order_id=row.odoo_order_id,
    )
