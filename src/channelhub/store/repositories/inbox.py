"""The webhook inbox: every verified delivery, raw and deduplicated, before anything interprets it.

Keeping the raw body means a delivery can be re-normalized after a mapping bug is fixed, and the
`(channel, dedupe_key)` uniqueness makes a redelivered webhook a no-op at the door. Channels pick
their dedupe key (Shopify: `X-Shopify-Webhook-Id`; WooCommerce: delivery id plus a body hash,
because its delivery ids have one-second resolution and can repeat).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from channelhub.store.repositories._sql import chunks, insert_for
from channelhub.store.state_tables import webhook_inbox as table

InboxStatus = Literal["received", "processed", "failed", "ignored"]


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """A delivery as it arrived: raw body bytes and headers."""

    channel: str
    dedupe_key: str
    topic: str
    body: bytes
    headers: Mapping[str, str]
    received_at: datetime


@dataclass(frozen=True, slots=True)
class InboxEntry:
    id: int
    channel: str
    dedupe_key: str
    topic: str
    body: bytes
    headers: dict[str, str]
    received_at: datetime
    status: InboxStatus
    attempts: int
    error: str | None
    processed_at: datetime | None


def _params(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "channel": delivery.channel,
        "dedupe_key": delivery.dedupe_key,
        "topic": delivery.topic,
        "body": bytes(delivery.body),
        "headers": dict(delivery.headers),
        "received_at": delivery.received_at,
        "status": "received",
    }


class WebhookInboxRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def accept(self, delivery: WebhookDelivery) -> int | None:
        """Store the delivery unless it was seen before: its new id, or None for a duplicate."""
        insert = insert_for(self._connection, table)
        statement = insert.on_conflict_do_nothing(index_elements=[table.c.channel, table.c.dedupe_key])
        row = self._connection.execute(statement.returning(table.c.id), _params(delivery)).first()
        return None if row is None else int(row.id)

    def accept_many(self, deliveries: Iterable[WebhookDelivery]) -> set[tuple[str, str]]:
        """Store a batch; returns the `(channel, dedupe_key)` pairs that were new."""
        params = [_params(delivery) for delivery in deliveries]
        if not params:
            return set()
        insert = insert_for(self._connection, table)
        statement = insert.on_conflict_do_nothing(
            index_elements=[table.c.channel, table.c.dedupe_key]
        ).returning(table.c.channel, table.c.dedupe_key)
        return {(row.channel, row.dedupe_key) for row in self._connection.execute(statement, params)}

    def next_batch(self, limit: int = 100, channel: str | None = None) -> list[InboxEntry]:
        """Received, unprocessed deliveries in arrival order."""
        query = sa.select(table).where(table.c.status == "received")
        if channel is not None:
            query = query.where(table.c.channel == channel)
        return [_entry(row) for row in self._connection.execute(query.order_by(table.c.id).limit(limit))]

    def counts_by_status(self) -> dict[str, int]:
        """Deliveries per status (`received` ones are still waiting to become events)."""
        rows = self._connection.execute(sa.select(table.c.status, sa.func.count()).group_by(table.c.status))
        return {str(status): int(count) for status, count in rows}

    def get(self, channel: str, dedupe_key: str) -> InboxEntry | None:
        row = self._connection.execute(
            sa.select(table).where(table.c.channel == channel, table.c.dedupe_key == dedupe_key)
        ).first()
        return None if row is None else _entry(row)

    def mark_processed(self, ids: Iterable[int], at: datetime) -> None:
        self._set_status(ids, "processed", at, error=None)

    def mark_ignored(self, ids: Iterable[int], at: datetime, reason: str) -> None:
        """Deliveries deliberately not acted on (e.g. a topic we do not use), with the reason."""
        self._set_status(ids, "ignored", at, error=reason)

    def mark_failed(self, entry_id: int, error: str, at: datetime) -> None:
        """Normalizing failed; the error is kept and the delivery waits for `retry_failed`."""
        self._connection.execute(
            sa.update(table)
            .where(table.c.id == entry_id)
            .values(status="failed", error=error, attempts=table.c.attempts + 1, processed_at=at)
        )

    def retry_failed(self, ids: Iterable[int] | None = None) -> int:
        """Put failed deliveries (all, or `ids`) back in the queue; returns how many."""
        statement = sa.update(table).where(table.c.status == "failed").values(status="received")
        if ids is not None:
            statement = statement.where(table.c.id.in_(list(ids)))
        return self._connection.execute(statement).rowcount

    def _set_status(self, ids: Iterable[int], status: InboxStatus, at: datetime, error: str | None) -> None:
        for batch in chunks(ids):
            self._connection.execute(
                sa.update(table)
                .where(table.c.id.in_(batch))
                .values(status=status, processed_at=at, error=error, attempts=table.c.attempts + 1)
            )


def _entry(row: sa.Row[Any]) -> InboxEntry:
    return InboxEntry(
        id=int(row.id),
        channel=row.channel,
        dedupe_key=row.dedupe_key,
        topic=row.topic,
        body=bytes(row.body),
        headers=dict(row.headers),
        received_at=row.received_at,
        status=row.status,
        attempts=row.attempts,
        error=row.error,
        processed_at=row.processed_at,
    )
