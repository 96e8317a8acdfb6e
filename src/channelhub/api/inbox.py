"""The inbox processor: accepted webhook rows → canonical events in the durable log.

Each pass takes a batch of `received` inbox rows in arrival order and, in ONE transaction, appends
the events they mean (`channelhub.service.events_for_delivery` for channels,
`erp_notification_event` for Odoo) and marks the rows processed — the transactional outbox: a
crash in between leaves the rows received and nothing appended, and the events' deterministic ids
make a repeated pass harmless.

The stored raw body is parsed again with the same gateway that verified it at the door (the
signature check is deterministic, so it still passes). A row that cannot be parsed is marked
`failed` with the precise reason and kept for a person (`retry_failed` puts it back); a row whose
content this slice does not act on (a channel's own stock report, other topics) is `ignored` with
the reason.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from channelhub.api.context import ODOO_CHANNEL
from channelhub.clock import SYSTEM_CLOCK, Clock
from channelhub.connectors.errors import ConnectorError
from channelhub.engine.events import NewEvent
from channelhub.engine.outbox import append
from channelhub.observability import correlation_scope, get_logger
from channelhub.service.handlers import ERP_NOTIFICATION, erp_notification_event, events_for_delivery
from channelhub.service.ports import ChannelGateway, DeliveryKind, ErpGateway
from channelhub.store.repositories import InboxEntry, StateRepositories

log = get_logger(__name__)


class _Headers(Mapping[str, str]):
    """Stored headers (lower-case keys) looked up case-insensitively, as gateways expect."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = {key.lower(): value for key, value in headers.items()}

    def __getitem__(self, key: str) -> str:
        return self._headers[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers)

    def __len__(self) -> int:
        return len(self._headers)


@dataclass(frozen=True)
class InboxPass:
    processed: int = 0
    ignored: int = 0
    failed: int = 0
    events: int = 0

    @property
    def rows(self) -> int:
        return self.processed + self.ignored + self.failed


class NotReadable(Exception):
    """A stored delivery cannot be turned into events (the message is the reason)."""


def coalesce_notifications(events: list[NewEvent]) -> list[NewEvent]:
    """Odoo notifications about one record in one pass become one event (the last): its handler
    re-reads the record's stock from Odoo, so one read answers them all."""
    last = {event.key: index for index, event in enumerate(events) if event.topic == ERP_NOTIFICATION}
    return [e for i, e in enumerate(events) if e.topic != ERP_NOTIFICATION or last[e.key] == i]


