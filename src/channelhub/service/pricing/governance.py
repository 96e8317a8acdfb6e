"""Proposals, policy and maker-checker approval of change sets.

`propose` turns source prices into one change set: each SKU × channel is rounded by the channel's
rule, compared with the current version (or, for a SKU never published, what the channel shows
now, recorded as the baseline version), judged by the policy, and the set gets the verdict of its
items. `approve` / `reject` apply maker-checker; an approved set is scheduled for its release.
Every step is appended to the audit trail in the same transaction as the state it changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from channelhub.domain import (
    Approver,
    InvalidTransition,
    Money,
    PriceDecision,
    PriceProposal,
    PriceVerdict,
    Sku,
)
from channelhub.domain.price_changes import (
    ChangeSetStatus,
    ImpactLine,
    approvals_required,
    blast_radius,
    check_move,
    check_set_approval,
    next_release,
    set_verdict,
)
from channelhub.service.pricing.context import PricingContext, PricingError, Unit, summary
from channelhub.service.pricing.records import Approval, ChangeItem, ChangeSet


@dataclass(frozen=True, slots=True)
class ProposedPrice:
    """A price the source wants a channel to show (before the channel's rounding)."""

    sku: str
    channel: str
    amount: Decimal
    currency: str
    tax_included: bool | None = None
    source_ref: str | None = None


class PriceGovernance:
    def __init__(self, context: PricingContext) -> None:
        self.context = context

    # -- proposing -----------------------------------------------------------------------------

    async def propose(
        self,
        prices: Sequence[ProposedPrice],
        *,
        title: str,
        proposed_by: str,
        source_key: str | None = None,
        pricelist: str | None = None,
        effective_from: datetime | None = None,
        effective_until: datetime | None = None,
        captured: Mapping[str, Any] | None = None,
    ) -> ChangeSet | None:
        """Record one change set for `prices`; None when nothing would change or when this
        `source_key` was proposed before (captures are re-delivered: they must not pile up).

        A SKU the channel does not list (no version and the channel shows no price) is left out
        for that channel. `captured` (what the source said) is audited before the proposal."""
        context = self.context
        key = source_key or _content_key(prices, effective_from, effective_until, context.clock.now())
        with context.unit() as unit:
            if unit.records.find_by_source(key) is not None:
                return None
        now = context.clock.now()
        baselines, unlisted = await self._baselines(prices)
        costs = await context.source.costs(sorted({p.sku for p in prices})) if context.source else {}
        velocity = await self._velocity(prices)
        with context.unit() as unit:
            items: list[ChangeItem] = []
            for price in prices:
                if (price.sku, price.channel) in unlisted:
                    continue
                item = self._judge(
                    unit, price, baselines, costs, proposed_by, now, effective_from, effective_until
                )
                if item is not None:
                    items.append(item)
            if not items:
                return None
            verdict = set_verdict([(f"{i.sku}@{i.channel}", _decision(i)) for i in items])
            radius = blast_radius(_impact(items, velocity), context.settings.preview_days)
            at_risk = abs(radius.revenue_delta)
            draft = ChangeSet(
                id=0,
                title=title[:200],
                status=verdict.status,
                proposed_by=proposed_by,
                proposed_at=now,
                rule=verdict.rule,
                reason=verdict.reason,
                items=tuple(items),
                pricelist=pricelist,
                effective_from=effective_from,
                effective_until=effective_until,
                approvals_required=approvals_required(at_risk, context.settings.two_approvers_above),
                revenue_at_risk=at_risk,
                canary=_canary_dict(context),
                updated_at=now,
            )
            if draft.status is ChangeSetStatus.SCHEDULED:
                draft = replace(draft, items=self._scheduled_items(draft, now))
            change_set_id = unit.records.add(draft, key)
            created = context.load(unit, change_set_id)
            subject = f"price-change:{change_set_id}"
            if captured is not None:
                unit.audit.append(at=now, actor="capture", action="captured", subject=subject, after=captured)
            proposed = summary(created)
            if unlisted:
                proposed["not_listed"] = sorted(f"{sku}@{channel}" for sku, channel in unlisted)
            unit.audit.append(at=now, actor=proposed_by, action="proposed", subject=subject, after=proposed)
            unit.audit.append(
                at=now,
                actor="policy",
                action="decided",
                subject=subject,
                after={"status": created.status.value, "rule": created.rule, "reason": created.reason,
                       "approvals_required": created.approvals_required,
                       "revenue_at_risk": str(created.revenue_at_risk)},
            )  # fmt: skip
            if created.status is ChangeSetStatus.SCHEDULED:
                unit.audit.append(
                    at=now, actor="policy", action="approved", subject=subject, after={"auto": True}
                )
            return created

    async def _baselines(
        self, prices: Sequence[ProposedPrice]
    ) -> tuple[dict[tuple[str, str], Decimal], set[tuple[str, str]]]:
        """What each channel shows now for SKUs without a version yet (read once per channel),
        and the (SKU, channel) pairs the channel does not list at all."""
        missing: dict[str, list[str]] = {}
        with self.context.unit() as unit:
            for price in prices:
                if unit.records.current_version(price.sku, price.channel) is None:
                    missing.setdefault(price.channel, []).append(price.sku)
        shown: dict[tuple[str, str], Decimal] = {}
        unlisted: set[tuple[str, str]] = set()
        for channel, skus in missing.items():
            publisher = self.context.publishers.get(channel)
            if publisher is not None:
                found = await publisher.read_prices(skus)
                for sku in skus:
                    if sku in found:
                        shown[(sku, channel)] = found[sku]
                    else:
                        unlisted.add((sku, channel))
        return shown, unlisted

    def _judge(
        self,
        unit: Unit,
        price: ProposedPrice,
        baselines: dict[tuple[str, str], Decimal],
        costs: dict[str, tuple[Decimal, str]],
        proposed_by: str,
        now: datetime,
        effective_from: datetime | None,
        effective_until: datetime | None,
    ) -> ChangeItem | None:
        settings = self.context.settings
        channel = settings.channel(price.channel)
        rounded = channel.rounding.rule().apply(price.amount) if price.amount > 0 else price.amount
        current = unit.records.current_version(price.sku, price.channel)
        if current is None and (price.sku, price.channel) in baselines:
            current = unit.records.record_version(
                price.sku, price.channel, baselines[(price.sku, price.channel)],
                channel.currency or price.currency, "baseline", now, verified=True,
            )  # fmt: skip
        old = current.amount if current is not None else None
        if old is not None and old == rounded and effective_from is None and effective_until is None:
            return None  # already the channel's price: nothing to govern
        cost = costs.get(price.sku)
        floor = settings.map_floors.get(price.sku)
        tax = price.tax_included if price.tax_included is not None else settings.source_tax_included
        try:
            proposal = PriceProposal(
                proposal_id=f"{price.sku}@{price.channel}",
                sku=Sku(price.sku),
                channel=price.channel,
                new=Money(rounded, price.currency),
                proposed_by=proposed_by,
                proposed_at=now,
                old=Money(old, current.currency) if old is not None and current is not None else None,
                cost=Money(cost[0], cost[1]) if cost else None,
                map_floor=Money(floor, channel.currency or price.currency) if floor is not None else None,
                effective_from=effective_from,
                effective_until=effective_until,
                channel_currency=channel.currency,
                tax_included=tax,
                channel_tax_included=channel.tax_included,
            )
            decision = settings.price_policy().evaluate(proposal)
            verdict, rule, reason = decision.verdict.value, decision.rule, decision.reason
        except ValueError as error:  # a SKU or currency the domain refuses: malformed
            verdict, rule, reason = "reject", "malformed", str(error)
        return ChangeItem(
            sku=price.sku,
            channel=price.channel,
            currency=price.currency,
            old_price=old,
            new_price=rounded,
            verdict=verdict,
            rule=rule,
            reason=reason,
            source_price=price.amount,
            cost=cost[0] if cost else None,
            map_floor=floor,
            source_ref=price.source_ref,
        )

    async def _velocity(
        self, pairs: Sequence[ProposedPrice] | Sequence[ChangeItem]
    ) -> dict[tuple[str, str], Decimal]:
        """Recent units per day per (SKU, channel); read before any transaction opens (it may
        call Odoo, and a store transaction must not wait on the network)."""
        velocity: dict[tuple[str, str], Decimal] = {}
        if self.context.velocity is not None:
            for channel in sorted({pair.channel for pair in pairs}):
                skus = sorted({pair.sku for pair in pairs if pair.channel == channel})
                for sku, units in (await self.context.velocity.units_per_day(channel, skus)).items():
                    velocity[(sku, channel)] = units
        return velocity

    def _scheduled_items(self, change_set: ChangeSet, now: datetime) -> tuple[ChangeItem, ...]:
        """Each item's release time: the effective start (or now), moved into its channel's next
        release window; canary items are marked."""
        settings = self.context.settings
        start = max(change_set.effective_from or now, now)
        plan = settings.canary_plan()
        skus = [item.sku for item in change_set.items]
        return tuple(
            replace(
                item,
                release_at=next_release(start, settings.channel(item.channel).windows()),
                canary=plan.in_canary(item.sku, item.channel, skus) if plan is not None else False,
            )
            for item in change_set.items
        )

    # -- deciding ------------------------------------------------------------------------------

    def approve(self, change_set_id: int, approver: Approver, comment: str = "") -> ChangeSet:
        context = self.context
        now = context.clock.now()
        with context.unit() as unit:
            change_set = context.load(unit, change_set_id)
            _expect(change_set, ChangeSetStatus.PENDING_APPROVAL, "approved")
            check_set_approval(
                change_set.proposed_by, approver, context.settings.price_policy(),
                frozenset(change_set.approvers()),
            )  # fmt: skip
            unit.records.add_approval(change_set_id, Approval(approver.user, "approve", comment, now))
            subject = f"price-change:{change_set_id}"
            votes = len(change_set.approvers()) + 1
            unit.audit.append(
                at=now, actor=approver.user, action="approved", subject=subject,
                before={"status": change_set.status.value},
                after={"comment": comment, "approvals": votes, "required": change_set.approvals_required},
            )  # fmt: skip
            if votes >= change_set.approvals_required:
                check_move(change_set.status, ChangeSetStatus.SCHEDULED)
                unit.records.set_status(change_set_id, ChangeSetStatus.SCHEDULED, now)
                unit.records.update_items(change_set_id, self._scheduled_items(change_set, now))
                scheduled = context.load(unit, change_set_id)
                unit.audit.append(
                    at=now, actor=approver.user, action="scheduled", subject=subject,
                    before={"status": change_set.status.value},
                    after={"status": scheduled.status.value,
                           "release_at": sorted({str(i.release_at) for i in scheduled.items})},
                )  # fmt: skip
            return context.load(unit, change_set_id)

    def reject(self, change_set_id: int, approver: Approver, comment: str) -> ChangeSet:
        """Reject with a comment (required: the proposer must learn why)."""
        if not comment.strip():
            raise PricingError("a rejection needs a comment saying why")
        context = self.context
        now = context.clock.now()
        with context.unit() as unit:
            change_set = context.load(unit, change_set_id)
            _expect(change_set, ChangeSetStatus.PENDING_APPROVAL, "rejected")
            check_set_approval(change_set.proposed_by, approver, context.settings.price_policy())
            unit.records.add_approval(change_set_id, Approval(approver.user, "reject", comment, now))
            unit.records.set_status(change_set_id, ChangeSetStatus.REJECTED, now)
            unit.audit.append(
                at=now, actor=approver.user, action="rejected", subject=f"price-change:{change_set_id}",
                before={"status": change_set.status.value},
                after={"status": ChangeSetStatus.REJECTED.value, "comment": comment},
            )  # fmt: skip
            return context.load(unit, change_set_id)

    # -- reading -------------------------------------------------------------------------------

    def change_sets(self, status: ChangeSetStatus | None = None, limit: int = 200) -> list[ChangeSet]:
        with self.context.unit() as unit:
            ids = unit.records.ids([status] if status is not None else None, limit)
            return [found for i in ids if (found := unit.records.get(i)) is not None]

    def get(self, change_set_id: int) -> ChangeSet:
        with self.context.unit() as unit:
            return self.context.load(unit, change_set_id)

    def history(self, sku: str, channel: str | None = None) -> list[dict[str, Any]]:
        with self.context.unit() as unit:
            return [version.to_dict() for version in unit.records.history(sku, channel)]

    async def preview(self, change_set_id: int, days: int | None = None) -> dict[str, Any]:
        """The blast radius: SKUs, channels, revenue and margin at stake (velocity × delta)."""
        change_set = self.get(change_set_id)
        horizon = days or self.context.settings.preview_days
        lines = _impact(change_set.items, await self._velocity(change_set.items))
        radius = blast_radius(lines, horizon)
        return {
            "id": change_set.id,
            "status": change_set.status.value,
            "title": change_set.title,
            **radius.to_dict(),
            "lines": [
                {
                    "sku": line.sku,
                    "channel": line.channel,
                    "old_price": None if line.old_price is None else str(line.old_price),
                    "new_price": str(line.new_price),
                    "units_per_day": str(line.units_per_day),
                    "revenue_delta": str(
                        (
                            line.units_per_day
                            * horizon
                            * (line.new_price - (line.old_price or line.new_price))
                        ).quantize(Decimal("0.01"))
                    ),
                }
                for line in lines
            ],
        }


def _impact(items: Sequence[ChangeItem], velocity: Mapping[tuple[str, str], Decimal]) -> list[ImpactLine]:
    return [
        ImpactLine(
            item.sku,
            item.channel,
            item.old_price,
            item.new_price,
            item.cost,
            velocity.get((item.sku, item.channel), Decimal(0)),
        )
        for item in items
    ]


def _expect(change_set: ChangeSet, status: ChangeSetStatus, verb: str) -> None:
    if change_set.status is not status:
        raise InvalidTransition(
            f"change set {change_set.id} is {change_set.status}; only {status} can be {verb}"
        )


def _decision(item: ChangeItem) -> PriceDecision:
    return PriceDecision(PriceVerdict(item.verdict), item.rule, item.reason)


def _canary_dict(context: PricingContext) -> dict[str, Any] | None:
    canary = context.settings.canary
    return None if canary is None else canary.model_dump(mode="json")


def _content_key(
    prices: Sequence[ProposedPrice], starts: datetime | None, ends: datetime | None, now: datetime
) -> str:
    """Manual proposals are new each time they are made (the time is part of the key)."""
    text = "|".join(
        f"{p.sku}@{p.channel}={p.amount}{p.currency}"
        for p in sorted(prices, key=lambda p: (p.channel, p.sku))
    )
    digest = hashlib.sha256(f"{text}|{starts}|{ends}".encode()).hexdigest()[:32]
    return f"manual:{now.isoformat()}:{digest}"
