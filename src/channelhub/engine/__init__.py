"""The engine: a durable event log (transactional outbox) and the workers that consume it.

Public API (everything else in this package is an implementation detail):

    from channelhub.engine import NewEvent, Tier, append, HandlerRegistry, Worker

    # produce: in the same transaction as the state change (transactional outbox)
    with engine.begin() as connection:
        save_stock(connection, ...)
        append(connection, [NewEvent(deterministic_event_id("stock.changed.v1", sku, version),
                                     "stock.changed.v1", key=sku, payload={...}, tier=Tier.REALTIME)])

    # consume: handlers per topic, async (or plain) functions of (event, ctx)
    handlers = HandlerRegistry()

    @handlers.handles("stock.changed.v1")
    async def publish_stock(event: LoggedEvent, ctx: HandlerContext) -> None:
        ...  # DB effects through ctx.connection commit with the acknowledgement;
             # external effects: ctx.claim_once(idempotency_key) + an idempotent call

    await Worker(engine, handlers).run(stop_event)      # or run_once() / run_until_idle()

    # operate: dead letters (list, replay one / by filter / all) and retention
    with engine.begin() as connection:
        replay(connection, DeadLetterFilter(topic="order.placed.v1", error_contains="timeout"))

The API is asyncio-based: `Worker.run*` are coroutines and handlers may be `async def` (they can
await connectors). Database work inside the worker is synchronous SQLAlchemy on one connection per
worker: short local statements, batched, so they do not need a thread hop.
"""

from __future__ import annotations

import importlib
from typing import Any

# Exports load on first use, so `channelhub --help` (which imports engine.commands) stays fast.
_EXPORTS = {
    "DeadLetter": "dead_letters",
    "DeadLetterFilter": "dead_letters",
    "list_dead_letters": "dead_letters",
    "purge_event_ids": "dead_letters",
    "replay": "dead_letters",
    "replay_all": "dead_letters",
    "replay_one": "dead_letters",
    "EventError": "events",
    "LoggedEvent": "events",
    "NewEvent": "events",
    "Tier": "events",
    "deterministic_event_id": "events",
    "partition_of": "events",
    "Handler": "handlers",
    "HandlerContext": "handlers",
    "HandlerRegistry": "handlers",
    "NoHandlerError": "handlers",
    "is_retryable": "handlers",
    "append": "outbox",
    "Worker": "worker",
    "WorkerThread": "worker",
    "default_retry_policy": "worker",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'channelhub.engine' has no attribute {name!r}")
    return getattr(importlib.import_module(f"channelhub.engine.{_EXPORTS[name]}"), name)


__all__ = [
    "DeadLetter",
    "DeadLetterFilter",
    "EventError",
    "Handler",
    "HandlerContext",
    "HandlerRegistry",
    "LoggedEvent",
    "NewEvent",
    "NoHandlerError",
    "Tier",
    "Worker",
    "WorkerThread",
    "append",
    "default_retry_policy",
    "deterministic_event_id",
    "is_retryable",
    "list_dead_letters",
    "partition_of",
    "purge_event_ids",
    "replay",
    "replay_all",
    "replay_one",
]
