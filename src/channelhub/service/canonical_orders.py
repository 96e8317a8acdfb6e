"""Canonical order events (`order.placed.v1`, `order.paid.v1`, `order.cancelled.v1`) into the
same use cases as order snapshots, for producers that emit the domain's events (e.g. the Shopify
connector's `order_events`) instead of `channel.order.v1` snapshots.

Per-key order is what makes this work: a producer appends placed → paid (→ cancelled) for one
order; each handler does its fast part at once (soft reservation, release) and appends its Odoo
part as a follow-up on the same key, so the Odoo calls run in the same order as the facts:
create (unconfirmed, payment pending) → confirm → cancel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from channelhub.connectors.errors import ConnectorError
from channelhub.domain import ExceptionAction, OrderCancelled, OrderPlaced, OrderStatus, Sku
from channelhub.service.orders import RETRY_OR_DISMISS, OrderIngestion, Received
from channelhub.service.phases import Reader, Step, done
from channelhub.service.ports import ChannelOrderLine, ChannelOrderSnapshot, ErpGateway, PaymentState
from channelhub.store.repositories import OrderLink, StateRepositories
from channelhub.store.state_tables import soft_reservation

NO_ERP_ORDER = "erp_order_missing"


def snapshot_of_placed(event: OrderPlaced) -> ChannelOrderSnapshot:
    """A placed order as a snapshot: payment pending until an `order.paid.v1` says otherwise."""
    return ChannelOrderSnapshot(
        channel=event.channel,
        channel_order_id=event.channel_order_id,
        name=event.channel_order_id,
        currency=event.total.currency,
        placed_at=event.occurred_at,
        updated_at=event.occurred_at,
        payment=PaymentState.PENDING,
        lines=tuple(
            ChannelOrderLine(line.line_id, line.sku.value, line.quantity, line.unit_price.amount)
            for line in event.lines
        ),
        total=event.total.amount,
    )


@dataclass
class CanonicalOrders:
    orders: OrderIngestion

    @staticmethod
    def _skus(connection: sa.Connection, order_key: str) -> list[Sku]:
        """The order's SKUs, from its soft reservations (released ones too: they stay until
        purged), since the canonical paid/cancelled events do not repeat the lines."""
        table = soft_reservation
        rows = connection.execute(sa.select(table.c.sku).where(table.c.order_key == order_key).distinct())
        return sorted(Sku(sku) for (sku,) in rows)

    def placed(
        self, connection: sa.Connection, event: OrderPlaced, at: datetime
    ) -> ChannelOrderSnapshot | None:
        """Soft reservation and recompute; the snapshot to sync to Odoo (None: stale)."""
        snapshot = snapshot_of_placed(event)
        return snapshot if self.orders.receive(connection, snapshot, at) is Received.ACCEPTED else None

    def cancelled(self, connection: sa.Connection, event: OrderCancelled, at: datetime) -> bool:
        """Release the soft reservation at once; False when the order is unknown or the event is
        older than its state (then there is nothing to cancel in Odoo)."""
        repos = StateRepositories.on(connection)
        link = repos.orders.get(event.order_key)
        if link is None or event.occurred_at < link.source_updated_at:
            return False
        skus = self._skus(connection, event.order_key)
        repos.orders.record(
            OrderLink(
                link.order_key, link.channel, link.channel_order_id, OrderStatus.CANCELLED, event.occurred_at
            ),
            at,
        )
        repos.reservations.release(event.order_key, at)
        self.orders.availability.recompute(connection, skus, at)
        return True

    async def prepare_confirm(
        self, read: Reader, erp: ErpGateway, order_key: str, paid_at: datetime
    ) -> Step[bool]:
        """Confirm the Odoo order created for the placed event and hand its reservation over;
        the Odoo calls run with no transaction open, the step records the outcome."""
        with read() as connection:
            link = StateRepositories.on(connection).orders.get(order_key)
            skus = self._skus(connection, order_key)
        if link is None or link.state is OrderStatus.CANCELLED:
            return self._exception_step(
                order_key, "payment for an order that is unknown or cancelled: refund or re-place it"
            )
        try:
            found = await erp.find_sale_order(order_key)
            if found is None:
                return self._exception_step(order_key, "paid, but Odoo has no order to confirm")
            ref = await erp.confirm_sale_order(found)
            stock = None
            if self.orders.hand_over_inline and skus and await erp.reservation_seen(ref):
                stock = await erp.read_stock([sku.value for sku in skus])
        except ConnectorError as error:
            if error.transient:
                raise
            return self._exception_step(order_key, f"Odoo refused the confirmation: {error}")

        def record(connection: sa.Connection, at: datetime) -> bool:
            repos = StateRepositories.on(connection)
            if stock is not None:
                repos.reservations.release(order_key, at)
                self.orders.capture.apply(connection, stock, at)
            repos.orders.record(
                OrderLink(
                    order_key,
                    link.channel,
                    link.channel_order_id,
                    OrderStatus.CONFIRMED,
                    max(paid_at, link.source_updated_at),
                    odoo_order_id=ref.id,
                ),
                at,
            )
            return True

        return record

    async def prepare_cancel(self, read: Reader, erp: ErpGateway, order_key: str) -> Step[None]:
        """Cancel the Odoo order (if any) and re-read its SKUs so Odoo's released reservation
        shows at once; the step records the outcome."""
        ref = await erp.find_sale_order(order_key)
        if ref is None or ref.cancelled:
            return done(None)
        try:
            await erp.cancel_sale_order(ref)
        except ConnectorError as error:
            if error.transient:
                raise
            message = f"Odoo refused to cancel {ref.name}: {error}"

            def refused(connection: sa.Connection, at: datetime) -> None:
                StateRepositories.on(connection).exceptions.record(
                    "erp_cancel_refused",
                    order_key,
                    message,
                    (ExceptionAction.RETRY, ExceptionAction.RESOLVE, ExceptionAction.DISMISS),
                    at,
                )

            return refused
        with read() as connection:
            skus = self._skus(connection, order_key)
        stock = await erp.read_stock([sku.value for sku in skus]) if skus else None

        def cancelled(connection: sa.Connection, at: datetime) -> None:
            StateRepositories.on(connection).orders.link_odoo_order(order_key, ref.id, at)
            if stock is not None:
                self.orders.capture.apply(connection, stock, at)

        return cancelled

    @staticmethod
    def _exception_step(order_key: str, reason: str) -> Step[bool]:
        def record(connection: sa.Connection, at: datetime) -> bool:
            StateRepositories.on(connection).exceptions.record(
                NO_ERP_ORDER, order_key, reason, RETRY_OR_DISMISS, at
            )
            return False

        return record
