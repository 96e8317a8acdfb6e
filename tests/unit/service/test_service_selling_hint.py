"""The SKUs of the channel orders a worker just committed: the publisher sends them first."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from channelhub.engine.events import LoggedEvent
from channelhub.service import skus_sold_in
from channelhub.service.handlers import CHANNEL_ORDER, ERP_NOTIFICATION
from channelhub.service.ports import ChannelOrderLine, ChannelOrderSnapshot, PaymentState

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def order_event(seq: int, *lines: tuple[str | None, int]) -> LoggedEvent:
    order = ChannelOrderSnapshot(
        channel="shop",
        channel_order_id=str(1000 + seq),
        name=f"#{1000 + seq}",
        currency="EUR",
        placed_at=NOW,
        updated_at=NOW,
        payment=PaymentState.PAID,
        lines=tuple(
            ChannelOrderLine(f"l{n}", sku, quantity, Decimal("9.90"))
            for n, (sku, quantity) in enumerate(lines)
        ),
        total=Decimal("9.90"),
    )
    return LoggedEvent(seq, f"e{seq}", CHANNEL_ORDER, f"order:{seq}", 1, order.to_payload(), 0.0, 0)


def test_the_skus_of_committed_channel_orders_once_each_in_order() -> None:
    events = [
        order_event(1, ("TEE-M", 2), ("CAP", 1)),
        LoggedEvent(2, "e2", ERP_NOTIFICATION, "erp:stock.quant:7", 1, {"model": "stock.quant"}, 0.0, 0),
        order_event(3, ("CAP", 1), (None, 1), ("MUG", 0)),  # unmapped line, nothing sold of MUG
        order_event(4, ("SOCK", 3)),
    ]
    assert skus_sold_in(events) == ["TEE-M", "CAP", "SOCK"]
    assert skus_sold_in([]) == []
