"""Orders from the channels into Odoo (issue 6 §5, DESIGN §5), in two steps per snapshot.

1. `receive` (fast, no Odoo call): refuse a snapshot older than the one applied (webhook retries
   carry old payloads), record the order link, take the soft reservation and recompute ATS on
   every channel at once, before Odoo has even seen the order. The channel that sold has taken the
   units off its own stock already: its acknowledged quantity is lowered with them (when our last
   write to it came before the sale), so no write repeats, or races, what it did itself. A
   cancellation before fulfilment releases the soft reservation here.
2. `prepare_sync` / `sync_to_erp` (a follow-up event, same order key, so per-key order holds;
   the Odoo calls run with no transaction open, see `phases`): the Odoo
   `sale.order` is looked up / created by `client_order_ref = <channel>:<order id>` (idempotent),
   confirmed when the payment is settled, left unconfirmed with the hold reason "payment pending"
   otherwise, cancelled when the channel cancelled it. When Odoo has reserved the stock itself the
   stock of the order's SKUs is re-read and the soft reservation released in the same transaction,
   so a unit is never counted twice nor released before Odoo's reservation shows.

A line without a usable SKU, or an order Odoo refuses (unknown product, validation), becomes a
business exception with reason and allowed actions (retry, dismiss): never a silent drop.
Transient failures are raised for the durable log to retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa

from channelhub.connectors.errors import ConnectorError
from channelhub.domain import ExceptionAction, InvalidValue, OrderStatus, Sku, SoftReservation
from channelhub.service.availability import AvailabilityService
from channelhub.service.phases import Reader, Step, done, reader_of
from channelhub.service.ports import ChannelOrderSnapshot, ErpGateway, ErpOrderRef
from channelhub.service.stock_capture import StockCapture
from channelhub.store.repositories import OrderLink, StateRepositories

PAYMENT_PENDING = "payment pending"
# A channel's own sale counts as acknowledged only when placed this long after our last write to
# it (clock skew between the shop and us, and shops' whole-second order timestamps).
CHANNEL_SALE_MARGIN = timedelta(seconds=2)

# Business exception kinds (the subject is the order key).
MAPPING_GAP = "order_mapping_gap"
ERP_REJECTED = "erp_rejected_order"
CANCEL_AFTER_FULFILMENT = "cancel_after_fulfilment"

RETRY_OR_DISMISS = (ExceptionAction.RETRY, ExceptionAction.DISMISS)


class Received(StrEnum):
    ACCEPTED = "accepted"  # newer than anything applied: go on to Odoo
    STALE = "stale"  # older than what was applied: ignored


class Synced(StrEnum):
    CREATED = "created"  # a new Odoo order (unconfirmed: payment pending)
    CONFIRMED = "confirmed"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"  # a newer snapshot was received: its own sync does the work
    EXCEPTION = "exception"  # recorded as a business exception


@dataclass(frozen=True)
class SyncResult:
    outcome: Synced
    erp_order: ErpOrderRef | None = None
    exception_id: int | None = None
    released_reservations: int = 0  # (order, SKU) soft reservations handed over to Odoo


def usable_skus(order: ChannelOrderSnapshot) -> tuple[dict[Sku, int], list[str]]:
    """Units per SKU of the order's lines, and the lines that have no usable SKU (mapping gaps)."""
    units: dict[Sku, int] = {}
    gaps: list[str] = []
    for line in order.lines:
        if line.quantity <= 0:
            continue
        try:
            sku = Sku(line.sku or "")
        except InvalidValue:
            gaps.append(f"line {line.line_id} has no usable SKU ({line.sku!r})")
            continue
        units[sku] = units.get(sku, 0) + line.quantity
    return units, gaps


