"""Soft reservations, webhook inbox, business exceptions, order links, cursors, on both backends."""

from __future__ import annotations

import pytest

from channelhub.domain import BusinessException, ExceptionAction, OrderStatus, Sku, SoftReservation
from channelhub.store.repositories import ActionNotAllowed, OrderLink, WebhookDelivery
from tests.integration.store.conftest import StateDb, at

A, B = Sku("TSHIRT-RED-M"), Sku("MUG-01")
RAW = b'{"id": 5940139491234, "note": "caf\xc3\xa9"}\xff'  # kept byte for byte, even when not UTF-8


def delivery(key: str, channel: str = "shopify-eu", second: float = 0) -> WebhookDelivery:
    headers = {"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": key}
    return WebhookDelivery(channel, key, "orders/create", RAW, headers, at(second))


def test_soft_reservations_are_idempotent_per_order_and_sku(state_db: StateDb) -> None:
    first = [
        SoftReservation("shopify-eu:1", "shopify-eu", A, 2),
        SoftReservation("shopify-eu:1", "shopify-eu", B, 1),
    ]
    with state_db.transaction() as repos:
        repos.reservations.reserve(first, at(1))
        repos.reservations.reserve(first, at(2))  # the same order delivered again
        repos.reservations.reserve([SoftReservation("woo-b2c:7", "woo-b2c", A, 3)], at(3))
    with state_db.transaction() as repos:
        assert repos.reservations.open_units() == {A: 5, B: 1}
        assert repos.reservations.open_units([B]) == {B: 1}
        assert repos.reservations.open_reservations(A) == [
            first[0],
            SoftReservation("woo-b2c:7", "woo-b2c", A, 3),
        ]
        assert repos.reservations.release("shopify-eu:1", at(4), skus=[A]) == 1
        assert repos.reservations.open_units() == {A: 3, B: 1}
        assert repos.reservations.release("shopify-eu:1", at(5)) == 1  # only B was still open
        assert repos.reservations.release("shopify-eu:1", at(6)) == 0
        repos.reservations.reserve(first, at(7))  # released rows are not re-opened by redelivery
        assert repos.reservations.open_units() == {A: 3}
        assert repos.reservations.purge_released(at(5)) == 1  # A was released at 4, B at 5
        assert repos.reservations.purge_released(at(100)) == 1


def test_inbox_dedupes_and_keeps_raw_bytes(state_db: StateDb) -> None:
    with state_db.transaction() as repos:
        first = repos.inbox.accept(delivery("d-1"))
        assert first is not None
        assert repos.inbox.accept(delivery("d-1", second=60)) is None  # Shopify retried it
        assert repos.inbox.accept(delivery("d-1", channel="woo-b2c")) is not None  # other channel
    with state_db.transaction() as repos:
        entry = repos.inbox.get("shopify-eu", "d-1")
        assert entry is not None
        assert (entry.id, entry.body, entry.received_at, entry.status) == (first, RAW, at(0), "received")
        assert entry.headers["X-Shopify-Webhook-Id"] == "d-1"


def test_inbox_accept_many_reports_only_new_deliveries(state_db: StateDb) -> None:
    with state_db.transaction() as repos:
        repos.inbox.accept(delivery("d-1"))
        new = repos.inbox.accept_many([delivery("d-1"), delivery("d-2"), delivery("d-3"), delivery("d-2")])
        assert new == {("shopify-eu", "d-2"), ("shopify-eu", "d-3")}
        assert repos.inbox.accept_many([]) == set()
        assert [e.dedupe_key for e in repos.inbox.next_batch()] == ["d-1", "d-2", "d-3"]


def test_inbox_status_lifecycle(state_db: StateDb) -> None:
    with state_db.transaction() as repos:
        ids = [repos.inbox.accept(delivery(f"d-{n}")) for n in range(4)]
        assert None not in ids
        one, two, three, four = (i for i in ids if i is not None)
        repos.inbox.mark_processed([one], at(1))
        repos.inbox.mark_failed(two, "no mapping for SKU X", at(2))
        repos.inbox.mark_ignored([three], at(3), "topic not used")
        assert [e.id for e in repos.inbox.next_batch(channel="shopify-eu")] == [four]
        assert repos.inbox.next_batch(channel="woo-b2c") == []
        failed = repos.inbox.get("shopify-eu", "d-1")
        assert failed is not None and (failed.status, failed.error, failed.attempts) == (
            "failed",
            "no mapping for SKU X",
            1,
        )
        assert repos.inbox.retry_failed() == 1
        assert [e.id for e in repos.inbox.next_batch(limit=1)] == [two]


