"""The publisher's and reconciliation's own reads of `channel_listing` that `ListingRepository`
does not offer (yet): kept here, in one place, as candidates to move into the store.

- `at_risk_dirty`: dirty listings whose channel is about to show too much (desired near zero or
  below the acknowledged value), lowest first. `ListingRepository.dirty` returns the longest
  waiting rows first; behind a large backlog (the first publish of 10,000 SKUs on a rate-limited
  shop takes minutes) a SKU that just sold out would wait its turn. Reading this window as well
  lets the risk order reach it at once.
- `listed_quantities`: desired and acknowledged quantity of every tracked listing of a channel,
  without building full `ListingState`s (reconciliation reads the whole catalogue).
"""

from __future__ import annotations

import sqlalchemy as sa

from channelhub.domain import Sku
from channelhub.store.repositories import ListingState
from channelhub.store.state_tables import channel_listing as table


def at_risk_dirty(
    connection: sa.Connection, channel: str, near_zero: int, limit: int, *, dropping: bool = True
) -> list[ListingState]:
    """Dirty listings of `channel` whose desired quantity is `≤ near_zero` or (with `dropping`)
    below the acknowledged one, lowest desired quantity first (prices are left out: not needed
    here)."""
    at_risk = table.c.desired_quantity <= near_zero
    if dropping:
        at_risk = sa.or_(at_risk, table.c.desired_quantity < table.c.acknowledged_quantity)
    query = (
        sa.select(
            table.c.sku,
            table.c.item_ids,
            table.c.pack_size,
            table.c.desired_quantity,
            table.c.acknowledged_quantity,
            table.c.desired_at,
            table.c.acknowledged_at,
            table.c.last_error,
        )
        .where(
            table.c.channel == channel,
            table.c.dirty == sa.true(),
            table.c.desired_quantity.is_not(None),
            at_risk,
        )
        .order_by(table.c.desired_quantity, table.c.desired_at, table.c.sku)
        .limit(limit)
    )
    return [
        ListingState(
            channel=channel,
            sku=Sku(row.sku),
            item_ids=tuple(sorted((str(k), str(v)) for k, v in (row.item_ids or {}).items())),
            pack_size=row.pack_size,
            desired_quantity=row.desired_quantity,
            acknowledged_quantity=row.acknowledged_quantity,
            desired_price=None,
            acknowledged_price=None,
            desired_at=row.desired_at,
            acknowledged_at=row.acknowledged_at,
            last_error=row.last_error,
        )
        for row in connection.execute(query)
    ]


def listed_quantities(connection: sa.Connection, channel: str) -> list[tuple[str, int, int | None]]:
    """(sku, desired, acknowledged) of every listing of `channel` that has a desired quantity and
    whose stock the channel tracks (untracked listings show no quantity to compare), by SKU."""
    query = (
        sa.select(table.c.sku, table.c.desired_quantity, table.c.acknowledged_quantity)
        .where(
            table.c.channel == channel,
            table.c.desired_quantity.is_not(None),
            table.c.tracks_inventory == sa.true(),
        )
        .order_by(table.c.sku)
    )
    return [
        (row.sku, int(row.desired_quantity), row.acknowledged_quantity) for row in connection.execute(query)
    ]
