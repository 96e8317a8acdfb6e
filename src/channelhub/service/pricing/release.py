"""Releasing approved change sets: at their time or the channel's next release window, canary
first when configured, per channel all or nothing; `date_end` reverts; rollback restores.

`run_due()` is the scheduler's one tick (tier 2, every minute or so): it publishes what is due,
judges canaries whose watch time is over, and reverts sets whose effective window ended.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from channelhub.domain import Approver, ExceptionAction, InvalidTransition, MissingApproverRole
from channelhub.domain.price_changes import CanaryPlan, ChangeSetStatus, check_move
from channelhub.service.pricing.context import PricingContext, PricingError, Unit, summary
from channelhub.service.pricing.publication import ChannelOutcome, publish_channel
from channelhub.service.pricing.records import ChangeItem, ChangeSet, with_state
from channelhub.store.repositories import StateRepositories

HOLD_KIND = "price_release_held"
# A worker that claimed items and died leaves them `releasing`; after this long another may take them.
CLAIM_TIMEOUT = timedelta(minutes=10)


class _Taken(Exception):
    """Another worker is publishing these items (rolls the claim transaction back)."""


@dataclass
class ReleaseReport:
    """What one tick or one command did, per change set (for logs, the CLI and the API)."""

    published: list[int] = field(default_factory=list)
    canary_started: list[int] = field(default_factory=list)
    held: dict[int, str] = field(default_factory=dict)
    reverted: list[int] = field(default_factory=list)
    rolled_back: dict[int, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "published": self.published,
            "canary_started": self.canary_started,
            "held": {str(k): v for k, v in self.held.items()},
            "reverted": self.reverted,
            "rolled_back": {str(k): v for k, v in self.rolled_back.items()},
        }


class PriceRelease:
    def __init__(self, context: PricingContext) -> None:
        self.context = context

    async def run_due(self, *, force: bool = False, only: int | None = None) -> ReleaseReport:
        """Publish what is due now (`force`: ignore release times and canary watch), judge ended
        canaries, revert ended windows."""
        report = ReleaseReport()
        now = self.context.clock.now()
        with self.context.unit() as unit:
            live = (ChangeSetStatus.SCHEDULED, ChangeSetStatus.CANARY, ChangeSetStatus.PUBLISHED)
            ids = sorted(unit.records.ids(live, limit=10_000))
        for change_set_id in ids if only is None else [i for i in ids if i == only]:
            change_set = self._get(change_set_id)
            if change_set.status is ChangeSetStatus.PUBLISHED:
                if change_set.effective_until is not None and change_set.effective_until <= now:
                    await self._revert(change_set, report)
            elif change_set.status is ChangeSetStatus.CANARY:
                if force or (change_set.canary_until is not None and change_set.canary_until <= now):
                    await self._judge_canary(change_set, report)
            else:
                await self._release(change_set, report, force=force)
        return report

    async def retry(self, change_set_id: int, actor: str) -> ReleaseReport:
        """Put a held change set back on schedule and release what is due (the business
        exception's RETRY action)."""
        now = self.context.clock.now()
        with self.context.unit() as unit:
            change_set = self.context.load(unit, change_set_id)
            check_move(change_set.status, ChangeSetStatus.SCHEDULED)
            unit.records.set_status(change_set_id, ChangeSetStatus.SCHEDULED, now, hold_reason="")
            unit.audit.append(
                at=now, actor=actor, action="retried", subject=f"price-change:{change_set_id}",
                before={"status": change_set.status.value, "hold_reason": change_set.hold_reason},
                after={"status": ChangeSetStatus.SCHEDULED.value},
            )  # fmt: skip
        return await self.run_due(force=True, only=change_set_id)

    # -- release ---------------------------------------------------------------------------

    async def _release(self, change_set: ChangeSet, report: ReleaseReport, *, force: bool) -> None:
        now = self.context.clock.now()
        stale = now - CLAIM_TIMEOUT
        pending = [
            i
            for i in change_set.items
            if i.state == "pending"
            or (i.state == "releasing" and i.published_at is not None and i.published_at < stale)
        ]
        due = [i for i in pending if force or i.release_at is None or i.release_at <= now]
        canary_first = change_set.canary is not None and any(i.canary for i in change_set.items)
        if (
            canary_first
            and not force
            and not any(i.canary and i.state == "published" for i in change_set.items)
        ):
            due = [i for i in due if i.canary]
            if not due:
                return
            if await self._publish(change_set, due, report):
                watch = timedelta(minutes=float((change_set.canary or {}).get("watch_minutes", 15)))
                self._move(change_set.id, ChangeSetStatus.CANARY, "system", "canary_started",
                           {"canary_until": (now + watch).isoformat()}, canary_until=now + watch)  # fmt: skip
                report.canary_started.append(change_set.id)
            return
        if due and not await self._publish(change_set, due, report):
            return
        fresh = self._get(change_set.id)
        if all(i.state == "published" for i in fresh.items):
            self._move(change_set.id, ChangeSetStatus.PUBLISHED, "system", "published", summary(fresh))
            report.published.append(change_set.id)

    async def _publish(
        self, change_set: ChangeSet, items: Sequence[ChangeItem], report: ReleaseReport
    ) -> bool:
        """Publish `items` channel by channel; True when every channel verified them."""
        ok = True
        for channel in sorted({i.channel for i in items}):
            mine = [i for i in items if i.channel == channel]
            if not self._claim(change_set.id, channel, [i.sku for i in mine]):
                ok = False  # another worker is publishing them; it finishes the set
                continue
            with self.context.unit() as unit:
                unit.audit.append(
                    at=self.context.clock.now(), actor="system", action="released",
                    subject=f"price-change:{change_set.id}",
                    after={"channel": channel, "skus": len(mine), "canary": any(i.canary for i in mine)},
                )  # fmt: skip
            outcome = await self._push(
                channel, {i.sku: i.new_price for i in mine}, {i.sku: i.old_price for i in mine}
            )
            now = self.context.clock.now()
            with self.context.unit() as unit:
                subject = f"price-change:{change_set.id}"
                if outcome.ok:
                    for item in mine:
                        unit.records.record_version(
                            item.sku, channel, item.new_price, item.currency, "release", now,
                            change_set_id=change_set.id, verified=True,
                        )  # fmt: skip
                    unit.records.update_items(change_set.id, [with_state(i, "published", now) for i in mine])
                    unit.audit.append(
                        at=now, actor="system", action="verified", subject=subject,
                        after={"channel": channel, "attempts": outcome.attempts,
                               "prices": {i.sku: str(i.new_price) for i in mine}},
                    )  # fmt: skip
                else:
                    ok = False
                    unit.records.update_items(change_set.id, [with_state(i, "pending") for i in mine])
                    self._hold(unit, change_set, outcome, now)
                    report.held[change_set.id] = outcome.describe()
        return ok

    def _claim(self, change_set_id: int, channel: str, skus: list[str]) -> bool:
        now = self.context.clock.now()
        try:
            with self.context.unit() as unit:
                if not unit.records.claim_items(change_set_id, channel, skus, now, now - CLAIM_TIMEOUT):
                    raise _Taken()
        except _Taken:
            return False
        return True

    async def _push(
        self, channel: str, wanted: dict[str, Decimal], previous: dict[str, Decimal | None]
    ) -> ChannelOutcome:
        try:
            publisher = self.context.publisher(channel)
        except PricingError as error:
            return ChannelOutcome(channel, ok=False, problems={"(channel)": str(error)})
        release = self.context.settings.release
        return await publish_channel(
            publisher, wanted, previous, clock=self.context.clock,
            max_attempts=release.max_attempts, retry_delay_s=release.retry_delay_s,
        )  # fmt: skip

    def _hold(self, unit: Unit, change_set: ChangeSet, outcome: ChannelOutcome, now: datetime) -> None:
        current = self.context.load(unit, change_set.id)
        reason = outcome.describe()
        if current.status is not ChangeSetStatus.HELD:
            check_move(current.status, ChangeSetStatus.HELD)
        unit.records.set_status(change_set.id, ChangeSetStatus.HELD, now, hold_reason=reason)
        StateRepositories.on(unit.connection).exceptions.record(
            HOLD_KIND, f"price-change:{change_set.id}:{outcome.channel}", reason,
            (ExceptionAction.RETRY, ExceptionAction.DISMISS), now,
            {"change_set_id": change_set.id, "channel": outcome.channel, "problems": outcome.problems,
             "compensated": outcome.compensated},
        )  # fmt: skip
        unit.audit.append(
            at=now, actor="system", action="held", subject=f"price-change:{change_set.id}",
            before={"status": current.status.value},
            after={"status": ChangeSetStatus.HELD.value, "reason": reason, "compensated": outcome.compensated},
        )  # fmt: skip

    # -- canary ----------------------------------------------------------------------------

    async def _judge_canary(self, change_set: ChangeSet, report: ReleaseReport) -> None:
        settings = self.context.settings.canary
        plan: CanaryPlan | None = settings.plan() if settings is not None else None
        canary = [i for i in change_set.items if i.canary and i.state == "published"]
        errors = 0
        for channel in sorted({i.channel for i in canary}):
            try:
                shown = await self.context.publisher(channel).read_prices(
                    [i.sku for i in canary if i.channel == channel]
                )
            except Exception:
                errors += 1
                continue
            errors += sum(1 for i in canary if i.channel == channel and shown.get(i.sku) != i.new_price)
        before = after = Decimal(0)
        rate = self.context.order_rate
        started = (change_set.canary_until or self.context.clock.now()) - (
            plan.watch if plan else timedelta(0)
        )
        if rate is not None and plan is not None:
            for channel in sorted({i.channel for i in canary}):
                before += await rate.orders_per_hour(channel, started - plan.watch, started)
                after += await rate.orders_per_hour(channel, started, started + plan.watch)
        go_on, why = plan.verdict(errors, before, after) if plan is not None else (True, "no canary plan")
        now = self.context.clock.now()
        with self.context.unit() as unit:
            unit.audit.append(
                at=now, actor="canary", action="canary_judged", subject=f"price-change:{change_set.id}",
                after={"go_on": go_on, "reason": why, "errors": errors,
                       "orders_per_hour_before": str(before), "orders_per_hour_after": str(after)},
            )  # fmt: skip
            if go_on:
                check_move(change_set.status, ChangeSetStatus.SCHEDULED)
                unit.records.set_status(change_set.id, ChangeSetStatus.SCHEDULED, now)
        if go_on:
            await self._release(self._get(change_set.id), report, force=False)
        else:
            await self.rollback(change_set.id, Approver("canary", frozenset({"system"})), f"canary stopped: {why}",
                                report=report, system=True)  # fmt: skip

    # -- revert and rollback ---------------------------------------------------------------

    async def _revert(self, change_set: ChangeSet, report: ReleaseReport) -> None:
        restored = await self._restore(change_set, "revert", "system", "effective window ended", report)
        if restored:
            self._move(change_set.id, ChangeSetStatus.REVERTED, "system", "reverted",
                       {"reason": "effective window ended"})  # fmt: skip
            report.reverted.append(change_set.id)

    async def rollback(
        self,
        change_set_id: int,
        actor: Approver,
        reason: str,
        *,
        report: ReleaseReport | None = None,
        system: bool = False,
    ) -> ReleaseReport:
        """Restore the version before this change set on every channel it reached, and say why."""
        report = report or ReleaseReport()
        if not reason.strip():
            raise PricingError("a rollback needs a reason")
        role = self.context.settings.price_policy().approver_role
        if not system and role not in actor.roles:
            raise MissingApproverRole(f"{actor.user} lacks role {role!r}")
        change_set = self._get(change_set_id)
        if ChangeSetStatus.ROLLED_BACK not in _rollback_allowed(change_set.status):
            raise InvalidTransition(
                f"change set {change_set_id} is {change_set.status}; it cannot be rolled back"
            )
        if await self._restore(change_set, "rollback", actor.user, reason, report):
            self._move(change_set_id, ChangeSetStatus.ROLLED_BACK, actor.user, "rolled_back", {"reason": reason},
                       force=True)  # fmt: skip
            report.rolled_back[change_set_id] = reason
        else:
            # Not silently "rolled back": the set says so, and the business exception is open.
            now = self.context.clock.now()
            with self.context.unit() as unit:
                current = self.context.load(unit, change_set_id)
                held = ChangeSetStatus.HELD if current.status is ChangeSetStatus.CANARY else current.status
                note = f"rollback incomplete ({reason}): {report.held.get(change_set_id, '')}"
                unit.records.set_status(change_set_id, held, now, hold_reason=note)
        return report

    async def _restore(
        self, change_set: ChangeSet, cause: str, actor: str, reason: str, report: ReleaseReport
    ) -> bool:
        """Put the prior price back where this set's version is still the current one."""
        targets: list[ChangeItem] = []
        skipped: list[str] = []
        with self.context.unit() as unit:
            for item in change_set.items:
                if item.state != "published":
                    continue
                current = unit.records.current_version(item.sku, item.channel)
                if current is None or current.change_set_id != change_set.id or current.cause != "release":
                    skipped.append(f"{item.sku}@{item.channel}: superseded by a later version")
                elif item.old_price is None:
                    skipped.append(f"{item.sku}@{item.channel}: no prior price to restore")
                else:
                    targets.append(item)
        ok = True
        for channel in sorted({i.channel for i in targets}):
            mine = [i for i in targets if i.channel == channel]
            outcome = await self._push(
                channel,
                {i.sku: i.old_price for i in mine if i.old_price is not None},
                {i.sku: i.new_price for i in mine},
            )
            now = self.context.clock.now()
            with self.context.unit() as unit:
                if outcome.ok:
                    for item in mine:
                        assert item.old_price is not None
                        unit.records.record_version(
                            item.sku, channel, item.old_price, item.currency, cause, now,
                            change_set_id=change_set.id, verified=True,
                        )  # fmt: skip
                    state = "reverted" if cause == "revert" else "rolled_back"
                    unit.records.update_items(change_set.id, [replace(i, state=state) for i in mine])
                    unit.audit.append(
                        at=now, actor=actor, action=f"{cause}_verified", subject=f"price-change:{change_set.id}",
                        after={"channel": channel, "reason": reason,
                               "prices": {i.sku: str(i.old_price) for i in mine}},
                    )  # fmt: skip
                else:
                    ok = False
                    report.held[change_set.id] = outcome.describe()
                    StateRepositories.on(unit.connection).exceptions.record(
                        f"price_{cause}_failed", f"price-change:{change_set.id}:{channel}", outcome.describe(),
                        (ExceptionAction.RETRY, ExceptionAction.RESOLVE), now,
                        {"change_set_id": change_set.id, "channel": channel, "problems": outcome.problems},
                    )  # fmt: skip
                    unit.audit.append(
                        at=now, actor=actor, action=f"{cause}_failed", subject=f"price-change:{change_set.id}",
                        after={"channel": channel, "reason": outcome.describe()},
                    )  # fmt: skip
        if skipped:
            with self.context.unit() as unit:
                unit.audit.append(
                    at=self.context.clock.now(), actor=actor, action=f"{cause}_skipped",
                    subject=f"price-change:{change_set.id}", after={"items": skipped},
                )  # fmt: skip
        return ok

    # -- helpers ---------------------------------------------------------------------------

    def _get(self, change_set_id: int) -> ChangeSet:
        with self.context.unit() as unit:
            return self.context.load(unit, change_set_id)

    def _move(
        self,
        change_set_id: int,
        status: ChangeSetStatus,
        actor: str,
        action: str,
        after: dict[str, Any],
        *,
        canary_until: datetime | None = None,
        force: bool = False,
    ) -> None:
        now = self.context.clock.now()
        with self.context.unit() as unit:
            current = self.context.load(unit, change_set_id)
            if not force:
                check_move(current.status, status)
            unit.records.set_status(change_set_id, status, now, canary_until=canary_until)
            unit.audit.append(
                at=now, actor=actor, action=action, subject=f"price-change:{change_set_id}",
                before={"status": current.status.value}, after={"status": status.value, **after},
            )  # fmt: skip


def _rollback_allowed(status: ChangeSetStatus) -> set[ChangeSetStatus]:
    if status in (
        ChangeSetStatus.SCHEDULED,
        ChangeSetStatus.CANARY,
        ChangeSetStatus.HELD,
        ChangeSetStatus.PUBLISHED,
        ChangeSetStatus.REVERTED,
    ):
        return {ChangeSetStatus.ROLLED_BACK}
    return set()
