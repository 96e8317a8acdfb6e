"""Change sets, approvals and price versions in the store (tables in `store.pricing_tables`).

Like the store's repositories, `PricingRecords` works inside the caller's transaction and never
commits. `ChangeSet.to_dict()` is the JSON the API serves for `/api/v1/price-changes/{id}`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from channelhub.domain.price_changes import ChangeSetStatus
from channelhub.store.pricing_tables import price_approval, price_change_item, price_change_set, price_version


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(value.quantize(Decimal("0.01")), "f")


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True, slots=True)
class ChangeItem:
    sku: str
    channel: str
    currency: str
    old_price: Decimal | None
    new_price: Decimal
    verdict: str
    rule: str
    reason: str
    source_price: Decimal | None = None
    cost: Decimal | None = None
    map_floor: Decimal | None = None
    release_at: datetime | None = None
    state: str = "pending"  # pending | releasing | published | reverted | rolled_back
    canary: bool = False
    published_at: datetime | None = None
    source_ref: str | None = None

    @property
    def change_percent(self) -> Decimal | None:
        if not self.old_price:
            return None
        return ((self.new_price - self.old_price) / self.old_price * 100).quantize(Decimal("0.01"))

    @property
    def margin_percent(self) -> Decimal | None:
        if self.cost is None or self.new_price <= 0:
            return None
        return ((self.new_price - self.cost) / self.new_price * 100).quantize(Decimal("0.01"))

    def to_dict(self) -> dict[str, Any]:
        percent = self.change_percent
        margin = self.margin_percent
        return {
            "sku": self.sku,
            "channel": self.channel,
            "currency": self.currency,
            "old_price": _money(self.old_price),
            "new_price": _money(self.new_price),
            "change_percent": None if percent is None else str(percent),
            "cost": _money(self.cost),
            "margin_percent": None if margin is None else str(margin),
            "map_floor": _money(self.map_floor),
            "source_price": _money(self.source_price),
            "decision": {"verdict": self.verdict, "rule": self.rule, "reason": self.reason},
            "release_at": _time(self.release_at),
            "state": self.state,
            "canary": self.canary,
            "published_at": _time(self.published_at),
            "source_ref": self.source_ref,
        }


@dataclass(frozen=True, slots=True)
class Approval:
    user: str
    decision: str  # approve | reject
    comment: str
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "decision": self.decision,
            "comment": self.comment,
            "at": self.at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class ChangeSet:
    id: int
    title: str
    status: ChangeSetStatus
    proposed_by: str
    proposed_at: datetime
    rule: str
    reason: str
    items: tuple[ChangeItem, ...]
    pricelist: str | None = None
    effective_from: datetime | None = None
    effective_until: datetime | None = None
    approvals_required: int = 1
    revenue_at_risk: Decimal = Decimal(0)
    canary: Mapping[str, Any] | None = None
    canary_until: datetime | None = None
    hold_reason: str = ""
    updated_at: datetime | None = None
    approvals: tuple[Approval, ...] = ()

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(sorted({item.channel for item in self.items}))

    def approvers(self) -> set[str]:
        return {a.user for a in self.approvals if a.decision == "approve"}

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "pricelist": self.pricelist,
            "proposed_by": self.proposed_by,
            "proposed_at": self.proposed_at.isoformat(),
            "effective_from": _time(self.effective_from),
            "effective_until": _time(self.effective_until),
            "decision": {"rule": self.rule, "reason": self.reason},
            "approvals_required": self.approvals_required,
            "approvals": [approval.to_dict() for approval in self.approvals],
            "revenue_at_risk": _money(self.revenue_at_risk),
            "canary": dict(self.canary) if self.canary is not None else None,
            "canary_until": _time(self.canary_until),
            "hold_reason": self.hold_reason or None,
            "channels": list(self.channels),
            "updated_at": _time(self.updated_at),
            "items": [item.to_dict() for item in self.items],
        }


@dataclass(frozen=True, slots=True)
class PriceVersion:
    sku: str
    channel: str
    version: int
    amount: Decimal
    currency: str
    cause: str  # baseline | release | revert | rollback
    recorded_at: datetime
    change_set_id: int | None = None
    verified: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "channel": self.channel,
            "version": self.version,
            "price": _money(self.amount),
            "currency": self.currency,
            "cause": self.cause,
            "change_set_id": self.change_set_id,
            "recorded_at": self.recorded_at.isoformat(),
            "verified": self.verified,
        }


class PricingRecords:
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    # -- change sets ---------------------------------------------------------------------------

    def find_by_source(self, source_key: str) -> int | None:
        row = self._connection.execute(
            sa.select(price_change_set.c.id).where(price_change_set.c.source_key == source_key)
        ).first()
        return None if row is None else int(row[0])

    def add(self, change_set: ChangeSet, source_key: str) -> int:
        values = {
            "source_key": source_key,
            "title": change_set.title,
            "status": change_set.status.value,
            "pricelist": change_set.pricelist,
            "proposed_by": change_set.proposed_by,
            "proposed_at": change_set.proposed_at,
            "effective_from": change_set.effective_from,
            "effective_until": change_set.effective_until,
            "rule": change_set.rule,
            "reason": change_set.reason[:1000],
            "approvals_required": change_set.approvals_required,
            "revenue_at_risk": change_set.revenue_at_risk,
            "canary": dict(change_set.canary) if change_set.canary is not None else None,
            "updated_at": change_set.updated_at or change_set.proposed_at,
        }
        new_id = self._connection.execute(
            sa.insert(price_change_set).values(**values).returning(price_change_set.c.id)
        ).scalar_one()
        self._connection.execute(
            sa.insert(price_change_item),
            [{"change_set_id": new_id, **_item_values(item)} for item in change_set.items],
        )
        return int(new_id)

    def get(self, change_set_id: int, *, for_update: bool = False) -> ChangeSet | None:
        query = sa.select(price_change_set).where(price_change_set.c.id == change_set_id)
        if for_update and self._connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self._connection.execute(query).mappings().first()
        if row is None:
            return None
        items = self._connection.execute(
            sa.select(price_change_item)
            .where(price_change_item.c.change_set_id == change_set_id)
            .order_by(price_change_item.c.channel, price_change_item.c.sku)
        ).mappings()
        approvals = self._connection.execute(
            sa.select(price_approval)
            .where(price_approval.c.change_set_id == change_set_id)
            .order_by(price_approval.c.id)
        ).mappings()
        return ChangeSet(
            id=int(row["id"]),
            title=row["title"],
            status=ChangeSetStatus(row["status"]),
            proposed_by=row["proposed_by"],
            proposed_at=row["proposed_at"],
            rule=row["rule"],
            reason=row["reason"],
            items=tuple(_item_of(item) for item in items),
            pricelist=row["pricelist"],
            effective_from=row["effective_from"],
            effective_until=row["effective_until"],
            approvals_required=int(row["approvals_required"]),
            revenue_at_risk=row["revenue_at_risk"],
            canary=row["canary"],
            canary_until=row["canary_until"],
            hold_reason=row["hold_reason"],
            updated_at=row["updated_at"],
            approvals=tuple(Approval(a["user"], a["decision"], a["comment"], a["at"]) for a in approvals),
        )

    def ids(self, statuses: Iterable[ChangeSetStatus] | None = None, limit: int = 200) -> list[int]:
        query = sa.select(price_change_set.c.id).order_by(price_change_set.c.id.desc()).limit(limit)
        if statuses is not None:
            query = query.where(price_change_set.c.status.in_([s.value for s in statuses]))
        return [int(row[0]) for row in self._connection.execute(query)]

    def set_status(
        self,
        change_set_id: int,
        status: ChangeSetStatus,
        at: datetime,
        *,
        hold_reason: str | None = None,
        canary_until: datetime | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status.value, "updated_at": at}
        if hold_reason is not None:
            values["hold_reason"] = hold_reason[:2000]
        if canary_until is not None:
            values["canary_until"] = canary_until
        self._connection.execute(
            sa.update(price_change_set).where(price_change_set.c.id == change_set_id).values(**values)
        )

    def update_items(self, change_set_id: int, items: Iterable[ChangeItem]) -> None:
        for item in items:
            self._connection.execute(
                sa.update(price_change_item)
                .where(
                    price_change_item.c.change_set_id == change_set_id,
                    price_change_item.c.sku == item.sku,
                    price_change_item.c.channel == item.channel,
                )
                .values(
                    state=item.state,
                    published_at=item.published_at,
                    release_at=item.release_at,
                    canary=item.canary,
                )
            )

    def claim_items(
        self, change_set_id: int, channel: str, skus: Sequence[str], at: datetime, stale_before: datetime
    ) -> bool:
        """Mark these items `releasing` (claimed at `at`) if they are pending, or claimed before
        `stale_before` by a worker that died; False when another worker holds any of them (then
        nothing is claimed: the caller's transaction must be rolled back)."""
        claimed = self._connection.execute(
            sa.update(price_change_item)
            .where(
                price_change_item.c.change_set_id == change_set_id,
                price_change_item.c.channel == channel,
                price_change_item.c.sku.in_(list(skus)),
                sa.or_(
                    price_change_item.c.state == "pending",
                    sa.and_(
                        price_change_item.c.state == "releasing",
                        price_change_item.c.published_at < stale_before,
                    ),
                ),
            )
            .values(state="releasing", published_at=at)
        ).rowcount
        return claimed == len(set(skus))

    def add_approval(self, change_set_id: int, approval: Approval) -> None:
        self._connection.execute(
            sa.insert(price_approval).values(
                change_set_id=change_set_id,
                user=approval.user,
                decision=approval.decision,
                comment=approval.comment[:2000],
                at=approval.at,
            )
        )

    def seen_sources(self, refs: Iterable[str]) -> set[str]:
        """Which of these source rows were already captured into some change set."""
        wanted = sorted(set(refs))
        seen: set[str] = set()
        for start in range(0, len(wanted), 500):
            rows = self._connection.execute(
                sa.select(price_change_item.c.source_ref)
                .where(price_change_item.c.source_ref.in_(wanted[start : start + 500]))
                .distinct()
            )
            seen.update(str(row[0]) for row in rows)
        return seen

    # -- price versions ------------------------------------------------------------------------

    def current_version(self, sku: str, channel: str) -> PriceVersion | None:
        row = (
            self._connection.execute(
                sa.select(price_version)
                .where(price_version.c.sku == sku, price_version.c.channel == channel)
                .order_by(price_version.c.version.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        return None if row is None else _version_of(row)

    def history(self, sku: str, channel: str | None = None) -> list[PriceVersion]:
        query = sa.select(price_version).where(price_version.c.sku == sku)
        if channel is not None:
            query = query.where(price_version.c.channel == channel)
        rows = self._connection.execute(
            query.order_by(price_version.c.channel, price_version.c.version)
        ).mappings()
        return [_version_of(row) for row in rows]

    def record_version(
        self,
        sku: str,
        channel: str,
        amount: Decimal,
        currency: str,
        cause: str,
        at: datetime,
        *,
        change_set_id: int | None = None,
        verified: bool = False,
    ) -> PriceVersion:
        current = self.current_version(sku, channel)
        version = PriceVersion(
            sku, channel, (current.version + 1) if current else 1, amount, currency, cause, at,
            change_set_id, verified,
        )  # fmt: skip
        self._connection.execute(
            sa.insert(price_version).values(
                sku=sku,
                channel=channel,
                version=version.version,
                amount=amount,
                currency=currency,
                change_set_id=change_set_id,
                cause=cause,
                recorded_at=at,
                verified=verified,
            )
        )
        return version


def with_state(item: ChangeItem, state: str, at: datetime | None = None) -> ChangeItem:
    return replace(item, state=state, published_at=at if at is not None else item.published_at)


def _item_values(item: ChangeItem) -> dict[str, Any]:
    return {
        "sku": item.sku,
        "channel": item.channel,
        "currency": item.currency,
        "old_price": item.old_price,
        "new_price": item.new_price,
        "source_price": item.source_price,
        "cost": item.cost,
        "map_floor": item.map_floor,
        "verdict": item.verdict,
        "rule": item.rule,
        "reason": item.reason[:1000],
        "release_at": item.release_at,
        "state": item.state,
        "canary": item.canary,
        "published_at": item.published_at,
        "source_ref": item.source_ref,
    }


def _item_of(row: sa.RowMapping) -> ChangeItem:
    return ChangeItem(
        sku=row["sku"],
        channel=row["channel"],
        currency=row["currency"],
        old_price=row["old_price"],
        new_price=row["new_price"],
        verdict=row["verdict"],
        rule=row["rule"],
        reason=row["reason"],
        source_price=row["source_price"],
        cost=row["cost"],
        map_floor=row["map_floor"],
        release_at=row["release_at"],
        state=row["state"],
        canary=bool(row["canary"]),
        published_at=row["published_at"],
        source_ref=row["source_ref"],
    )


def _version_of(row: sa.RowMapping) -> PriceVersion:
    return PriceVersion(
        sku=row["sku"],
        channel=row["channel"],
        version=int(row["version"]),
        amount=row["amount"],
        currency=row["currency"],
        cause=row["cause"],
        recorded_at=row["recorded_at"],
        change_set_id=row["change_set_id"],
        verified=bool(row["verified"]),
    )
