"""Handlers, registered per topic, and the context they run in.

Two kinds of handler:

* a plain handler (`register`) runs inside the worker's batch transaction: its database effects,
  follow-up events and the acknowledgement commit together;
* an external handler (`register_external`) is for work that waits on another system (Odoo).
  It runs in two phases: first `handler(event, ExternalContext)` with no transaction open (it
  reads what it needs in short `with ctx.read() as connection:` blocks, never awaiting inside one,
  and makes its calls), and returns an *apply* step, `apply(HandlerContext)`, that the worker then
  runs inside the batch transaction like a plain handler. On SQLite, where a transaction holds the
  single write lock, this keeps the lock free while Odoo answers, so tier-1 work (orders, ATS) is
  never queued behind an Odoo round trip. The external calls must be idempotent (they run again
  if the apply step or the commit fails), which is what at-least-once delivery asks anyway.
  With `coalesce=True` the call must read the current state of what the key names: the worker
  may answer a queued run of the key's events of that topic with one call (the newest event's).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractContextManager

import sqlalchemy as sa

from channelhub.clock import Clock
from channelhub.engine.events import LoggedEvent, NewEvent
from channelhub.engine.outbox import append
from channelhub.engine.sql import LogSql
from channelhub.resilience import is_transient


class HandlerContext:
    """What a handler gets besides the event.

    `connection` is the open transaction in which the event will be acknowledged: database effects
    written through it commit together with the acknowledgement (effectively once). Never commit
    or roll it back yourself; raise instead (a `ConnectorError` with `transient` set says retry). For effects
    outside this database, guard the call with `claim_once(idempotency_key)` and make the external
    call idempotent too (e.g. Odoo `client_order_ref` looked up before create): if the worker dies
    between the external call and the commit, the event is delivered again.
    """

    __slots__ = ("_sql", "clock", "connection", "event", "now")

    def __init__(self, connection: sa.Connection, event: LoggedEvent, sql: LogSql, clock: Clock, now: float):
        self.connection = connection
        self.event = event
        self.clock = clock
        self.now = now
        self._sql = sql

    def append(self, events: Sequence[NewEvent]) -> int:
        """Emit follow-up events; they commit with this event's acknowledgement (outbox)."""
        return append(self.connection, events, self.clock)

    def claim_once(self, idempotency_key: str, result: str | None = None) -> bool:
        """Record `idempotency_key` in the ledger; False if it was recorded before (skip the effect)."""
        inserted = self.connection.exec_driver_sql(
            self._sql["idempotency_claim"],
            {"key": idempotency_key, "event_id": self.event.event_id, "result": result, "now": self.now},
        )
        return inserted.rowcount == 1

    def recorded_result(self, idempotency_key: str) -> str | None:
        """The result stored with an idempotency key (e.g. the id an external system returned)."""
        row = self.connection.exec_driver_sql(
            self._sql["idempotency_result"], {"key": idempotency_key}
        ).first()
        return None if row is None else row[0]


Handler = Callable[[LoggedEvent, HandlerContext], Awaitable[None] | None]
"""`async def handle(event, ctx) -> None` (plain functions work too)."""

Apply = Callable[[HandlerContext], Awaitable[None] | None]
"""The second phase of an external handler: runs in the batch transaction."""


class ExternalContext:
    """What an external handler's first phase gets: no transaction is open.

    `read()` opens a short transaction for reading (`with ctx.read() as connection:`); do not
    await inside it (on SQLite it holds the write lock). Writes belong in the apply step.
    """

    __slots__ = ("_read", "clock", "event")

    def __init__(
        self, event: LoggedEvent, read: Callable[[], AbstractContextManager[sa.Connection]], clock: Clock
    ) -> None:
        self.event = event
        self.clock = clock
        self._read = read

    def read(self) -> AbstractContextManager[sa.Connection]:
        return self._read()


ExternalHandler = Callable[[LoggedEvent, ExternalContext], Awaitable[Apply | None]]
"""`async def call(event, ctx) -> apply step or None` (None: nothing to write)."""


class NoHandlerError(Exception):
    """No handler is registered for the event's topic (dead-lettered; replay after deploying one)."""

    transient = False


class HandlerRegistry:
    """Topic → handler. One handler per topic; fan-out is a handler appending more events."""

    def __init__(self, handlers: Iterable[tuple[str, Handler]] = ()) -> None:
        self._by_topic: dict[str, Handler] = {}
        self._external: dict[str, ExternalHandler] = {}
        self._coalescing: set[str] = set()
        for topic, handler in handlers:
            self.register(topic, handler)

    def register(self, topic: str, handler: Handler) -> None:
        self._check_new(topic)
        self._by_topic[topic] = handler

    def register_external(self, topic: str, handler: ExternalHandler, *, coalesce: bool = False) -> None:
        """A two-phase handler (see the module docstring). `coalesce`: its call reads the current
        state of what the key names (it does not depend on the event's own payload beyond the
        key), so one call answers every event of that topic and key already in the log when it
        starts: a worker that overlaps external calls acknowledges the key's queued events of the
        topic with the first one's apply, instead of one call each (Odoo notifies a quant again
        on every reservation; hundreds can queue during a sale)."""
        self._check_new(topic)
        self._external[topic] = handler
        if coalesce:
            self._coalescing.add(topic)

    def _check_new(self, topic: str) -> None:
        if not topic:
            raise ValueError("topic must be a non-empty string")
        if topic in self._by_topic or topic in self._external:
            raise ValueError(f"a handler is already registered for topic {topic!r}")

    def is_external(self, topic: str) -> bool:
        return topic in self._external

    def coalesces(self, topic: str) -> bool:
        return topic in self._coalescing

    def external(self, topic: str) -> ExternalHandler:
        return self._external[topic]

    def handles(self, topic: str) -> Callable[[Handler], Handler]:
        """Decorator form of `register`."""

        def decorate(handler: Handler) -> Handler:
            self.register(topic, handler)
            return handler

        return decorate

    def __getitem__(self, topic: str) -> Handler:
        try:
            return self._by_topic[topic]
        except KeyError:
            raise NoHandlerError(f"no handler registered for topic {topic!r}") from None

    @property
    def topics(self) -> list[str]:
        return sorted([*self._by_topic, *self._external])


def is_retryable(error: BaseException) -> bool:
    """Transient connector errors, timeouts and database hiccups are retried; the rest is not."""
    if isinstance(error, sa.exc.OperationalError):
        return True
    return is_transient(error)


async def call_handler(handler: Handler, event: LoggedEvent, ctx: HandlerContext) -> None:
    outcome = handler(event, ctx)
    if outcome is not None:  # an async handler's coroutine (plain handlers return None)
        await outcome


def describe_error(error: BaseException, limit: int = 2000) -> str:
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= limit else text[: limit - 3] + "..."