class InboxProcessor:
    def __init__(
        self,
        engine: Engine,
        channels: Mapping[str, ChannelGateway],
        erp: ErpGateway | None,
        *,
        odoo_token: str | None = None,
        clock: Clock = SYSTEM_CLOCK,
        batch_size: int = 200,
        poll_interval_s: float = 0.25,
        on_appended: Callable[[str, float], None] | None = None,
    ) -> None:
        """`on_appended(channel, seconds)`: called for every row turned into events, with the
        time from its receipt to the commit that appended them (e.g. a metrics histogram)."""
        self._engine = engine
        self._channels = dict(channels)
        self._erp = erp
        self._odoo_token = odoo_token
        self._clock = clock
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self._on_appended = on_appended
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self.totals = InboxPass()

    # -- parsing -------------------------------------------------------------------------------

    def events_of(self, entry: InboxEntry) -> list[NewEvent]:
        """The events a stored delivery means; raises `NotReadable` with the reason."""
        headers = _Headers(entry.headers)
        try:
            if entry.channel == ODOO_CHANNEL:
                if self._erp is None:
                    raise NotReadable("Odoo notifications are not enabled")
                return [
                    erp_notification_event(self._erp.verify_webhook(headers, entry.body, self._odoo_token))
                ]
            gateway = self._channels.get(entry.channel)
            if gateway is None:
                raise NotReadable(f"no channel {entry.channel!r} in the landscape")
            delivery = gateway.verify_webhook(headers, entry.body)
        except (ConnectorError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise NotReadable(f"{type(error).__name__}: {error}") from error
        except Exception as error:
            # A mapping bug must not turn one row into a poison pill that stops the whole inbox:
            # the row is kept, failed with what went wrong, and the next rows go on.
            log.error("inbox_row_unexpected_error", channel=entry.channel, error=type(error).__name__)
            raise NotReadable(f"unexpected {type(error).__name__}: {error}") from error
        events = events_for_delivery(delivery)
        if not events and delivery.kind is DeliveryKind.ORDER:
            raise NotReadable("order delivery without an order snapshot")
        return events

    # -- one pass ------------------------------------------------------------------------------

    def process_once(self) -> InboxPass:
        """One batch in one transaction: events appended and rows marked together."""
        processed, ignored, failed, appended = [], [], 0, 0
        received: list[tuple[str, datetime]] = []
        with self._engine.begin() as connection:
            inbox = StateRepositories.on(connection).inbox
            entries = inbox.next_batch(self.batch_size)
            if not entries:
                return InboxPass()
            now = self._clock.now()
            events: list[NewEvent] = []
            for entry in entries:
                with correlation_scope(f"inbox-{entry.id}"):
                    try:
                        found = self.events_of(entry)
                    except NotReadable as error:
                        inbox.mark_failed(entry.id, str(error)[:2000], now)
                        log.warning(
                            "inbox_row_failed", channel=entry.channel, topic=entry.topic, reason=str(error)
                        )
                        failed += 1
                        continue
                if found:
                    events.extend(found)
                    processed.append(entry.id)
                    received.append((entry.channel, entry.received_at))
                else:
                    ignored.append(entry.id)
            events = coalesce_notifications(events)
            appended = append(connection, events, self._clock) if events else 0
            inbox.mark_processed(processed, now)
            if ignored:
                inbox.mark_ignored(ignored, now, "nothing to do: informational delivery (Odoo owns stock)")
        if self._on_appended is not None and received:
            committed = self._clock.now()
            for channel, at in received:
                self._on_appended(channel, (committed - at).total_seconds())
        result = InboxPass(len(processed), len(ignored), failed, appended)
        self.totals = InboxPass(
            self.totals.processed + result.processed,
            self.totals.ignored + result.ignored,
            self.totals.failed + result.failed,
            self.totals.events + result.events,
        )
        return result

    def process_all(self, max_passes: int = 1000) -> InboxPass:
        """Process until the inbox has no received rows (tests, shutdown)."""
        total = InboxPass()
        for _ in range(max_passes):
            result = self.process_once()
            if result.rows == 0:
                break
            total = InboxPass(
                total.processed + result.processed,
                total.ignored + result.ignored,
                total.failed + result.failed,
                total.events + result.events,
            )
        return total

    # -- running -------------------------------------------------------------------------------

    def wake(self) -> None:
        """A delivery was stored: process soon. Safe from any thread (the API runs in its own)."""
        if self._loop is not None and threading.get_ident() != self._loop_thread:
            self._loop.call_soon_threadsafe(self._wake.set)
        else:
            self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    # In a worker thread: waiting for the store's write lock (SQLite) or a slow
                    # commit must not stall the event loop the publisher and HTTP clients share.
                    result = await asyncio.to_thread(self.process_once)
                except sa.exc.OperationalError as error:  # the store is busy or briefly unreachable
                    log.warning("inbox_store_unavailable", error=str(error)[:200])
                    result = InboxPass()
                if result.rows >= self.batch_size:
                    await asyncio.sleep(0)
                    continue
                waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
                try:
                    await asyncio.wait(
                        waiters, timeout=self.poll_interval_s, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    for waiter in waiters:
                        waiter.cancel()
        finally:
            self._loop = None
            self._loop_thread = None
