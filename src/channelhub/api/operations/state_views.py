"""Read models of the domain state for operators: listings per SKU and channel, business
exceptions, orders waiting for Odoo, an order's timeline. All read-only, all paged by key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from channelhub.store.security_tables import operator_action
from channelhub.store.state_tables import (
    UtcDateTime,
    business_exception,
    channel_listing,
    order_link,
    soft_reservation,
)

WAITING_ORDER_STATES = ("placed", "on_hold")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


# -- listings ------------------------------------------------------------------------------------


def listing_row(row: Any) -> dict[str, Any]:
    desired, acknowledged = row.desired_quantity, row.acknowledged_quantity
    return {
        "channel": row.channel,
        "sku": row.sku,
        "desired_quantity": desired,
        "acknowledged_quantity": acknowledged,
        "desired_price": None if row.desired_price is None else str(row.desired_price),
        "acknowledged_price": None if row.acknowledged_price is None else str(row.acknowledged_price),
        "currency": row.currency,
        "dirty": bool(row.dirty),
        # The channel shows more than can be sold: an order there may be impossible to fill.
        "oversell_risk": desired is not None and acknowledged is not None and acknowledged > desired,
        "desired_at": _iso(row.desired_at),
        "acknowledged_at": _iso(row.acknowledged_at),
        "last_error": row.last_error,
    }


def listing_page(
    connection: sa.Connection,
    *,
    channel: str | None,
    sku: str | None,
    dirty: bool | None,
    with_error: bool | None,
    after: tuple[str, str] | None,
    limit: int,
) -> list[dict[str, Any]]:
    table = channel_listing
    query = sa.select(table)
    if channel:
        query = query.where(table.c.channel == channel)
    if sku:
        query = query.where(table.c.sku == sku)
    if dirty is not None:
        query = query.where(table.c.dirty == sa.true() if dirty else table.c.dirty == sa.false())
    if with_error is not None:
        query = query.where(table.c.last_error.is_not(None) if with_error else table.c.last_error.is_(None))
    if after is not None:
        query = query.where(sa.tuple_(table.c.channel, table.c.sku) > sa.tuple_(*after))
    rows = connection.execute(query.order_by(table.c.channel, table.c.sku).limit(limit + 1))
    return [listing_row(row) for row in rows]


def channel_health(connection: sa.Connection, now: datetime) -> list[dict[str, Any]]:
    """Per channel: listings, out of sync, with errors, oversell risk, oldest unsent change."""
    table = channel_listing
    risk = sa.and_(
        table.c.acknowledged_quantity.is_not(None),
        table.c.desired_quantity.is_not(None),
        table.c.acknowledged_quantity > table.c.desired_quantity,
    )
    query = (
        sa.select(
            table.c.channel,
            sa.func.count(),
            sa.func.sum(sa.case((table.c.dirty == sa.true(), 1), else_=0)),
            sa.func.sum(sa.case((table.c.last_error.is_not(None), 1), else_=0)),
            sa.func.sum(sa.case((risk, 1), else_=0)),
            sa.type_coerce(
                sa.func.min(sa.case((table.c.dirty == sa.true(), table.c.desired_at), else_=None)),
                UtcDateTime(),
            ),
        )
        .group_by(table.c.channel)
        .order_by(table.c.channel)
    )
    health = []
    for channel, listings, dirty, errors, oversell, oldest in connection.execute(query):
        lag = None if oldest is None else max(0.0, (now - oldest).total_seconds())
        health.append(
            {
                "channel": channel,
                "listings": int(listings),
                "out_of_sync": int(dirty or 0),
                "with_errors": int(errors or 0),
                "oversell_risk": int(oversell or 0),
                "oldest_unsent_s": None if lag is None else round(lag, 1),
            }
        )
    return health


def oversell_risk_count(connection: sa.Connection) -> dict[str, int]:
    table = channel_listing
    rows = connection.execute(
        sa.select(table.c.channel, sa.func.count())
        .where(table.c.acknowledged_quantity > table.c.desired_quantity)
        .group_by(table.c.channel)
    )
    return {channel: int(count) for channel, count in rows}


# -- business exceptions -------------------------------------------------------------------------


def exception_row(row: Any) -> dict[str, Any]:
    return {
        "id": int(row.id),
        "kind": row.kind,
        "subject": row.subject,
        "reason": row.reason,
        "status": row.status,
        "allowed_actions": list(row.allowed_actions),
        "occurrences": int(row.occurrences),
        "created_at": _iso(row.created_at),
        "last_seen_at": _iso(row.last_seen_at),
        "closed_at": _iso(row.closed_at),
        "closed_by": row.closed_by,
        "resolution": row.resolution,
        "payload": row.payload,
    }


def exception_page(
    connection: sa.Connection,
    *,
    status: str | None,
    kind: str | None,
    subject: str | None,
    after_id: int | None,
    limit: int,
) -> list[dict[str, Any]]:
    table = business_exception
    query = sa.select(table)
    if status:
        query = query.where(table.c.status == status)
    if kind:
        query = query.where(table.c.kind == kind)
    if subject:
        query = query.where(table.c.subject == subject)
    if after_id is not None:
        query = query.where(table.c.id > after_id)
    rows = connection.execute(query.order_by(table.c.id).limit(limit + 1))
    return [exception_row(row) for row in rows]


def exception_by_id(connection: sa.Connection, exception_id: int) -> dict[str, Any] | None:
    row = connection.execute(
        sa.select(business_exception).where(business_exception.c.id == exception_id)
    ).first()
    return None if row is None else exception_row(row)


def open_exceptions_by_kind(connection: sa.Connection) -> dict[str, int]:
    table = business_exception
    rows = connection.execute(
        sa.select(table.c.kind, sa.func.count()).where(table.c.status == "open").group_by(table.c.kind)
    )
    return {kind: int(count) for kind, count in rows}


# -- orders --------------------------------------------------------------------------------------


def orders_waiting(connection: sa.Connection) -> dict[str, int]:
    rows = connection.execute(
        sa.select(order_link.c.state, sa.func.count())
        .where(order_link.c.state.in_(WAITING_ORDER_STATES))
        .group_by(order_link.c.state)
    )
    counts = {state: 0 for state in WAITING_ORDER_STATES}
    counts.update({state: int(count) for state, count in rows})
    return counts


def recent_orders(connection: sa.Connection, limit: int = 20) -> list[dict[str, Any]]:
    rows = connection.execute(sa.select(order_link).order_by(order_link.c.updated_at.desc()).limit(limit))
    return [_order(row) for row in rows]


def _order(row: Any) -> dict[str, Any]:
    return {
        "order_key": row.order_key,
        "channel": row.channel,
        "channel_order_id": row.channel_order_id,
        "odoo_order_id": row.odoo_order_id,
        "state": row.state,
        "source_updated_at": _iso(row.source_updated_at),
        "updated_at": _iso(row.updated_at),
    }


def order_timeline(
    connection: sa.Connection, order_key: str, log_entries: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """What every system did with one order, oldest first; None when channelhub never saw it."""
    link = connection.execute(sa.select(order_link).where(order_link.c.order_key == order_key)).first()
    reservations = connection.execute(
        sa.select(soft_reservation).where(soft_reservation.c.order_key == order_key)
    ).all()
    exceptions = connection.execute(
        sa.select(business_exception).where(business_exception.c.subject == order_key)
    ).all()
    actions = connection.execute(
        sa.select(operator_action).where(operator_action.c.subject == f"order:{order_key}")
    ).all()
    if link is None and not reservations and not exceptions and not log_entries:
        return None
    events: list[dict[str, Any]] = []

    def add(at: datetime | None, system: str, what: str, **detail: Any) -> None:
        if at is not None:
            events.append({"at": at.isoformat(), "system": system, "what": what, "detail": detail})

    if link is not None:
        add(link.source_updated_at, link.channel, "order updated on the channel", state=link.state)
        odoo = "no Odoo order yet" if link.odoo_order_id is None else f"sale.order {link.odoo_order_id}"
        add(link.updated_at, "odoo" if link.odoo_order_id else "channelhub", f"state {link.state}: {odoo}")
    for reservation in reservations:
        add(
            reservation.created_at,
            "channelhub",
            f"soft reservation of {reservation.units} x {reservation.sku}",
        )
        if reservation.released:
            add(reservation.released_at, "channelhub", f"soft reservation of {reservation.sku} released")
    for exception in exceptions:
        add(
            exception.created_at,
            "channelhub",
            f"business exception {exception.kind}",
            reason=exception.reason,
            exception_id=int(exception.id),
            status=exception.status,
        )
        if exception.closed_at is not None:
            add(
                exception.closed_at,
                "operator",
                f"exception {exception.status}",
                by=exception.closed_by,
                note=exception.resolution,
            )
    for action in actions:
        add(action.at, "operator", action.action, by=action.actor)
    events.sort(key=lambda event: event["at"])
    return {
        "order_key": order_key,
        "order": None if link is None else _order(link),
        "timeline": events,
        "log": log_entries,
    }
