"""Operator state the service keeps besides the store's: warehouse status overrides and SKU
suppressions (created by Alembic revision `0003_service`).

The landscape file says how each warehouse normally is (`online`, `on_hold`); an operator's
`channelhub warehouse hold|release|offline|online NAME` is recorded here and wins over the file
until changed again, so a restart keeps it. Suppressions switch a SKU off on one channel (it shows
0) until lifted. Like the store's repositories, these work inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from channelhub.domain import Sku, Suppression
from channelhub.store.db import metadata
from channelhub.store.repositories._sql import chunks, insert_for
from channelhub.store.state_tables import CODE, SKU, UtcDateTime

warehouse_status = sa.Table(
    "warehouse_status",
    metadata,
    sa.Column("warehouse", CODE, primary_key=True),
    sa.Column("online", sa.Boolean, nullable=False),
    sa.Column("on_hold", sa.Boolean, nullable=False),
    sa.Column("reason", sa.String(500), nullable=False, server_default=""),
    sa.Column("changed_by", sa.String(255), nullable=False, server_default=""),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

sku_suppression = sa.Table(
    "sku_suppression",
    metadata,
    sa.Column("channel", CODE, primary_key=True),
    sa.Column("sku", SKU, primary_key=True),
    sa.Column("reason", sa.String(500), nullable=False, server_default=""),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

SERVICE_TABLES = (warehouse_status, sku_suppression)


@dataclass(frozen=True, slots=True)
class WarehouseOverride:
    warehouse: str
    online: bool
    on_hold: bool
    reason: str
    changed_by: str
    updated_at: datetime


class OperatorStateRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    # -- warehouses ----------------------------------------------------------------------------

    def set_warehouse(self, override: WarehouseOverride) -> None:
        insert = insert_for(self._connection, warehouse_status)
        new = insert.excluded
        self._connection.execute(
            insert.on_conflict_do_update(
                index_elements=[warehouse_status.c.warehouse],
                set_={
                    "online": new.online,
                    "on_hold": new.on_hold,
                    "reason": new.reason,
                    "changed_by": new.changed_by,
                    "updated_at": new.updated_at,
                },
            ),
            {
                "warehouse": override.warehouse,
                "online": override.online,
                "on_hold": override.on_hold,
                "reason": override.reason,
                "changed_by": override.changed_by,
                "updated_at": override.updated_at,
            },
        )

    def warehouses(self) -> dict[str, WarehouseOverride]:
        rows = self._connection.execute(sa.select(warehouse_status).order_by(warehouse_status.c.warehouse))
        return {
            row.warehouse: WarehouseOverride(
                row.warehouse, row.online, row.on_hold, row.reason, row.changed_by, row.updated_at
            )
            for row in rows
        }

    # -- suppressions --------------------------------------------------------------------------

    def suppress(self, channel: str, sku: Sku, reason: str, at: datetime) -> bool:
        """Switch `sku` off on `channel`; False when it already was (the first reason stays)."""
        insert = insert_for(self._connection, sku_suppression)
        result = self._connection.execute(
            insert.on_conflict_do_nothing(index_elements=[sku_suppression.c.channel, sku_suppression.c.sku]),
            {"channel": channel, "sku": sku.value, "reason": reason, "created_at": at},
        )
        return bool(result.rowcount)

    def lift(self, channel: str, sku: Sku) -> bool:
        """Lift a suppression; False when there was none."""
        result = self._connection.execute(
            sa.delete(sku_suppression).where(
                sku_suppression.c.channel == channel, sku_suppression.c.sku == sku.value
            )
        )
        return bool(result.rowcount)

    def suppressions(self, skus: Iterable[Sku] | None = None) -> list[Suppression]:
        query = sa.select(sku_suppression).order_by(sku_suppression.c.channel, sku_suppression.c.sku)
        batches = [None] if skus is None else list(chunks(sorted({sku.value for sku in skus})))
        found: list[Suppression] = []
        for batch in batches:
            selected = query if batch is None else query.where(sku_suppression.c.sku.in_(batch))
            found.extend(
                Suppression(channel=row.channel, sku=Sku(row.sku), reason=row.reason or "suppressed")
                for row in self._connection.execute(selected)
            )
        return found
