"""Reconciliation: read every channel's quantities back, compare with desired, fix the differences.

The same level-triggered path as publishing (DESIGN principle 2): reconciliation does not push
values itself. For a listing whose channel value differs from what the store believes was
acknowledged (someone changed it in the shop admin, a WooCommerce write overwrote a sale, a
webhook was lost), it records the channel's real value as the acknowledged one. That makes the
listing dirty, and a publisher pass sends the desired value with the real value as the
compare-and-set guard. Then the fixed listings are read back once more to prove it.

Kinds of difference (`QuantityDiff`):
- *drift*: the channel shows something else than the acknowledged value: fixed as above;
- *pending*: the channel still shows the acknowledged value and the publisher has not sent the
  new desired value yet (a burst in flight): the publisher pass sends it;
- *missing*: the channel does not stock the SKU at all: reported, cannot be fixed by publishing.

`reconcile(..., dry_run=True)` changes nothing (no store write, no publish). The CLI shows
`progress` callbacks as a progress bar; `ReconciliationSchedule` runs it as a tier-3 job that
yields the channel to tier-1 publishing before each read (`Publisher.wait_idle`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from channelhub.clock import SYSTEM_CLOCK, Clock
from channelhub.domain import Sku
from channelhub.engine.publish_plan import batches
from channelhub.engine.publish_queries import listed_quantities
from channelhub.engine.publisher import CALL_ERRORS, Publisher
from channelhub.service.ports import ChannelGateway
from channelhub.store.repositories import StateRepositories

log = logging.getLogger(__name__)


class ReconciliationError(ValueError):
    """Reconciliation was asked for something it cannot do (e.g. an unknown channel)."""


@dataclass(frozen=True, slots=True)
class QuantityDiff:
    """One listing whose channel value is not the desired one."""

    channel: str
    sku: str
    desired: int
    channel_value: int | None  # None: the channel does not stock the SKU
    acknowledged: int | None

    @property
    def kind(self) -> str:
        if self.channel_value is None:
            return "missing"
        if self.channel_value == self.acknowledged:
            return "pending"
        return "drift"

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "sku": self.sku,
            "desired": self.desired,
            "channel_value": self.channel_value,
            "acknowledged": self.acknowledged,
            "kind": self.kind,
        }


@dataclass(frozen=True, slots=True)
class ReconcileProgress:
    """Reported after every read chunk (`stage="read"`, `checked` of `total` listings), before
    the differences are fixed (`"fix"`) and when the channel is done (`"done"`)."""

    channel: str
    stage: str  # "read" | "fix" | "done"
    checked: int
    total: int
    differences: int


@dataclass(slots=True)
class ChannelReconciliation:
    channel: str
    checked: int = 0
    matching: int = 0
    diffs: list[QuantityDiff] = field(default_factory=list)
    # The channel showed the desired value but our acknowledged value lagged (a lost response):
    # (sku, value) pairs, acknowledged without a call.
    lagging: list[tuple[str, int]] = field(default_factory=list)
    fixed: int = 0
    still_different: list[str] = field(default_factory=list)  # SKUs a fix did not converge
    # Lower on the channel than we set it, raise held back for a while (see `sales_grace_s`).
    waiting_for_sales: list[str] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "checked": self.checked,
            "matching": self.matching,
            "differences": len(self.diffs),
            "drift": sum(1 for d in self.diffs if d.kind == "drift"),
            "pending": sum(1 for d in self.diffs if d.kind == "pending"),
            "missing": sum(1 for d in self.diffs if d.kind == "missing"),
            "acknowledgements_corrected": len(self.lagging),
            "fixed": self.fixed,
            "still_different": list(self.still_different),
            "waiting_for_sales": list(self.waiting_for_sales),
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class ReconciliationReport:
    dry_run: bool
    started_at: datetime
    finished_at: datetime
    channels: tuple[ChannelReconciliation, ...]

    @property
    def checked(self) -> int:
        return sum(c.checked for c in self.channels)

    @property
    def diffs(self) -> list[QuantityDiff]:
        return [diff for c in self.channels for diff in c.diffs]

    @property
    def fixed(self) -> int:
        return sum(c.fixed for c in self.channels)

    @property
    def errors(self) -> dict[str, str]:
        return {c.channel: c.error for c in self.channels if c.error}

    @property
    def clean(self) -> bool:
        """No error, and nothing left different (after the fix; before it on a dry run)."""
        if self.errors:
            return False
        if self.dry_run:
            return not self.diffs
        return all(
            not c.still_different and not c.waiting_for_sales and all(d.kind != "missing" for d in c.diffs)
            for c in self.channels
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "checked": self.checked,
            "differences": len(self.diffs),
            "fixed": self.fixed,
            "clean": self.clean,
            "channels": [c.to_dict() for c in self.channels],
            "diffs": [d.to_dict() for d in self.diffs],
        }


ProgressCallback = Callable[[ReconcileProgress], None]


async def reconcile(
    engine: sa.Engine,
    publisher: Publisher,
    *,
    channel: str | None = None,
    dry_run: bool = False,
    clock: Clock = SYSTEM_CLOCK,
    progress: ProgressCallback | None = None,
    read_batch: int | None = None,
    whole_channel_reads: bool = False,
    yield_to_publisher_s: float = 0.0,
    sales_grace_s: float = 0.0,
) -> ReconciliationReport:
    """Reconcile `channel` (None: every channel of `publisher`) and report what differed.

    `read_batch`: SKUs per read call (default: the gateway's `max_quantities_per_call`).
    `whole_channel_reads`: one `read_available(None)` per channel instead of reads by SKU: the
    better choice when the gateway reads a whole catalogue cheaply (a Shopify bulk operation).
    `yield_to_publisher_s` > 0: before each read wait up to that long for the running publisher
    to have nothing sendable on the channel (the scheduled job's way to stay tier 3).
    `sales_grace_s` > 0: a channel showing *less* than we acknowledged may have sold units whose
    orders are not ingested yet; raising it back at once would put sold units on sale again, so
    the publisher holds such raises back that long (as after a compare-and-set conflict). The
    scheduled job uses the publisher's `conflict_grace_s`; a one-off run (CLI, after a sale)
    fixes at once."""
    if channel is not None and channel not in publisher.channels:
        known = ", ".join(publisher.channels) or "none"
        raise ReconciliationError(f"unknown channel {channel!r} (known: {known})")
    started = clock.now()
    results = []
    for name in (channel,) if channel is not None else publisher.channels:
        result = ChannelReconciliation(name)
        results.append(result)
        gateway = publisher.gateway(name)
        try:
            await _compare(
                engine,
                publisher,
                gateway,
                result,
                progress,
                read_batch,
                yield_to_publisher_s,
                whole_channel_reads,
            )
            if not dry_run:
                if progress is not None and result.diffs:
                    progress(
                        ReconcileProgress(name, "fix", result.checked, result.checked, len(result.diffs))
                    )
                await _fix(engine, publisher, gateway, result, clock, sales_grace_s)
        except CALL_ERRORS as error:
            result.error = f"{type(error).__name__}: {error}"
            log.warning("reconciling %s failed: %s", name, error)
        if progress is not None:
            progress(ReconcileProgress(name, "done", result.checked, result.checked, len(result.diffs)))
    return ReconciliationReport(dry_run, started, clock.now(), tuple(results))


async def _compare(
    engine: sa.Engine,
    publisher: Publisher,
    gateway: ChannelGateway,
    result: ChannelReconciliation,
    progress: ProgressCallback | None,
    read_batch: int | None,
    yield_to_publisher_s: float,
    whole_channel_reads: bool,
) -> None:
    with engine.connect() as connection:
        listed = listed_quantities(connection, result.channel)
    size = read_batch or max(1, gateway.limits.max_quantities_per_call)
    whole: dict[str, int] | None = None
    if whole_channel_reads and listed:
        if yield_to_publisher_s > 0:
            await publisher.wait_idle(result.channel, yield_to_publisher_s)
        whole = await gateway.read_available(None)
    for chunk in batches(listed, size):
        if whole is not None:
            shown = whole
        else:
            if yield_to_publisher_s > 0:
                await publisher.wait_idle(result.channel, yield_to_publisher_s)
            shown = await gateway.read_available([sku for sku, _, _ in chunk])
        for sku, desired, acknowledged in chunk:
            value = shown.get(sku)
            result.checked += 1
            if value == desired:
                result.matching += 1
                if acknowledged != value:
                    result.lagging.append((sku, value))
            else:
                result.diffs.append(QuantityDiff(result.channel, sku, desired, value, acknowledged))
        if progress is not None:
            progress(
                ReconcileProgress(result.channel, "read", result.checked, len(listed), len(result.diffs))
            )


async def _fix(
    engine: sa.Engine,
    publisher: Publisher,
    gateway: ChannelGateway,
    result: ChannelReconciliation,
    clock: Clock,
    sales_grace_s: float,
) -> None:
    """Record the channel's real values as acknowledged, publish, and read the fixes back."""
    fixable = [d for d in result.diffs if d.channel_value is not None]
    corrections = [
        (result.channel, Sku(d.sku), d.channel_value)
        for d in fixable
        if d.kind == "drift" and d.channel_value is not None
    ]
    corrections.extend((result.channel, Sku(sku), value) for sku, value in result.lagging)
    # Rows in (channel, SKU) order, like every other bulk listing write, so concurrent
    # transactions on PostgreSQL take row locks in one order and cannot deadlock.
    corrections.sort(key=lambda row: (row[0], str(row[1])))
    if corrections:
        with engine.begin() as connection:
            StateRepositories.on(connection).listings.acknowledge_quantities(corrections, clock.now())
    if not fixable:
        return
    sold = {
        d.sku: d.channel_value
        for d in fixable
        if d.kind == "drift"
        and d.channel_value is not None
        and d.acknowledged is not None
        and d.channel_value < d.acknowledged
    }
    if sales_grace_s > 0 and sold:
        publisher.hold_raises(result.channel, sold, sales_grace_s)
    await publisher.publish_until_clean(result.channel)
    skus = [d.sku for d in fixable]
    shown: dict[str, int] = {}
    for chunk in batches(skus, max(1, gateway.limits.max_quantities_per_call)):
        shown.update(await gateway.read_available(chunk))
    with engine.connect() as connection:
        listings = StateRepositories.on(connection).listings
        for sku in skus:
            state = listings.state(result.channel, Sku(sku))
            if state is not None and shown.get(sku) == state.desired_quantity:
                result.fixed += 1
            elif sales_grace_s > 0 and sku in sold:
                result.waiting_for_sales.append(sku)
            else:
                result.still_different.append(sku)


class ReconciliationSchedule:
    """Reconciliation as a scheduled tier-3 job: every `interval_s`, all channels, yielding each
    channel to tier-1 publishing before every read, and giving channel-side sales
    `sales_grace_s` (default: the publisher's `conflict_grace_s`) to be ingested before raising."""

    def __init__(
        self,
        engine: sa.Engine,
        publisher: Publisher,
        *,
        interval_s: float = 900.0,
        clock: Clock = SYSTEM_CLOCK,
        yield_to_publisher_s: float = 5.0,
        sales_grace_s: float | None = None,
        whole_channel_reads: bool = False,
        on_report: Callable[[ReconciliationReport], None] | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self._engine = engine
        self._publisher = publisher
        self.interval_s = interval_s
        self._clock = clock
        self._yield_s = yield_to_publisher_s
        self._whole_channel_reads = whole_channel_reads
        self._sales_grace_s = publisher.settings.conflict_grace_s if sales_grace_s is None else sales_grace_s
        self._on_report = on_report
        self.last_report: ReconciliationReport | None = None
        self.runs = 0

    async def run_once(self) -> ReconciliationReport:
        report = await reconcile(
            self._engine,
            self._publisher,
            clock=self._clock,
            yield_to_publisher_s=self._yield_s,
            sales_grace_s=self._sales_grace_s,
            whole_channel_reads=self._whole_channel_reads,
        )
        self.last_report = report
        self.runs += 1
        if self._on_report is not None:
            self._on_report(report)
        return report

    async def run(self, stop: asyncio.Event) -> None:
        """Sleep `interval_s`, reconcile, repeat until `stop` is set."""
        while not stop.is_set():
            sleeper = asyncio.ensure_future(self._clock.sleep(self.interval_s))
            stopper = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait([sleeper, stopper], return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                stopper.cancel()
            if stop.is_set():
                break
            report = await self.run_once()
            log.info(
                "scheduled reconciliation: %d checked, %d different, %d fixed",
                report.checked,
                len(report.diffs),
                report.fixed,
            )
