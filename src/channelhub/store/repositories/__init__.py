"""Repositories of the domain state, all working inside the caller's transaction.

Every repository takes a `sqlalchemy.Connection`; nothing here commits. A handler opens one
transaction (`with engine.begin() as connection`), changes state through `StateRepositories`
and appends its events to the outbox on the same connection, so state and events commit together.
Writes are bulk statements (`executemany` of `INSERT ... ON CONFLICT`) on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from channelhub.store.repositories.cursors import SyncCursorRepository
from channelhub.store.repositories.exceptions import (
    ActionNotAllowed,
    BusinessExceptionRepository,
    RecordedException,
)
from channelhub.store.repositories.fences import FenceRepository
from channelhub.store.repositories.inbox import InboxEntry, WebhookDelivery, WebhookInboxRepository
from channelhub.store.repositories.listings import ListingRepository, ListingState
from channelhub.store.repositories.orders import OrderLink, OrderLinkRepository
from channelhub.store.repositories.reservations import SoftReservationRepository
from channelhub.store.repositories.stock import LocationStock, StockRepository

__all__ = [
    "ActionNotAllowed",
    "BusinessExceptionRepository",
    "FenceRepository",
    "InboxEntry",
    "ListingRepository",
    "ListingState",
    "LocationStock",
    "OrderLink",
    "OrderLinkRepository",
    "RecordedException",
    "SoftReservationRepository",
    "StateRepositories",
    "StockRepository",
    "SyncCursorRepository",
    "WebhookDelivery",
    "WebhookInboxRepository",
]


@dataclass(frozen=True)
class StateRepositories:
    """Every state repository on one connection (one transaction)."""

    stock: StockRepository
    listings: ListingRepository
    reservations: SoftReservationRepository
    inbox: WebhookInboxRepository
    exceptions: BusinessExceptionRepository
    orders: OrderLinkRepository
    cursors: SyncCursorRepository
    fences: FenceRepository

    @classmethod
    def on(cls, connection: sa.Connection) -> StateRepositories:
        return cls(
            stock=StockRepository(connection),
            listings=ListingRepository(connection),
            reservations=SoftReservationRepository(connection),
            inbox=WebhookInboxRepository(connection),
            exceptions=BusinessExceptionRepository(connection),
            orders=OrderLinkRepository(connection),
            cursors=SyncCursorRepository(connection),
            fences=FenceRepository(connection),
        )
