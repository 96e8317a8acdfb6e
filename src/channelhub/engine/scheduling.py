"""Pure decisions of the worker: which fetched events to handle now, and what a failure means.

Nothing here touches a database or a clock, so the rules are unit-tested directly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from channelhub.engine.events import LoggedEvent

# Shares of every batch kept for the lower tiers while they have work: tier 1 always gets at least
# the rest (85 %), so a backlog of tier 2/3 work never starves it, and tiers 2/3 still move when
# tier 1 is saturated.
RESERVED_SHARE = {2: 0.10, 3: 0.05}

OrderingKey = tuple[int, str]
"""(tier, key): events with the same ordering key are handled strictly in log order."""


def ordering_key(event: LoggedEvent) -> OrderingKey:
    return (event.tier, event.key)


def tier_quotas(available: dict[int, int], batch_size: int) -> dict[int, int]:
    """How many events of each tier go into the next batch.

    Lower tiers first get their reserved share (if they have that much work), tier 1 gets all
    the rest it can use, and capacity tier 1 leaves unused flows to tier 2, then tier 3.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    quotas = {1: 0, 2: 0, 3: 0}
    left = batch_size
    for tier, share in RESERVED_SHARE.items():
        quotas[tier] = min(available.get(tier, 0), math.floor(batch_size * share), left)
        left -= quotas[tier]
    for tier in (1, 2, 3):
        extra = max(0, min(available.get(tier, 0) - quotas[tier], left))
        quotas[tier] += extra
        left -= extra
    return quotas


def select_batch(
    candidates: Sequence[LoggedEvent], waiting: Collection[OrderingKey], batch_size: int
) -> list[LoggedEvent]:
    """The events to handle now, tier 1 first, each tier a prefix of its log order.

    `candidates` are ready events in (tier, seq) order; `waiting` are ordering keys whose oldest
    pending event is not due yet (backing off after a failure, or delayed): their later events
    must wait too, or per-key order would break.
    """
    by_tier: dict[int, list[LoggedEvent]] = {1: [], 2: [], 3: []}
    for event in candidates:
        if ordering_key(event) not in waiting:
            by_tier[event.tier].append(event)
    quotas = tier_quotas({tier: len(events) for tier, events in by_tier.items()}, batch_size)
    return [event for tier in (1, 2, 3) for event in by_tier[tier][: quotas[tier]]]


def cut_for_external(batch: Sequence[LoggedEvent], is_external: Callable[[str], bool]) -> list[LoggedEvent]:
    """The longest prefix of `batch` in which no external event follows an earlier event of its
    own ordering key. An external event's first phase runs before any event of the batch is
    applied, so it must not depend on an earlier event of the same key in the same batch; the rest
    waits for the next batch."""
    seen: set[OrderingKey] = set()
    for index, event in enumerate(batch):
        key = ordering_key(event)
        if key in seen and is_external(event.topic):
            return list(batch[:index])
        seen.add(key)
    return list(batch)


@dataclass(frozen=True)
class FailureOutcome:
    """What happens to an event whose handler failed."""

    dead: bool
    retry_in_s: float
    reason: str


def decide_failure(
    attempt: int, permanent: bool, max_attempts: int, delay_s: float, error_text: str
) -> FailureOutcome:
    """`attempt` is the 1-based number of the attempt that just failed."""
    if permanent:
        return FailureOutcome(True, 0.0, f"permanent error: {error_text}")
    if attempt >= max_attempts:
        return FailureOutcome(True, 0.0, f"gave up after {attempt} attempts: {error_text}")
    return FailureOutcome(False, delay_s, f"transient error, attempt {attempt}: {error_text}")