def _linked_ref(link: OrderLink | None, order: ChannelOrderSnapshot) -> ErpOrderRef | None:
    """The Odoo order an earlier sync of this order recorded, in the state it left it, so a later
    snapshot (paid after pending, a repeated update) does not look it up again: an order on hold
    is confirmed at once (Odoo refuses a confirmation the order's state no longer allows, which
    becomes a business exception), a confirmed one needs no call at all."""
    if link is None or link.odoo_order_id is None:
        return None
    if link.state is OrderStatus.ON_HOLD:
        state = "draft"
    elif link.state is OrderStatus.CONFIRMED:
        state = "sale"
    else:
        return None
    return ErpOrderRef(id=link.odoo_order_id, name="", state=state, client_order_ref=order.order_key)


class OrderIngestion:
    def __init__(
        self, availability: AvailabilityService, capture: StockCapture, *, hand_over_inline: bool = True
    ) -> None:
        """`hand_over_inline=False` skips the reservation check and stock re-read after each
        confirmation (5 Odoo calls per order): soft reservations then wait for the periodic
        `prepare_reservation_check`, which does it for many orders in a few calls, or for the next stock
        read of their SKUs (`StockCapture` asks Odoo which orders it reserves before each read),
        whichever comes first: a read that shows Odoo's reservation never counts the order twice."""
        self.availability = availability
        self.capture = capture
        self.hand_over_inline = hand_over_inline

    # -- step 1: receive -----------------------------------------------------------------------

    def receive(self, connection: sa.Connection, order: ChannelOrderSnapshot, at: datetime) -> Received:
        repos = StateRepositories.on(connection)
        link = repos.orders.get(order.order_key)
        if link is not None and order.updated_at < link.source_updated_at:
            return Received.STALE
        cancels = order.cancelled and not order.fulfilment_started
        if cancels:
            state = OrderStatus.CANCELLED
        elif link is not None:
            state = link.state
        else:
            state = OrderStatus.PLACED
        recorded = repos.orders.record(
            OrderLink(order.order_key, order.channel, order.channel_order_id, state, order.updated_at), at
        )
        if not recorded:
            return Received.STALE
        units, _ = usable_skus(order)
        if cancels:
            repos.reservations.release(order.order_key, at)
        elif link is None or link.state in (OrderStatus.PLACED, OrderStatus.ON_HOLD):
            # Only while Odoo does not hold the stock itself (once confirmed, its reservation
            # does). The same (order, SKU) again is ignored by the repository: at-least-once
            # delivery never reserves twice.
            repos.reservations.reserve(
                [SoftReservation(order.order_key, order.channel, sku, n) for sku, n in units.items()], at
            )
            if link is None:
                # Counted once per order on the SKUs fenced on its channel (`domain.fence`).
                repos.fences.count_sale(order.channel, units)
                if order.channel_reduced_stock:
                    # The channel already shows the sale: its quantity needs no write for it.
                    repos.listings.record_channel_sale(
                        order.channel, units, order.placed_at, CHANNEL_SALE_MARGIN
                    )
        self.availability.recompute(connection, units, at)
        return Received.ACCEPTED

    # -- step 2: Odoo --------------------------------------------------------------------------

    async def sync_to_erp(
        self, connection: sa.Connection, erp: ErpGateway, order: ChannelOrderSnapshot, at: datetime
    ) -> SyncResult:
        """Both phases on one open connection (see `prepare_sync`)."""
        step = await self.prepare_sync(reader_of(connection), erp, order)
        return step(connection, at)

    async def prepare_sync(
        self, read: Reader, erp: ErpGateway, order: ChannelOrderSnapshot
    ) -> Step[SyncResult]:
        """The Odoo part of a snapshot, with no transaction open; the returned step records the
        outcome (order link, hand-over, exception) in the caller's transaction."""
        with read() as connection:
            link = StateRepositories.on(connection).orders.get(order.order_key)
        if link is not None and link.source_updated_at > order.updated_at:
            return done(SyncResult(Synced.SUPERSEDED))
        units, gaps = usable_skus(order)
        if gaps or not units:
            reason = "; ".join(gaps) or "the order has no line with a quantity"
            return self._exception_step(order, MAPPING_GAP, reason, RETRY_OR_DISMISS)
        try:
            if order.cancelled:
                step = await self._cancel(erp, order, units)
            else:
                step = await self._create_or_confirm(erp, order, units, link)
        except ConnectorError as error:
            if error.transient:
                raise  # the log retries with backoff
            reason = f"Odoo refused the order: {error}"
            return self._exception_step(order, ERP_REJECTED, reason, RETRY_OR_DISMISS)

        def apply(connection: sa.Connection, at: datetime) -> SyncResult:
            link = StateRepositories.on(connection).orders.get(order.order_key)
            if link is not None and link.source_updated_at > order.updated_at:
                return SyncResult(Synced.SUPERSEDED)  # received meanwhile: its own sync records it
            result = step(connection, at)
            if result.outcome is not Synced.EXCEPTION:
                self._close_retried(connection, order, at)
            return result

        return apply

    async def _create_or_confirm(
        self,
        erp: ErpGateway,
        order: ChannelOrderSnapshot,
        units: dict[Sku, int],
        link: OrderLink | None = None,
    ) -> Step[SyncResult]:
        settled = order.payment.settled
        ref = _linked_ref(link, order)
        if ref is None:
            ref = await erp.ensure_sale_order(order, note="" if settled else PAYMENT_PENDING)
        if not settled:
            outcome = Synced.CREATED if ref.created else Synced.ON_HOLD

            def on_hold(connection: sa.Connection, at: datetime) -> SyncResult:
                self._link(connection, order, OrderStatus.ON_HOLD, ref, at)
                return SyncResult(outcome, ref)

            return on_hold
        confirmed = ref if ref.confirmed else await erp.confirm_sale_order(ref)
        read = None
        if self.hand_over_inline and await erp.reservation_seen(confirmed):
            # Odoo now holds the reservation: read its stock (showing it) to drop ours with it.
            read = await erp.read_stock([sku.value for sku in units])

        def confirm(connection: sa.Connection, at: datetime) -> SyncResult:
            released = 0
            if read is not None:
                released = StateRepositories.on(connection).reservations.release(order.order_key, at)
                self.capture.apply(connection, read, at)  # stores the rows and recomputes the SKUs
            self._link(connection, order, OrderStatus.CONFIRMED, confirmed, at)
            return SyncResult(Synced.CONFIRMED, confirmed, released_reservations=released)

        return confirm

    async def _cancel(
        self, erp: ErpGateway, order: ChannelOrderSnapshot, units: dict[Sku, int]
    ) -> Step[SyncResult]:
        if order.fulfilment_started:
            reason = (
                f"the channel cancelled {order.name or order.order_key} after fulfilment started:"
                " return or refund instead"
            )
            actions = (ExceptionAction.RESOLVE, ExceptionAction.DISMISS)
            return self._exception_step(order, CANCEL_AFTER_FULFILMENT, reason, actions)
        ref = await erp.find_sale_order(order.order_key)
        if ref is not None and not ref.cancelled:
            ref = await erp.cancel_sale_order(ref)
        # Odoo gave its reservation back: re-read so the freed units show at once.
        read = await erp.read_stock([sku.value for sku in units]) if ref is not None else None

        def cancel(connection: sa.Connection, at: datetime) -> SyncResult:
            StateRepositories.on(connection).reservations.release(order.order_key, at)
            if read is not None:
                self.capture.apply(connection, read, at)
            else:
                self.availability.recompute(connection, units, at)
            self._link(connection, order, OrderStatus.CANCELLED, ref, at)
            return SyncResult(Synced.CANCELLED, ref)

        return cancel

    async def prepare_reservation_check(
        self, read: Reader, erp: ErpGateway, *, limit: int = 500
    ) -> Step[int]:
        """Hand over the soft reservations of confirmed orders whose stock Odoo now reserves (it
        was short at confirmation, or the inline hand-over is off): one batch read of the orders,
        one stock read of their SKUs; the step releases them and applies the read together.
        The step returns how many orders."""
        with read() as connection:
            repos = StateRepositories.on(connection)
            by_order: dict[str, list[Sku]] = {}
            for reservation in repos.reservations.open_reservations():
                by_order.setdefault(reservation.order_key, []).append(reservation.sku)
            candidates = list(by_order)[:limit]
            in_state = repos.orders.in_state(candidates, OrderStatus.CONFIRMED)
            confirmed = [key for key in candidates if key in in_state]
        handed = sorted(await erp.reserved_orders(confirmed)) if confirmed else []
        if not handed:
            return done(0)
        stock = await erp.read_stock(sorted({sku.value for key in handed for sku in by_order[key]}))

        def hand_over(connection: sa.Connection, at: datetime) -> int:
            reservations = StateRepositories.on(connection).reservations
            for key in handed:
                reservations.release(key, at)
            self.capture.apply(connection, stock, at)
            return len(handed)

        return hand_over

    # -- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _link(
        connection: sa.Connection,
        order: ChannelOrderSnapshot,
        state: OrderStatus,
        ref: ErpOrderRef | None,
        at: datetime,
    ) -> None:
        StateRepositories.on(connection).orders.record(
            OrderLink(
                order.order_key,
                order.channel,
                order.channel_order_id,
                state,
                order.updated_at,
                odoo_order_id=ref.id if ref else None,
            ),
            at,
        )

    @staticmethod
    def _exception_step(
        order: ChannelOrderSnapshot, kind: str, reason: str, actions: tuple[ExceptionAction, ...]
    ) -> Step[SyncResult]:
        def record(connection: sa.Connection, at: datetime) -> SyncResult:
            exception_id = StateRepositories.on(connection).exceptions.record(
                kind, order.order_key, reason, actions, at, payload={"order": order.to_payload()}
            )
            return SyncResult(Synced.EXCEPTION, exception_id=exception_id)

        return record

    @staticmethod
    def _close_retried(connection: sa.Connection, order: ChannelOrderSnapshot, at: datetime) -> None:
        """A sync that went through settles the order's earlier mapping/refusal exceptions."""
        exceptions = StateRepositories.on(connection).exceptions
        for kind in (MAPPING_GAP, ERP_REJECTED):
            for recorded in exceptions.open(kind=kind, subject=order.order_key):
                exceptions.close(
                    recorded.id,
                    ExceptionAction.DISMISS,
                    "channelhub",
                    "synced to Odoo on a later attempt",
                    at,
                )

    # -- operator decisions on exceptions ------------------------------------------------------

    def dismiss(self, connection: sa.Connection, exception_id: int, by: str, note: str, at: datetime) -> None:
        """Close an order exception as accepted: the order will not reach Odoo, so its soft
        reservation is released and its SKUs recomputed."""
        repos = StateRepositories.on(connection)
        recorded = repos.exceptions.get(exception_id)
        repos.exceptions.close(exception_id, ExceptionAction.DISMISS, by, note, at)
        if recorded is None:
            return
        order = ChannelOrderSnapshot.from_payload(recorded.payload["order"])
        repos.reservations.release(order.order_key, at)
        self.availability.recompute(connection, usable_skus(order)[0], at)

    @staticmethod
    def order_to_retry(connection: sa.Connection, exception_id: int) -> ChannelOrderSnapshot:
        """The order of an open exception, to sync again (`retry_event` in `handlers`). The
        exception stays open until the retry succeeds or it is dismissed."""
        recorded = StateRepositories.on(connection).exceptions.get(exception_id)
        if recorded is None or recorded.status != "open":
            raise LookupError(f"exception {exception_id} is not open")
        if ExceptionAction.RETRY not in recorded.allowed_actions:
            raise LookupError(f"exception {exception_id} does not allow retry")
        return ChannelOrderSnapshot.from_payload(recorded.payload["order"])