def test_business_exceptions_group_repeats_and_close_by_allowed_actions(state_db: StateDb) -> None:
    conflict = BusinessException(
        code="cancel_after_fulfilment",
        reason="cancelled on Shopify after the 3PL shipped",
        order_key="shopify-eu:1",
        allowed_actions=(ExceptionAction.RESOLVE, ExceptionAction.DISMISS),
    )
    with state_db.transaction() as repos:
        first = repos.exceptions.record_order_exception(conflict, at(1), {"shipment": "S-1"})
        again = repos.exceptions.record_order_exception(conflict, at(2), {"shipment": "S-1"})
        other = repos.exceptions.record(
            "mapping_gap", "sku:X", "no Odoo product", [ExceptionAction.RETRY], at(3)
        )
        assert first == again != other
        recorded = repos.exceptions.get(first)
        assert recorded is not None
        assert (recorded.occurrences, recorded.created_at, recorded.last_seen_at) == (2, at(1), at(2))
        assert recorded.payload == {"shipment": "S-1"}
        assert recorded.allowed_actions == conflict.allowed_actions
        assert [e.id for e in repos.exceptions.open()] == [first, other]
        assert [e.id for e in repos.exceptions.open(kind="mapping_gap")] == [other]
        assert repos.exceptions.count_open() == 2
        with pytest.raises(ActionNotAllowed, match="allows retry"):
            repos.exceptions.close(other, ExceptionAction.DISMISS, "ops@example.com", "meh", at(4))
        repos.exceptions.close(first, ExceptionAction.RESOLVE, "ops@example.com", "refunded by hand", at(5))
        with pytest.raises(ActionNotAllowed, match="not open"):
            repos.exceptions.close(first, ExceptionAction.DISMISS, "ops@example.com", "twice", at(6))
        closed = repos.exceptions.get(first)
        assert closed is not None
        assert (closed.status, closed.closed_by, closed.resolution, closed.closed_at) == (
            "resolved",
            "ops@example.com",
            "refunded by hand",
            at(5),
        )
        # The same conflict after closing is a new case, not a reopened one.
        assert repos.exceptions.record_order_exception(conflict, at(7)) not in (first, other)


def test_order_links_refuse_stale_events(state_db: StateDb) -> None:
    placed = OrderLink("shopify-eu:1", "shopify-eu", "1", OrderStatus.PLACED, at(10))
    with state_db.transaction() as repos:
        assert repos.orders.record(placed, at(11))
        assert repos.orders.link_odoo_order("shopify-eu:1", 42, at(12))
        assert not repos.orders.link_odoo_order("shopify-eu:404", 43, at(12))
        confirmed = OrderLink("shopify-eu:1", "shopify-eu", "1", OrderStatus.CONFIRMED, at(20))
        assert repos.orders.record(confirmed, at(21))
        # A retried webhook carrying the order as it was at 15 arrives late.
        assert not repos.orders.record(
            OrderLink("shopify-eu:1", "shopify-eu", "1", OrderStatus.ON_HOLD, at(15)), at(22)
        )
        assert repos.orders.record(confirmed, at(23))  # the same event again is harmless
    with state_db.transaction() as repos:
        link = repos.orders.get("shopify-eu:1")
        assert link is not None
        assert (link.state, link.source_updated_at, link.odoo_order_id) == (OrderStatus.CONFIRMED, at(20), 42)
        assert repos.orders.by_odoo_order(42) == link
        assert repos.orders.get("shopify-eu:2") is None


def test_sync_cursors(state_db: StateDb) -> None:
    with state_db.transaction() as repos:
        assert repos.cursors.get("odoo.stock.quant") is None
        repos.cursors.set("odoo.stock.quant", "2026-11-23 12:00:00", at(1))
        repos.cursors.set("odoo.stock.quant", "2026-11-23 12:05:00", at(2))
        repos.cursors.set("shopify-eu.orders", "cursor-abc", at(3))
    with state_db.transaction() as repos:
        assert repos.cursors.get("odoo.stock.quant") == "2026-11-23 12:05:00"
        assert repos.cursors.all() == {
            "odoo.stock.quant": "2026-11-23 12:05:00",
            "shopify-eu.orders": "cursor-abc",
        }


def test_state_changes_roll_back_with_the_callers_transaction(state_db: StateDb) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), state_db.transaction() as repos:
        repos.reservations.reserve([SoftReservation("shopify-eu:1", "shopify-eu", A, 2)], at(1))
        repos.inbox.accept(delivery("d-1"))
        raise Boom
    with state_db.transaction() as repos:
        assert repos.reservations.open_units() == {}
        assert repos.inbox.accept(delivery("d-1")) is not None
