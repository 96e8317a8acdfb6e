"""The service's log handlers, and the events that feed them.

Producers (the inbox processor, backfill, the CLI, schedulers) append one of these events; the
durable log runs the handler with per-key order (key `order:<order key>` for an order,
`sku:<SKU>` for stock, `warehouse:<code>` for a warehouse), retries transient failures and
dead-letters the rest. Event ids are deterministic, so a duplicate webhook and a backfill read of
the same order state append one event.

| topic                          | key                 | payload                                  |
|--------------------------------|---------------------|------------------------------------------|
| `channel.order.v1`             | `order:<order key>` | `ChannelOrderSnapshot.to_payload()`      |
| `erp.order.sync.v1`            | `order:<order key>` | same (appended by `channel.order.v1`)    |
| `erp.notification.v1`          | `erp:<model>:<id>`  | `{"model", "record_id", "values"}`       |
| `stock.refresh.v1`             | `sku:<SKU>`         | `{"skus": [...]}` (re-read from Odoo)    |
| `stock.poll.v1`                | `erp:stock-poll`    | `{"limit": n}` (one page; chains itself) |
| `stock.changed.v1`             | `sku:<SKU>`         | `StockChanged.to_dict()` (a warehouse total) |
| `warehouse.status_changed.v1`  | `warehouse:<code>`  | `WarehouseStatusChanged.to_dict()`       |
| `availability.recompute.v1`    | `availability:all` or `sku:<SKU>` | `{"skus": [...] or null}`  |
| `erp.reservations.check.v1`    | `erp:reservations`  | `{"limit": n}` (tier 2, periodic)        |
| `order.placed.v1` / `order.paid.v1` / `order.cancelled.v1` | `order:<order key>` | the canonical events' `to_dict()` (see `canonical_orders`) |

The inbox processor turns a verified delivery into events with `events_for_delivery` (channels)
and `erp_notification_event` (Odoo).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from channelhub.clock import Clock
from channelhub.domain import (
    OrderCancelled,
    OrderPaid,
    OrderPlaced,
    Sku,
    StockChanged,
    WarehouseStatusChanged,
    event_from_dict,
)
from channelhub.engine.events import LoggedEvent, NewEvent, Tier, deterministic_event_id
from channelhub.engine.handlers import Apply, ExternalContext, HandlerContext, HandlerRegistry
from channelhub.engine.outbox import append
from channelhub.service.availability import AvailabilityService
from channelhub.service.canonical_orders import CanonicalOrders
from channelhub.service.operations import AvailabilityOperations
from channelhub.service.orders import OrderIngestion, Received
from channelhub.service.phases import Step
from channelhub.service.ports import (
    ChannelDelivery,
    ChannelGateway,
    ChannelOrderSnapshot,
    DeliveryKind,
    ErpGateway,
    ErpNotification,
)
from channelhub.service.state import OperatorStateRepository, WarehouseOverride
from channelhub.service.stock_capture import StockCapture
from channelhub.store.db import reader
from channelhub.store.repositories import LocationStock, StateRepositories

CHANNEL_ORDER = "channel.order.v1"
ERP_ORDER_SYNC = "erp.order.sync.v1"
ERP_NOTIFICATION = "erp.notification.v1"
STOCK_REFRESH = "stock.refresh.v1"
STOCK_POLL = "stock.poll.v1"
STOCK_CHANGED = StockChanged.type
WAREHOUSE_STATUS = WarehouseStatusChanged.type
RECOMPUTE = "availability.recompute.v1"
RESERVATION_CHECK = "erp.reservations.check.v1"
ORDER_PLACED = OrderPlaced.type
ORDER_PAID = OrderPaid.type
ORDER_CANCELLED = OrderCancelled.type
ERP_ORDER_CONFIRM = "erp.order.confirm.v1"
ERP_ORDER_CANCEL = "erp.order.cancel.v1"

POLL_KEY = "erp:stock-poll"

# The ERP order follow-ups (sync, confirm, cancel) wait on Odoo; tier 2 keeps them out of tier 1,
# whose channel orders, reservations and ATS must move within milliseconds. Per-key order holds
# within each tier: an order's ERP steps stay in order among themselves.
ERP_ORDER_TIER = Tier.MINUTES


# --- events ----------------------------------------------------------------------------------


def order_key_of(order: ChannelOrderSnapshot) -> str:
    return f"order:{order.order_key}"


def order_event(order: ChannelOrderSnapshot) -> NewEvent:
    """The event for an order snapshot; the same state (webhook or backfill) has the same id."""
    identity = (order.updated_at.isoformat(), order.payment.value, order.cancelled, order.fulfilment_started)
    key = order_key_of(order)
    return NewEvent(
        deterministic_event_id(CHANNEL_ORDER, key, *identity), CHANNEL_ORDER, key, order.to_payload()
    )


def _sync_event(order: ChannelOrderSnapshot, *identity: object) -> NewEvent:
    key = order_key_of(order)
    return NewEvent(
        deterministic_event_id(ERP_ORDER_SYNC, key, order.updated_at.isoformat(), *identity),
        ERP_ORDER_SYNC,
        key,
        order.to_payload(),
        tier=ERP_ORDER_TIER,
    )


def retry_event(order: ChannelOrderSnapshot, exception_id: int, attempt: int) -> NewEvent:
    """Sync an order again after an operator chose "retry" on its business exception."""
    return _sync_event(order, "retry", exception_id, attempt)


def skus_sold_in(events: Sequence[LoggedEvent]) -> list[str]:
    """The SKUs of the channel orders among `events` (handled and committed): selling now, so
    their updates go first (`Publisher.wake(selling=)`)."""
    skus: dict[str, None] = {}
    for event in events:
        if event.topic == CHANNEL_ORDER:
            skus.update(dict.fromkeys(ChannelOrderSnapshot.from_payload(event.payload).units_by_sku()))
    return list(skus)


def erp_notification_event(notification: ErpNotification) -> NewEvent:
    key = f"erp:{notification.model}:{notification.record_id}"
    payload = {
        "model": notification.model,
        "record_id": notification.record_id,
        "values": dict(notification.values),
        "dedupe_key": notification.dedupe_key,
    }
    return NewEvent(
        deterministic_event_id(ERP_NOTIFICATION, key, notification.dedupe_key), ERP_NOTIFICATION, key, payload
    )


def stock_refresh_events(skus: Sequence[str], reason: str) -> list[NewEvent]:
    """One re-read per SKU (`reason` makes the id: e.g. the webhook delivery it answers)."""
    return [
        NewEvent(
            deterministic_event_id(STOCK_REFRESH, f"sku:{sku}", reason),
            STOCK_REFRESH,
            f"sku:{sku}",
            {"skus": [sku]},
        )
        for sku in dict.fromkeys(skus)
    ]


def stock_poll_event(at: datetime, limit: int = 1000) -> NewEvent:
    return NewEvent(
        deterministic_event_id(STOCK_POLL, POLL_KEY, at.isoformat()), STOCK_POLL, POLL_KEY, {"limit": limit}
    )


def warehouse_event(code: str, *, online: bool, on_hold: bool, reason: str, at: datetime) -> NewEvent:
    event = WarehouseStatusChanged(
        occurred_at=at, warehouse=code, online=online, on_hold=on_hold, reason=reason
    )
    return NewEvent(event.event_id, WAREHOUSE_STATUS, event.key, event.to_dict())


def recompute_event(skus: Sequence[str] | None, at: datetime) -> NewEvent:
    key = "availability:all" if skus is None or len(skus) != 1 else f"sku:{skus[0]}"
    payload = {"skus": None if skus is None else list(skus)}
    return NewEvent(
        deterministic_event_id(RECOMPUTE, key, at.isoformat()), RECOMPUTE, key, payload, tier=Tier.BATCH
    )


def events_for_delivery(delivery: ChannelDelivery) -> list[NewEvent]:
    """What a verified channel webhook asks of the service: its order snapshot, or nothing
    (pings; stock levels a channel reports are informational: Odoo owns stock, reconciliation
    corrects the channel)."""
    if delivery.kind is DeliveryKind.ORDER and delivery.order is not None:
        return [order_event(delivery.order)]
    return []


def reservation_check_event(at: datetime, limit: int = 500) -> NewEvent:
    key = "erp:reservations"
    return NewEvent(
        deterministic_event_id(RESERVATION_CHECK, key, at.isoformat()),
        RESERVATION_CHECK,
        key,
        {"limit": limit},
        tier=Tier.MINUTES,
    )


# --- handlers --------------------------------------------------------------------------------


@dataclass
class ServiceHandlers:
    """The use cases wired to the log. Build one in the composition root and `register` it."""

    availability: AvailabilityService
    erp: ErpGateway
    capture: StockCapture
    orders: OrderIngestion
    operations: AvailabilityOperations

    @classmethod
    def build(
        cls, availability: AvailabilityService, erp: ErpGateway, *, hand_over_inline: bool = True
    ) -> ServiceHandlers:
        """`hand_over_inline`: see `OrderIngestion` (False for throughput; then schedule
        `reservation_check_event` every few seconds)."""
        capture = StockCapture(availability)
        orders = OrderIngestion(availability, capture, hand_over_inline=hand_over_inline)
        return cls(availability, erp, capture, orders, AvailabilityOperations(availability))

    def register(self, registry: HandlerRegistry) -> None:
        registry.register(CHANNEL_ORDER, self.on_channel_order)
        # Handlers that wait on Odoo are external: their calls run with no transaction open.
        registry.register_external(ERP_ORDER_SYNC, self.on_erp_order_sync)
        # A notification makes the handler read the record's current state in Odoo: one read
        # answers every notification of the record already queued (coalesced).
        registry.register_external(ERP_NOTIFICATION, self.on_erp_notification, coalesce=True)
        registry.register_external(STOCK_REFRESH, self.on_stock_refresh)
        registry.register_external(STOCK_POLL, self.on_stock_poll)
        registry.register(STOCK_CHANGED, self.on_stock_changed)
        registry.register(WAREHOUSE_STATUS, self.on_warehouse_status)
        registry.register(RECOMPUTE, self.on_recompute)
        registry.register_external(RESERVATION_CHECK, self.on_reservation_check)
        registry.register(ORDER_PLACED, self.on_order_placed)
        registry.register(ORDER_PAID, self.on_order_paid)
        registry.register(ORDER_CANCELLED, self.on_order_cancelled)
        registry.register_external(ERP_ORDER_CONFIRM, self.on_erp_order_confirm)
        registry.register_external(ERP_ORDER_CANCEL, self.on_erp_order_cancel)

    def on_channel_order(self, event: LoggedEvent, ctx: HandlerContext) -> None:
        order = ChannelOrderSnapshot.from_payload(event.payload)
        if self.orders.receive(ctx.connection, order, ctx.clock.now()) is Received.ACCEPTED:
            ctx.append([_sync_event(order)])

    async def on_erp_order_sync(self, event: LoggedEvent, ctx: ExternalContext) -> Apply:
        order = ChannelOrderSnapshot.from_payload(event.payload)
        return _applying(await self.orders.prepare_sync(ctx.read, self.erp, order))

    async def on_erp_notification(self, event: LoggedEvent, ctx: ExternalContext) -> Apply:
        payload: dict[str, Any] = event.payload
        notification = ErpNotification(
            dedupe_key=str(payload.get("dedupe_key") or event.event_id),
            model=str(payload["model"]),
            record_id=int(payload["record_id"]),
            values=dict(payload.get("values") or {}),
        )
        return _applying(await self.capture.prepare_notification(ctx.read, self.erp, notification))

    async def on_stock_refresh(self, event: LoggedEvent, ctx: ExternalContext) -> Apply | None:
        skus = [str(sku) for sku in event.payload.get("skus") or []]
        if not skus:
            return None
        return _applying(await self.capture.prepare_refresh(ctx.read, self.erp, skus))

    async def on_stock_poll(self, event: LoggedEvent, ctx: ExternalContext) -> Apply:
        limit = int(event.payload.get("limit") or 1000)
        step = await self.capture.prepare_poll(ctx.read, self.erp, limit=limit)

        def apply(hctx: HandlerContext) -> None:
            result = step(hctx.connection, hctx.clock.now())
            if result.has_more:
                # The next page as a new event (same key: pages stay in order, others interleave).
                next_page = deterministic_event_id(STOCK_POLL, POLL_KEY, "page", result.cursor or "")
                hctx.append([NewEvent(next_page, STOCK_POLL, POLL_KEY, {"limit": limit})])

        return apply

    def on_stock_changed(self, event: LoggedEvent, ctx: HandlerContext) -> None:
        """A warehouse total for a SKU (producers without location detail): it replaces the
        SKU's location rows in that warehouse with one row."""
        changed = event_from_dict(event.payload)
        assert isinstance(changed, StockChanged)
        now = ctx.clock.now()
        repos = StateRepositories.on(ctx.connection)
        old = [loc for loc in repos.stock.locations(changed.sku) if loc.warehouse == changed.warehouse]
        repos.stock.remove((loc.sku, loc.warehouse, loc.location) for loc in old)
        repos.stock.upsert(
            [
                LocationStock(
                    sku=changed.sku,
                    warehouse=changed.warehouse,
                    location=f"{changed.warehouse} (total)",
                    on_hand=changed.on_hand,
                    reserved=changed.reserved,
                    hold=changed.hold,
                    incoming=changed.incoming,
                    source_write_date=changed.occurred_at,
                )
            ],
            now,
        )
        self.availability.recompute(ctx.connection, [changed.sku], now)

    def on_warehouse_status(self, event: LoggedEvent, ctx: HandlerContext) -> None:
        status = event_from_dict(event.payload)
        assert isinstance(status, WarehouseStatusChanged)
        now = ctx.clock.now()
        OperatorStateRepository(ctx.connection).set_warehouse(
            WarehouseOverride(status.warehouse, status.online, status.on_hold, status.reason, "event", now)
        )
        skus = self.availability.skus_in_warehouse(ctx.connection, status.warehouse)
        self.availability.recompute(ctx.connection, skus, now)

    def on_recompute(self, event: LoggedEvent, ctx: HandlerContext) -> None:
        raw = event.payload.get("skus")
        skus = self.availability.all_skus(ctx.connection) if raw is None else [Sku(str(s)) for s in raw]
        self.availability.recompute(ctx.connection, skus, ctx.clock.now())

    async def on_reservation_check(self, event: LoggedEvent, ctx: ExternalContext) -> Apply:
        limit = int(event.payload.get("limit") or 500)
        return _applying(await self.orders.prepare_reservation_check(ctx.read, self.erp, limit=limit))

    # -- canonical order events --------------------------------------------------------------

    def on_order_placed(self, event: LoggedEvent, ctx: HandlerContext) -> None:
        placed = event_from_dict(event.payload)
        assert isinstance(placed, OrderPlaced)
        snapshot = CanonicalOrders(self.orders).placed(ctx.connection, placed, ctx.clock.now())
        if snapshot is not None:
            ctx.append([_sync_event(snapshot)])

    def on_order_paid(self, event: LoggedEvent, ctx: HandlerContext) -> None:
        paid = event_from_dict(event.payload)
        assert isinstance(paid, OrderPaid)
        key = f"order:{paid.order_key}"
        payload = {"order_key": paid.order_key, "paid_at": paid.occurred_at.isoformat()}
        follow = NewEvent(
            deterministic_event_id(ERP_ORDER_CONFIRM, key, paid.event_id),
            ERP_ORDER_CONFIRM,
            key,
            payload,
            tier=ERP_ORDER_TIER,
        )
        ctx.append([follow])

    def on_order_cancelled(self, event: LoggedEvent, ctx: HandlerContext) -> None:
        cancelled = event_from_dict(event.payload)
        assert isinstance(cancelled, OrderCancelled)
        if CanonicalOrders(self.orders).cancelled(ctx.connection, cancelled, ctx.clock.now()):
            key = f"order:{cancelled.order_key}"
            follow = NewEvent(
                deterministic_event_id(ERP_ORDER_CANCEL, key, cancelled.event_id),
                ERP_ORDER_CANCEL,
                key,
                {"order_key": cancelled.order_key},
                tier=ERP_ORDER_TIER,
            )
            ctx.append([follow])

    async def on_erp_order_confirm(self, event: LoggedEvent, ctx: ExternalContext) -> Apply:
        paid_at = datetime.fromisoformat(str(event.payload["paid_at"]))
        order_key = str(event.payload["order_key"])
        return _applying(
            await CanonicalOrders(self.orders).prepare_confirm(ctx.read, self.erp, order_key, paid_at)
        )

    async def on_erp_order_cancel(self, event: LoggedEvent, ctx: ExternalContext) -> Apply:
        order_key = str(event.payload["order_key"])
        return _applying(await CanonicalOrders(self.orders).prepare_cancel(ctx.read, self.erp, order_key))


def _applying(step: Step[object]) -> Apply:
    """A use case's second phase as the external handler's apply step."""

    def apply(ctx: HandlerContext) -> None:
        step(ctx.connection, ctx.clock.now())

    return apply


# --- backfill --------------------------------------------------------------------------------


def backfill_cursor_name(channel: str) -> str:
    return f"orders.{channel}"


async def backfill_orders(engine: Engine, channel: ChannelGateway, clock: Clock) -> int:
    """Append every order the channel changed since the stored cursor (closes webhook gaps);
    returns how many events were new (states already seen through webhooks append nothing)."""
    name = backfill_cursor_name(channel.name)
    with reader(engine).connect() as connection:
        cursor = StateRepositories.on(connection).cursors.get(name)
    orders, next_cursor = await channel.orders_since(cursor)

    def store() -> int:
        with engine.begin() as connection:
            added = append(connection, [order_event(order) for order in orders], clock)
            if next_cursor is not None:
                StateRepositories.on(connection).cursors.set(name, next_cursor, clock.now())
        return added

    # The write waits for the store's lock: in a thread, so the caller's event loop never stalls.
    return await asyncio.to_thread(store)
