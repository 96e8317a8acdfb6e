"""The publisher: brings every channel's available quantities to the desired values.

Level-triggered (DESIGN principle 2): the store keeps, per channel and SKU, the *desired*
quantity and the last *acknowledged* one; the publisher reads the listings where they differ and
sends the difference. Nothing is queued per change, so a burst of 100 changes on one SKU is one
update (only the latest desired value exists), and a crash loses nothing (the rows stay dirty).

One pass over a channel (`publish_once`):

1. read the dirty listings (`ListingRepository.dirty`, longest waiting first): two rounds' worth
   of batches (at most `scan_limit`) plus as many as the previous pass could not send (held, or
   dirty for their price only), so thousands of parked listings can never hide the ones behind
   them; when that window is full, also a round's worth of the most at-risk dirty listings
   (`publish_queries.at_risk_dirty`), so a backlog never delays a SKU that just sold out;
2. order them by risk (`publish_plan`: near zero or dropping first, then fast sellers, then the
   rest) and leave out the ones that are backing off, parked or held (`publish_state`);
3. batch them up to the gateway's `max_quantities_per_call` (at-risk updates in batches of
   their own, so an urgent batch is small and cheap on a cost-limited shop) and send them in
   rounds of `max_in_flight` concurrent calls; a wake-up between rounds (desired values changed
   since the scan) ends the pass early so the next one re-plans with the new values. Each update
   carries compare-and-set `expected_previous` = the acknowledged quantity, so a storefront sale
   in between is a CONFLICT, not an overwrite;
4. record each round's outcomes in one transaction: APPLIED → acknowledged (timestamped by the
   injected clock, so propagation latency is `acknowledged_at - desired_at`); CONFLICT → the channel's
   real value becomes the acknowledged one, the row stays dirty and the next pass re-plans from
   the truth; FAILED → `last_error` is recorded and the SKU backs off (transient) or is parked
   (permanent) without holding back any other SKU; a failed call backs the whole channel off.

`run(stop)` runs one asyncio task per channel, independent of the durable-log worker, so tier-1
publishing is never starved by tier 2/3 work. By default the task runs passes one after another
while there is sendable work, then sleeps until `wake()` (the app calls it after each commit of
the worker: `Worker(on_committed=publisher.on_committed)`), waits a short coalescing window so a
burst becomes one pass, and also sweeps every `sweep_interval_s` and when a backoff expires.

With `PublisherSettings(pipeline=True)` the task is a *pipeline* instead: it plans like a pass
(steps 1-3), keeps up to `max_in_flight` calls in the air, and records each call as soon as it
returns (step 4), so no slot waits for the slowest call of a round, the scan or the record. A SKU
in a call is never planned again until that call is recorded (its compare-and-set guard is the
value the record writes), and `publish_once` leaves out the SKUs the pipeline has in flight. A
new plan is made once the queue of the last one is sent; a wake-up in between only reads the
dirty listings at or near zero (one call's worth, a small read) and puts them at the head of the
queue, batched with it, so a SKU that just sold out elsewhere goes out in the next free call even
behind a backlog of thousands. Measured faster on its own (`channelhub bench publisher`); not
measurably different end to end in the 2-core flash sale (see `PublisherSettings.pipeline`).

`snapshot()` gives metrics-friendly counters per channel.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from channelhub.clock import SYSTEM_CLOCK, Clock
from channelhub.connectors.errors import ConnectorError, ThrottledError
from channelhub.domain import Sku
from channelhub.engine.publish_plan import PlannedUpdate, RiskRules, SalesVelocity, plan_updates, risk_batches
from channelhub.engine.publish_queries import at_risk_dirty
from channelhub.engine.publish_state import ChannelMemory
from channelhub.resilience import RetryPolicy
from channelhub.service.ports import ChannelGateway, PublishResult, PublishStatus, QuantityUpdate
from channelhub.store.db import reader
from channelhub.store.repositories import ListingState, StateRepositories

log = logging.getLogger(__name__)

CALL_ERRORS: tuple[type[BaseException], ...] = (ConnectorError, TimeoutError, ConnectionError)
"""Errors of a whole `set_available`/`read_available` call: the channel backs off and retries."""

_MAX_ERROR_TEXT = 1000
MAX_SELLING_HINTS = 2000  # SKUs remembered per channel as selling now (see `wake`)


def _merged(states: list[ListingState], extra: Iterable[ListingState]) -> list[ListingState]:
    """`states`, then the states of `extra` not among them (by SKU)."""
    merged = list(states)
    seen = {state.sku for state in states}
    for state in extra:
        if state.sku not in seen:
            seen.add(state.sku)
            merged.append(state)
    return merged


@dataclass(frozen=True, slots=True)
class PublisherSettings:
    coalescing_window_s: float = 0.03
    sweep_interval_s: float = 2.0
    # Rows read per pass at most: the longest waiting, capped at two rounds of batches (Shopify
    # 2 x 250, WooCommerce 4 x 100), plus a round's worth of the most at-risk when there are more.
    # A pass sends one round before re-planning, so a larger scan during a backlog of thousands
    # only re-reads rows the next pass reads again (the scan was 16 % of the engine's time).
    scan_limit: int = 1000
    max_batches_per_pass: int | None = None  # None: every sendable batch of the scan
    conflict_grace_s: float = 5.0
    permanent_retry_s: float = 600.0
    retry_base_delay_s: float = 0.5
    retry_max_delay_s: float = 30.0
    risk: RiskRules = field(default_factory=RiskRules)
    seed: int | None = None  # jitter of the backoff delays (reproducible runs)
    # How `run()` publishes: False, a loop of passes (`publish_once`); True, a pipeline that keeps
    # every call slot busy (see the module docstring). The pipeline is faster on its own (`channelhub
    # bench publisher`: the rewrite's p99 and sold-out SKUs' p50 about 25-40 % lower), but the
    # flash-sale benchmark, where the emulators share 2 cores with the engine, showed no difference
    # beyond its run-to-run spread; so the loop of passes, with more runs behind it, stays the default.
    pipeline: bool = False

    def __post_init__(self) -> None:
        if self.scan_limit < 1:
            raise ValueError("scan_limit must be at least 1")
        if self.max_batches_per_pass is not None and self.max_batches_per_pass < 1:
            raise ValueError("max_batches_per_pass must be at least 1")
        for name in ("coalescing_window_s", "conflict_grace_s", "permanent_retry_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.sweep_interval_s <= 0:  # 0 would make an idle publisher pass without pause
            raise ValueError("sweep_interval_s must be positive")


@dataclass(frozen=True, slots=True)
class PublishPass:
    """What one pass over one channel did."""

    channel: str
    dirty: int = 0  # dirty listings read
    sent: int = 0
    applied: int = 0
    conflicts: int = 0
    failed: int = 0
    held: int = 0  # dirty but not due yet (backing off, parked, conflict grace)
    calls: int = 0
    more: bool = False  # sendable work is left: run another pass at once
    next_due: float | None = None  # monotonic time at which held work becomes due


@dataclass
class _Outcome:
    acknowledged: list[tuple[str, Sku, int]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    applied: int = 0
    conflicts: int = 0
    failed: int = 0

    def add(self, other: _Outcome) -> None:
        self.acknowledged.extend(other.acknowledged)
        self.errors.extend(other.errors)
        self.applied += other.applied
        self.conflicts += other.conflicts
        self.failed += other.failed


@dataclass(frozen=True, slots=True)
class _Plan:
    """The sendable updates of one scan, batched riskiest first."""

    groups: list[list[PlannedUpdate]]
    dirty: int  # rows read
    held: int  # dirty but not sendable now (held back, or busy in another call)
    truncated: bool  # the scan read as many rows as it could: more may be waiting
    busy: int  # left out because a call carrying them was in flight: plan again when it lands
    window: int
    limit: int


def _first(
    urgent: list[list[PlannedUpdate]], queue: deque[list[PlannedUpdate]], per_call: int
) -> deque[list[PlannedUpdate]]:
    """`urgent` updates ahead of `queue`'s (which lose the SKUs `urgent` carries: its values are
    newer), batched again: an urgent update rides in the next call with the queue's, instead of
    a small call of its own that would take a slot from the backlog."""
    taken = {update.sku for group in urgent for update in group}
    rest = [update for group in queue for update in group if update.sku not in taken]
    return deque(risk_batches([*(update for group in urgent for update in group), *rest], per_call))


class Publisher:
    def __init__(
        self,
        engine: sa.Engine,
        gateways: Iterable[ChannelGateway],
        *,
        clock: Clock = SYSTEM_CLOCK,
        settings: PublisherSettings | None = None,
        on_propagated: Callable[[str, float, str], None] | None = None,
        selling_of: Callable[[Sequence[Any]], Iterable[str]] | None = None,
    ) -> None:
        """`on_propagated(channel, seconds, risk)`: called for every acknowledged listing with the
        time from its desired quantity changing to the channel applying it and the risk class it
        was sent under (`at_risk`, `fast`, `routine`), e.g. for a metrics histogram.
        `selling_of(events)`: the SKUs committed events sold (see `on_committed`)."""
        self._engine = engine
        self._on_propagated = on_propagated
        self._selling_of = selling_of
        self._clock = clock
        self.settings = settings or PublisherSettings()
        self._gateways = {gateway.name: gateway for gateway in gateways}
        self._retry = RetryPolicy(
            max_attempts=1_000_000,  # level-triggered: the listing stays dirty, we never give up
            base_delay=self.settings.retry_base_delay_s,
            max_delay=self.settings.retry_max_delay_s,
            rng=random.Random(self.settings.seed),
        )
        self._memory = {
            name: ChannelMemory(SalesVelocity(self.settings.risk.velocity_half_life_s))
            for name in self._gateways
        }
        self._locks = {name: asyncio.Lock() for name in self._gateways}
        self._wake = {name: asyncio.Event() for name in self._gateways}
        self._idle = {name: asyncio.Event() for name in self._gateways}
        for idle in self._idle.values():
            idle.set()  # nothing is known to be waiting until the first wake-up
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(self._gateways)

    def gateway(self, channel: str) -> ChannelGateway:
        try:
            return self._gateways[channel]
        except KeyError:
            known = ", ".join(sorted(self._gateways)) or "none"
            raise KeyError(f"no gateway for channel {channel!r} (known: {known})") from None

    # -- waking --------------------------------------------------------------------------------

    def wake(self, channel: str | None = None, selling: Iterable[str] = ()) -> None:
        """Desired values changed (on `channel`, or anywhere when None): publish soon.
        `selling`: SKUs an order was just taken for; their updates go first among the at-risk
        ones (after those near zero), even while thousands of older updates wait.

        Safe to call from any thread; cheap enough to call after every commit."""
        if channel is not None:
            self.gateway(channel)  # an unknown channel is a wiring mistake: say so
        skus = tuple(selling)
        if self._loop is not None and threading.get_ident() != self._loop_thread:
            self._loop.call_soon_threadsafe(self._set_wake, channel, skus)
        else:
            self._set_wake(channel, skus)

    def on_committed(self, events: Sequence[Any], at: float) -> None:
        """A `Worker(on_committed=...)` hook: handlers may have changed desired values; the SKUs
        `selling_of(events)` names (set at construction) go first."""
        if events:
            self.wake(selling=self._selling_of(events) if self._selling_of is not None else ())

    def _set_wake(self, channel: str | None, selling: tuple[str, ...] = ()) -> None:
        for name in (channel,) if channel is not None else self._gateways:
            if selling:
                hinted = self._memory[name].selling
                hinted.update(dict.fromkeys(selling))
                while len(hinted) > MAX_SELLING_HINTS:  # a hint, not a queue: the oldest go
                    del hinted[next(iter(hinted))]
            self._idle[name].clear()
            self._wake[name].set()

    async def wait_idle(self, channel: str, timeout_s: float) -> bool:
        """Wait until the running publisher has nothing sendable on `channel` (lower tiers call
        this to yield the channel's rate limit to tier 1); False when `timeout_s` passed first."""
        self.gateway(channel)
        try:
            await asyncio.wait_for(self._idle[channel].wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    def hold_raises(self, channel: str, floors: Mapping[str, int], grace_s: float) -> None:
        """For `grace_s`, do not raise these SKUs above the given channel values (lowering still
        goes): the channel sold units whose orders are probably not ingested yet."""
        self.gateway(channel)
        memory = self._memory[channel]
        until = self._clock.monotonic() + grace_s
        for sku, value in floors.items():
            memory.conflict_floor[sku] = (value, until)

    # -- publishing ----------------------------------------------------------------------------

    async def publish_once(self, channel: str) -> PublishPass:
        """One pass over `channel`: scan, plan, and send the due updates riskiest first."""
        gateway = self.gateway(channel)
        async with self._locks[channel]:
            memory = self._memory[channel]
            self._wake[channel].clear()  # changes committed from now on need another pass
            backing_off = memory.channel_held_until(self._clock.monotonic())
            if backing_off is not None:
                memory.counters.passes += 1
                return PublishPass(channel, next_due=backing_off)
            plan = await self._plan(channel, gateway, memory, lambda: memory.flying)
            skus = {update.sku for group in plan.groups for update in group}
            memory.flying |= skus
            try:
                outcome, sent_groups, interrupted = await self._send_rounds(
                    channel, gateway, memory, plan.groups
                )
            finally:
                memory.flying -= skus
            # Rows that failed now are held next time, like the ones held already.
            memory.unsendable_last_pass += outcome.failed
            scan_grows = plan.window + memory.unsendable_last_pass > plan.limit
            more = (
                interrupted
                or sent_groups < len(plan.groups)
                or (plan.truncated and (sent_groups > 0 or scan_grows))
                or outcome.conflicts > 0  # re-plan from the channel's real value at once
            )
            return PublishPass(
                channel,
                dirty=plan.dirty,
                sent=sum(len(group) for group in plan.groups[:sent_groups]),
                applied=outcome.applied,
                conflicts=outcome.conflicts,
                failed=outcome.failed,
                held=plan.held,
                calls=sent_groups,
                more=more and memory.channel_held_until(self._clock.monotonic()) is None,
                next_due=memory.next_due(self._clock.monotonic()),
            )

    async def _plan(
        self,
        channel: str,
        gateway: ChannelGateway,
        memory: ChannelMemory,
        busy: Callable[[], AbstractSet[str]],
        *,
        urgent: bool = False,
    ) -> _Plan:
        """Scan the dirty listings and batch the sendable ones riskiest first. `busy()` (asked
        once the scan is back) names SKUs that must not be sent now: a call carrying them is in
        flight or was recorded while the scan ran (the scan may have read the row before it).
        `urgent`: read only one call's worth of the listings at or near zero (a cheap probe)."""
        memory.counters.passes += 1
        # A pass sends one round before it re-plans: reading much more than a round's worth
        # (twice, for the held and the failed) only re-reads rows the next pass reads again.
        limits = gateway.limits
        per_call = max(1, limits.max_quantities_per_call)
        round_size = per_call * max(1, limits.max_in_flight)
        window = min(self.settings.scan_limit, 2 * round_size)
        limit = window + memory.unsendable_last_pass
        # In a thread: a scan of thousands of dirty rows must not stall the event loop (the
        # other channels' passes and their in-flight calls run on it).
        # The SKUs selling now are read whatever the window holds (once: a hint, not a queue).
        selling = list(itertools.islice(memory.selling, round_size))
        for sku in selling:
            del memory.selling[sku]
        if urgent:
            states = await asyncio.to_thread(self._read_near_zero, channel, per_call, selling)
        else:
            states = await asyncio.to_thread(
                self._read_dirty, channel, limit, min(window, round_size), selling
            )
        now = self._clock.monotonic()
        memory.velocity.prune_every(self.settings.risk.velocity_half_life_s, now)
        velocities = {
            state.sku.value: memory.velocity.observe(
                state.sku.value, state.desired_quantity, state.acknowledged_quantity, now
            )
            for state in states
            if state.desired_quantity is not None and state.quantity_differs
        }
        excluded = busy()
        planned = plan_updates(states, velocities, self.settings.risk, frozenset(selling))
        due = [update for update in planned if update.sku not in excluded]
        sendable = [update for update in due if memory.held_until(update, now) is None]
        held = len(velocities) - len(sendable)
        memory.counters.held_back += held
        if not urgent:
            memory.unsendable_last_pass = len(states) - len(sendable)
        return _Plan(
            groups=risk_batches(sendable, per_call),
            dirty=len(states),
            held=held,
            truncated=len(states) >= limit,
            busy=len(planned) - len(due),
            window=window,
            limit=limit,
        )

    async def _send_rounds(
        self, channel: str, gateway: ChannelGateway, memory: ChannelMemory, groups: list[list[PlannedUpdate]]
    ) -> tuple[_Outcome, int, bool]:
        """Send `groups` in rounds of `max_in_flight` concurrent calls, recording each round's
        outcome at once (acknowledged as soon as confirmed). Stops early when woken (desired
        values changed since the scan: re-plan with them) or when the channel must back off.
        Returns the outcome, the number of groups sent and whether it stopped early."""
        in_flight = max(1, gateway.limits.max_in_flight)
        budget = min(len(groups), self.settings.max_batches_per_pass or len(groups))
        total = _Outcome()
        sent = 0
        while sent < budget:
            if sent and (
                self._wake[channel].is_set() or memory.channel_held_until(self._clock.monotonic()) is not None
            ):
                return total, sent, True
            this_round = groups[sent : min(sent + in_flight, budget)]
            outcome = await self._send(gateway, memory, this_round)
            # In a thread: waiting for the store's write lock must not stall the event loop.
            await asyncio.to_thread(self._record, channel, outcome)
            total.add(outcome)
            sent += len(this_round)
        return total, sent, False

    async def publish_until_clean(self, channel: str, max_passes: int = 1000) -> PublishPass:
        """Passes over `channel` until nothing is sendable now; the totals of all passes."""
        total = PublishPass(channel)
        for _ in range(max_passes):
            one = await self.publish_once(channel)
            total = PublishPass(
                channel,
                dirty=max(total.dirty, one.dirty),
                sent=total.sent + one.sent,
                applied=total.applied + one.applied,
                conflicts=total.conflicts + one.conflicts,
                failed=total.failed + one.failed,
                held=one.held,
                calls=total.calls + one.calls,
                more=one.more,
                next_due=one.next_due,
            )
            if not one.more:
                break
        return total

    def _read_dirty(
        self, channel: str, limit: int, risky_limit: int, selling: Sequence[str] = ()
    ) -> list[ListingState]:
        """The `limit` longest waiting dirty listings; when there are more, also the `risky_limit`
        most at-risk ones, so a backlog never hides a SKU that just sold out; and the dirty ones
        of `selling`, wherever they are in the queue."""
        with reader(self._engine).connect() as connection:  # reads take no write lock
            listings = StateRepositories.on(connection).listings
            states = listings.dirty(channel, limit)
            extra = listings.dirty_of(channel, selling)
            if len(states) >= limit:
                extra += at_risk_dirty(connection, channel, self.settings.risk.near_zero, risky_limit)
        return _merged(states, extra)

    def _read_near_zero(self, channel: str, limit: int, selling: Sequence[str] = ()) -> list[ListingState]:
        """The `limit` dirty listings of `channel` whose desired quantity is at or near zero, and
        the dirty ones of `selling`."""
        with reader(self._engine).connect() as connection:
            near = at_risk_dirty(connection, channel, self.settings.risk.near_zero, limit, dropping=False)
            return _merged(near, StateRepositories.on(connection).listings.dirty_of(channel, selling))

    async def _send(
        self, gateway: ChannelGateway, memory: ChannelMemory, groups: list[list[PlannedUpdate]]
    ) -> _Outcome:
        in_flight = asyncio.Semaphore(max(1, gateway.limits.max_in_flight))

        async def send(group: list[PlannedUpdate]) -> list[PublishResult] | BaseException:
            async with in_flight:
                try:
                    return await gateway.set_available(
                        [QuantityUpdate(u.sku, u.quantity, u.expected_previous) for u in group]
                    )
                except CALL_ERRORS as error:
                    return error

        answers = await asyncio.gather(*(send(group) for group in groups))
        outcome = _Outcome()
        unresolved: list[PlannedUpdate] = []
        now = self._clock.monotonic()
        wall = self._clock.now()
        counters = memory.counters
        for group, answer in zip(groups, answers, strict=True):
            counters.calls += 1
            counters.updates_sent += len(group)
            if isinstance(answer, BaseException):
                self._call_failed(gateway.name, memory, answer, now)
                outcome.errors.extend((u.sku, f"publish call failed: {answer}") for u in group)
                outcome.failed += len(group)
                continue
            memory.call_succeeded()
            results = {result.sku: result for result in answer}
            for update in group:
                result = results.get(update.sku)
                if result is None:
                    result = PublishResult(
                        update.sku,
                        PublishStatus.FAILED,
                        error="the channel returned no result",
                        transient=True,
                    )
                if (
                    result.status is PublishStatus.CONFLICT
                    and result.channel_quantity is not None
                    and result.channel_quantity == update.expected_previous
                ):
                    # A refusal that found what we expected is no conflict: re-planning would
                    # send the same update at once, forever. Back off instead.
                    result = PublishResult(
                        update.sku,
                        PublishStatus.FAILED,
                        error=f"compare-and-set refused although the channel shows {result.channel_quantity}",
                        transient=True,
                    )
                if result.status is PublishStatus.CONFLICT and result.channel_quantity is None:
                    unresolved.append(update)
                else:
                    self._apply(gateway.name, memory, update, result, outcome, now, wall)
        if unresolved:
            await self._resolve_conflicts(gateway, memory, unresolved, outcome, now, wall)
        if outcome.applied:
            counters.last_publish_at = wall
        return outcome

    def _apply(
        self,
        channel: str,
        memory: ChannelMemory,
        update: PlannedUpdate,
        result: PublishResult,
        outcome: _Outcome,
        now: float,
        wall: datetime,
    ) -> None:
        counters = memory.counters
        sku = Sku(update.sku)
        if result.status is PublishStatus.APPLIED:
            shown = update.quantity if result.channel_quantity is None else result.channel_quantity
            outcome.acknowledged.append((channel, sku, shown))
            outcome.applied += 1
            counters.applied += 1
            latency = None if update.desired_at is None else (wall - update.desired_at).total_seconds()
            memory.applied(update.sku, now, latency)
            if latency is not None and self._on_propagated is not None:
                self._on_propagated(channel, latency, update.risk.name.lower())
        elif result.status is PublishStatus.CONFLICT and result.channel_quantity is not None:
            # The channel's real value becomes the acknowledged one: the row stays dirty (unless
            # it already shows the desired value) and the next pass sends the desired value with
            # this one as the compare-and-set guard.
            outcome.acknowledged.append((channel, sku, result.channel_quantity))
            outcome.conflicts += 1
            counters.conflicts += 1
            memory.conflicted(
                update.sku,
                update.expected_previous,
                result.channel_quantity,
                now,
                self.settings.conflict_grace_s,
            )
        elif result.status is PublishStatus.FAILED and result.transient:
            outcome.errors.append((update.sku, f"transient: {result.error or 'failed'}"))
            outcome.failed += 1
            counters.transient_failures += 1
            memory.failed_transiently(update.sku, now, self._retry.delay)
        else:
            unknown = result.status is PublishStatus.UNKNOWN_SKU
            reason = "not listed on the channel" if unknown else "refused"
            outcome.errors.append((update.sku, f"{reason}: {result.error or result.status.value}"))
            outcome.failed += 1
            if unknown:
                counters.unknown_skus += 1
            else:
                counters.permanent_failures += 1
            memory.failed_permanently(update.sku, update.quantity, now, self.settings.permanent_retry_s)

    async def _resolve_conflicts(
        self,
        gateway: ChannelGateway,
        memory: ChannelMemory,
        updates: list[PlannedUpdate],
        outcome: _Outcome,
        now: float,
        wall: datetime,
    ) -> None:
        """Conflicts whose answer did not carry the channel's value: read it back."""
        try:
            found = await gateway.read_available([u.sku for u in updates])
        except CALL_ERRORS as error:
            self._call_failed(gateway.name, memory, error, now)
            outcome.errors.extend((u.sku, f"conflict read-back failed: {error}") for u in updates)
            outcome.failed += len(updates)
            return
        for update in updates:
            value = found.get(update.sku)
            if value is None:
                result = PublishResult(update.sku, PublishStatus.UNKNOWN_SKU, error="absent on read-back")
            else:
                result = PublishResult(update.sku, PublishStatus.CONFLICT, channel_quantity=value)
            self._apply(gateway.name, memory, update, result, outcome, now, wall)

    def _call_failed(self, channel: str, memory: ChannelMemory, error: BaseException, now: float) -> None:
        attempts = memory.call_attempts()
        if getattr(error, "transient", isinstance(error, TimeoutError | ConnectionError)):
            delay = self._retry.delay(attempts)
            if isinstance(error, ThrottledError) and error.retry_after:
                delay = max(delay, float(error.retry_after))
        else:  # bad credentials and the like: retrying soon cannot help, but keep trying
            delay = self.settings.retry_max_delay_s
        memory.call_failed(now, delay)
        memory.counters.call_failures += 1
        memory.counters.last_error = str(error)[:_MAX_ERROR_TEXT]
        log.warning("publishing to %s failed (%s); retrying in %.2f s", channel, error, delay)

    def _record(self, channel: str, outcome: _Outcome) -> None:
        if not outcome.acknowledged and not outcome.errors:
            return
        with self._engine.begin() as connection:
            listings = StateRepositories.on(connection).listings
            # (channel, SKU) order, not the risk order they were sent in: every bulk write of
            # listings locks rows in this order, so a concurrent recompute cannot deadlock with us.
            acknowledged = sorted(outcome.acknowledged, key=lambda a: (a[0], a[1].value))
            listings.acknowledge_quantities(acknowledged, self._clock.now())
            for sku, error in sorted(outcome.errors):
                listings.record_error(channel, Sku(sku), error[:_MAX_ERROR_TEXT])

    # -- running -------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Publish every channel until `stop` is set (one task per channel)."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        try:
            async with asyncio.TaskGroup() as tasks:
                for channel in self._gateways:
                    runner = self._run_pipeline if self.settings.pipeline else self._run_passes
                    tasks.create_task(runner(channel, stop), name=f"publisher:{channel}")
        finally:
            self._loop = None
            self._loop_thread = None

    async def _run_passes(self, channel: str, stop: asyncio.Event) -> None:
        """Publish `channel` until `stop` in passes: one after another while there is sendable
        work, then asleep until woken (plus a coalescing window), a sweep, or something is due."""
        settings = self.settings
        while not stop.is_set():
            try:
                result = await self.publish_once(channel)
            except sa.exc.OperationalError as error:  # the store is busy or briefly unreachable
                log.warning("publisher for %s could not use the store: %s", channel, error)
                result = PublishPass(channel, next_due=self._clock.monotonic() + settings.retry_base_delay_s)
            if result.more:
                await asyncio.sleep(0)  # let the rest of the loop breathe between rounds
                continue
            self._idle[channel].set()  # nothing sendable is left until woken or due
            timeout = settings.sweep_interval_s
            if result.next_due is not None:  # a held update, a backoff, or the store being busy
                timeout = min(timeout, max(0.0, result.next_due - self._clock.monotonic()))
            if await self._sleep_or_wake(channel, stop, timeout) and settings.coalescing_window_s > 0:
                await self._clock.sleep(settings.coalescing_window_s)  # let the burst finish

    async def _run_pipeline(self, channel: str, stop: asyncio.Event) -> None:
        """Publish `channel` until `stop`, as a pipeline: up to `max_in_flight` calls are in the
        air at any time, each recorded as soon as it returns, and a slot that frees up takes the
        next batch of the current plan, or of a new one when desired values changed since it was
        made. A SKU in flight is never planned again until its call is recorded (its
        compare-and-set guard is the acknowledged value that record writes).

        Passes in rounds (`publish_once`) leave every slot idle while the slowest call of the
        round, the scan and the record run; during a sale every commit wakes the publisher, so
        that was one round per pass, and an at-risk update waited for all of it."""
        gateway = self.gateway(channel)
        memory = self._memory[channel]
        flights: set[asyncio.Task[_Outcome]] = set()
        queue: deque[list[PlannedUpdate]] = deque()
        landed: set[str] = set()  # SKUs recorded since the current scan began
        stale = True  # desired values may have changed since `queue` was planned
        probe = False  # woken since the last look for listings at or near zero
        more_in_store = False  # the last scan was full and sent something: scan again when done
        waiting_for_landing = False  # the last plan left out SKUs in flight: plan again when one lands
        try:
            while not stop.is_set():
                free = max(1, gateway.limits.max_in_flight) - len(flights)
                if free > 0 and memory.channel_held_until(self._clock.monotonic()) is None:
                    # A full plan reads two rounds' worth of rows: only once they are sent. In
                    # between, a wake-up only looks for listings at or near zero (a small read)
                    # and puts them first.
                    if not queue and (stale or more_in_store):
                        plan = await self._plan_in_pipeline(channel, gateway, memory, landed)
                        if plan is None:  # the store is busy: try again shortly
                            await self._sleep_or_wake(channel, stop, self.settings.retry_base_delay_s)
                            continue
                        stale = probe = False
                        waiting_for_landing = plan.busy > 0
                        queue = deque(plan.groups)
                        more_in_store = plan.truncated and bool(plan.groups)
                    elif probe:
                        probe = False
                        found = await self._plan_in_pipeline(channel, gateway, memory, landed, urgent=True)
                        if found is not None and found.groups:
                            queue = _first(found.groups, queue, gateway.limits.max_quantities_per_call)
                while free > 0 and queue and memory.channel_held_until(self._clock.monotonic()) is None:
                    group = queue.popleft()
                    memory.flying.update(update.sku for update in group)
                    flights.add(asyncio.create_task(self._fly(channel, gateway, memory, group, landed)))
                    free -= 1
                if not flights and not queue:
                    if more_in_store and memory.channel_held_until(self._clock.monotonic()) is None:
                        continue  # a full scan was sent: read the next rows at once
                    self._idle[channel].set()  # nothing sendable is left until woken or due
                    woken = await self._sleep_or_wake(channel, stop, self._due_in(memory))
                    if woken and self.settings.coalescing_window_s > 0:
                        await self._clock.sleep(self.settings.coalescing_window_s)  # let the burst finish
                    stale = True  # woken, a sweep, or something held became due
                    continue
                landed_now, woken = await self._wait_in_pipeline(
                    channel, stop, flights, stale and probe, memory
                )
                probe = probe or woken
                stale = (
                    stale
                    or woken
                    or (waiting_for_landing and bool(landed_now))
                    or any(outcome.conflicts for outcome in landed_now)
                )
        finally:
            for task in flights:
                task.cancel()  # their rows stay dirty: sent again by the next run
            await asyncio.gather(*flights, return_exceptions=True)
            memory.flying.clear()

    async def _plan_in_pipeline(
        self,
        channel: str,
        gateway: ChannelGateway,
        memory: ChannelMemory,
        landed: set[str],
        *,
        urgent: bool = False,
    ) -> _Plan | None:
        try:
            async with self._locks[channel]:  # never alongside a `publish_once` pass
                self._wake[channel].clear()  # changes committed from now on need another look
                landed.clear()
                return await self._plan(
                    channel, gateway, memory, lambda: memory.flying | landed, urgent=urgent
                )
        except sa.exc.OperationalError as error:  # the store is busy or briefly unreachable
            log.warning("publisher for %s could not use the store: %s", channel, error)
            return None

    async def _fly(
        self,
        channel: str,
        gateway: ChannelGateway,
        memory: ChannelMemory,
        group: list[PlannedUpdate],
        landed: set[str],
    ) -> _Outcome:
        """One call of the pipeline: send `group`, record its outcome, free its SKUs."""
        try:
            outcome = await self._send(gateway, memory, [group])
            try:
                # In a thread: waiting for the store's write lock must not stall the event loop.
                await asyncio.to_thread(self._record, channel, outcome)
            except sa.exc.OperationalError as error:
                # Not recorded: the rows stay dirty and go again (compare-and-set finds the
                # channel at the value sent, a conflict that reads it back).
                log.warning("publisher for %s could not record a call: %s", channel, error)
            return outcome
        finally:
            skus = {update.sku for update in group}
            memory.flying -= skus
            landed |= skus

    async def _wait_in_pipeline(
        self,
        channel: str,
        stop: asyncio.Event,
        flights: set[asyncio.Task[_Outcome]],
        woken_already: bool,
        memory: ChannelMemory,
    ) -> tuple[list[_Outcome], bool]:
        """Wait until a call lands, desired values change (unless `woken_already`: the next free
        slot acts on it anyway), something held becomes due, or `stop`; returns the outcomes that
        landed and whether it was woken."""
        wake = self._wake[channel]
        waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(stop.wait())]
        if not woken_already:
            waiters.append(asyncio.ensure_future(wake.wait()))
        timer = asyncio.ensure_future(self._clock.sleep(self._due_in(memory)))
        try:
            await asyncio.wait([*flights, *waiters, timer], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (*waiters, timer):
                waiter.cancel()
        landed = [task for task in flights if task.done()]
        outcomes = []
        for task in landed:
            flights.discard(task)
            if not task.cancelled() and task.exception() is None:
                outcomes.append(task.result())
            elif not task.cancelled():
                log.error("publishing to %s failed unexpectedly", channel, exc_info=task.exception())
        return outcomes, wake.is_set() or timer.done()

    def _due_in(self, memory: ChannelMemory) -> float:
        """Seconds until the next sweep or the next held update (or channel backoff) is due."""
        now = self._clock.monotonic()
        timeout = self.settings.sweep_interval_s
        due = memory.next_due(now)
        if due is not None:
            timeout = min(timeout, max(0.0, due - now))
        return timeout

    async def _sleep_or_wake(self, channel: str, stop: asyncio.Event, timeout_s: float) -> bool:
        """Sleep up to `timeout_s` or until `stop`; True when woken by `wake()` for `channel`."""
        waiters = [
            asyncio.ensure_future(self._wake[channel].wait()),
            asyncio.ensure_future(stop.wait()),
            asyncio.ensure_future(self._clock.sleep(timeout_s)),
        ]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        return self._wake[channel].is_set() and not stop.is_set()

    # -- reporting -----------------------------------------------------------------------------

    def backlog(self) -> dict[str, int]:
        """Dirty listings per channel right now (a store query: for gauges, not for hot loops)."""
        with self._engine.connect() as connection:
            listings = StateRepositories.on(connection).listings
            return {channel: listings.count_dirty(channel) for channel in self._gateways}

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Counters per channel: calls, updates, conflicts, failures, last publish time,
        propagation latency percentiles of recent acknowledgements, backoff state."""
        now = self._clock.monotonic()
        return {channel: memory.snapshot(now) for channel, memory in self._memory.items()}
