"""Propagation delay: from a stock-changing event to every channel acknowledging the new ATS.

Definition used by `channelhub bench flash-sale` (the same for every arm):

* A *stock-changing event* is anything that changes the true available-to-sell of a SKU: an order
  accepted on a channel, a receipt or adjustment in Odoo, a warehouse going offline. It is stamped
  (monotonic clock) the moment it happened (the storefront answered 201, Odoo committed the
  change) with the true ATS it produced (`truth`).
* A channel *acknowledges* the event at the first moment its stored quantity for the SKU (the
  emulator's own record, read in-process without API calls) equals that truth or the truth of a
  later event of the same SKU (a newer value supersedes an older one: showing it is at least as
  current). Negative channel quantities (sold past zero) count as 0, because a channel shows
  nothing for sale below zero, and the truth is never below zero.
* Under channelhub's low-stock fence (`channelhub.domain.fence`) a SKU with few units left is
  dealt between the channels, so no channel is meant to show the whole truth: such an event
  (`pooled`) is acknowledged at the first sample where the channels' quantities *add up* to its
  truth (or to a later event's), the fence's own invariant (its shares add up to what is left).
  Which channel holds which unit depends on the order the engine saw the sales in, so the sum is
  what is checked, never the split.
* The propagation delay of the event is the latest acknowledgement over all channels minus the
  event's stamp. Events still unacknowledged when measuring stops are reported separately
  (`unpropagated_events`), never as a made-up delay.

Channel quantities are sampled (every few tens of milliseconds, see the caller): a delay is
accurate to one sampling interval. The tracker itself is pure: the caller feeds it events and
observations with their timestamps.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass
class _Event:
    at: float
    truth: int
    pending: set[str]
    kind: str
    pooled: bool = False
    action: str | None = None  # events of one action share it (None: an action of its own)
    acknowledged_at: float | None = None


@dataclass
class _SkuHistory:
    events: list[_Event] = field(default_factory=list)
    first_open: int = 0  # events before this index are all acknowledged
    shown: dict[str, int] = field(default_factory=dict)  # latest quantity seen per channel
    changes: list[tuple[float, str, int]] = field(default_factory=list)  # (at, channel, new value)


class PropagationTracker:
    """Stock-changing events per SKU and when every channel showed their result."""

    def __init__(self, channels: Sequence[str]) -> None:
        if not channels:
            raise ValueError("propagation needs at least one channel")
        self.channels = tuple(channels)
        self._skus: dict[str, _SkuHistory] = {}
        self._open_skus: set[str] = set()

    def stock_changed(
        self,
        sku: str,
        at: float,
        truth: int,
        kind: str = "event",
        *,
        pooled: bool = False,
        action: str | None = None,
    ) -> None:
        """A stock-changing event of `sku` at `at` left its true ATS at `truth`; `kind` names what
        it was (an order, a stock move, a warehouse action) for `summary_by_kind`; `pooled`: the
        channels share `truth` between them (the low-stock fence) instead of each showing it;
        `action`: the same for every SKU one action changed (a warehouse going offline), for
        `summary_per_action` (None: the event is an action of its own)."""
        history = self._skus.setdefault(sku, _SkuHistory())
        if history.events and at < history.events[-1].at:
            raise ValueError(f"events of {sku} must be recorded in time order")
        history.events.append(_Event(at, max(0, truth), set(self.channels), kind, pooled, action))
        self._open_skus.add(sku)

    def open_skus(self) -> set[str]:
        """SKUs with an event some channel has not acknowledged yet (what the sampler must read)."""
        return set(self._open_skus)

    def channel_shows(self, channel: str, sku: str, at: float, quantity: int) -> None:
        """Channel `channel` stored `quantity` for `sku` when sampled at `at`."""
        history = self._skus.get(sku)
        if history is None:
            return
        shown = max(0, quantity)
        if history.shown.get(channel) != shown:
            history.changes.append((at, channel, shown))
        history.shown[channel] = shown
        events = history.events
        # The newest event (stamped before the sample) whose truth the channel shows: it and every
        # older event are acknowledged by this channel. Pooled events only count in sum (below).
        newest = -1
        for index in range(len(events) - 1, history.first_open - 1, -1):
            event = events[index]
            if event.at <= at and not event.pooled and event.truth == shown:
                newest = index
                break
        for index in range(history.first_open, newest + 1):
            event = events[index]
            if channel in event.pending:
                event.pending.discard(channel)
                if not event.pending:
                    self._done_through(history, index, at)
        if len(history.shown) == len(self.channels):
            total = sum(history.shown.values())
            for index in range(len(events) - 1, history.first_open - 1, -1):
                event = events[index]
                if event.at <= at and event.pooled and event.truth == total:
                    self._done_through(history, index, at)
                    break
        while history.first_open < len(events) and events[history.first_open].acknowledged_at is not None:
            history.first_open += 1
        if history.first_open == len(events):
            self._open_skus.discard(sku)

    @staticmethod
    def _done_through(history: _SkuHistory, newest: int, at: float) -> None:
        """Event `newest` is acknowledged by every channel: it and every older one are done."""
        for event in history.events[history.first_open : newest + 1]:
            event.pending.clear()
            if event.acknowledged_at is None:
                event.acknowledged_at = at

    def delays_ms(self, skus: Iterable[str] | None = None) -> list[float]:
        """Delays of every fully acknowledged event (of `skus` only, if given), in milliseconds."""
        histories = self._skus.values() if skus is None else [self._skus[s] for s in skus if s in self._skus]
        return [
            (event.acknowledged_at - event.at) * 1000.0
            for history in histories
            for event in history.events
            if event.acknowledged_at is not None
        ]

    def summary_of(self, skus: Iterable[str]) -> dict[str, float | int | None]:
        """Percentiles over the acknowledged events of `skus` (e.g. the flash-sale items, where
        overselling happens) and how many of their events were never acknowledged."""
        wanted = [sku for sku in skus if sku in self._skus]
        return _figures(sum(len(self._skus[sku].events) for sku in wanted), self.delays_ms(wanted))

    def summary_by_kind(self) -> dict[str, dict[str, float | int | None]]:
        """Percentiles per kind of event: one operator action that rewrites thousands of SKUs
        counts once per SKU in the overall figures, and this shows it apart from the orders."""
        delays: dict[str, list[float]] = {}
        events: dict[str, int] = {}
        for history in self._skus.values():
            for event in history.events:
                events[event.kind] = events.get(event.kind, 0) + 1
                if event.acknowledged_at is not None:
                    delays.setdefault(event.kind, []).append((event.acknowledged_at - event.at) * 1000.0)
        return {kind: _figures(count, delays.get(kind, [])) for kind, count in sorted(events.items())}

    def summary_per_action(self) -> dict[str, float | int | None]:
        """Percentiles with each action counted once: an order or a stock move is one action; a
        warehouse going offline is one action however many SKUs it changed, propagated when the
        last of them is (its delay is the slowest of its SKUs'). An action with any event never
        acknowledged is unpropagated."""
        slowest: dict[str | int, float | None] = {}
        for history in self._skus.values():
            for event in history.events:
                delay = None if event.acknowledged_at is None else (event.acknowledged_at - event.at) * 1000.0
                action = event.action if event.action is not None else id(event)
                if action in slowest:
                    known = slowest[action]
                    slowest[action] = None if known is None or delay is None else max(known, delay)
                else:
                    slowest[action] = delay
        return _figures(len(slowest), [delay for delay in slowest.values() if delay is not None])

    def slowest(self, count: int, kinds: Iterable[str]) -> list[dict[str, object]]:
        """The `count` slowest acknowledged events of `kinds`, with what they were (diagnosis)."""
        wanted = set(kinds)
        found = [
            (event.acknowledged_at - event.at, sku, event)
            for sku, history in self._skus.items()
            for event in history.events
            if event.kind in wanted and event.acknowledged_at is not None
        ]
        found.sort(key=lambda item: item[0], reverse=True)
        return [
            {
                "sku": sku,
                "kind": e.kind,
                "pooled": e.pooled,
                "truth": e.truth,
                "ms": round(delay * 1000.0, 1),
                # What happened to the SKU meanwhile, in ms from the event: other events' truths
                # and the values the channels showed (the first 30 of each).
                "events_meanwhile": self._meanwhile(
                    [(o.at, o.kind, o.truth) for o in self._skus[sku].events], e
                ),
                "channels_meanwhile": self._meanwhile(self._skus[sku].changes, e),
            }
            for delay, sku, e in found[:count]
        ]

    @staticmethod
    def _meanwhile(items: list[tuple[float, str, int]], event: _Event) -> list[tuple[float, str, int]]:
        until = event.acknowledged_at if event.acknowledged_at is not None else math.inf
        return [
            (float(round((at - event.at) * 1000.0)), what, value)
            for at, what, value in items
            if event.at - 5.0 <= at <= until
        ][:30]

    def event_count(self) -> int:
        return sum(len(history.events) for history in self._skus.values())

    def unpropagated(self) -> int:
        return sum(
            1 for history in self._skus.values() for event in history.events if event.acknowledged_at is None
        )

    def ages_ms(self, until: float) -> list[float]:
        """Every event's delay, unacknowledged ones counted at their age at `until` (a lower
        bound of their real delay)."""
        return self.delays_ms() + [
            (until - event.at) * 1000.0
            for history in self._skus.values()
            for event in history.events
            if event.acknowledged_at is None
        ]

    def summary(self, until: float | None = None) -> dict[str, float | int | None]:
        """Percentiles of the acknowledged events; with `until`, also over all events with the
        unacknowledged ones at their age then (`*_all_events_ms`, lower bounds)."""
        delays = self.delays_ms()
        found: dict[str, float | int | None] = {
            "stock_changing_events": self.event_count(),
            "unpropagated_events": self.unpropagated(),
            "p50_propagation_ms": percentile(delays, 50),
            "p99_propagation_ms": percentile(delays, 99),
            "max_propagation_ms": round(max(delays), 1) if delays else None,
        }
        if until is not None:
            ages = self.ages_ms(until)
            found["p50_propagation_all_events_ms"] = percentile(ages, 50)
            found["p99_propagation_all_events_ms"] = percentile(ages, 99)
        return found


def is_pooled(truth: int, fence_below: int | None) -> bool:
    """Whether the channels share `truth` between them (the low-stock fence is up) instead of each
    showing it."""
    return fence_below is not None and truth <= fence_below


def channels_show(truth: int, shown: Iterable[int], *, pooled: bool) -> bool:
    """Whether the channels' quantities (negatives count as 0) are right: each `truth`, or when
    `pooled` their sum (the split depends on the order the engine saw the sales in)."""
    values = [max(0, quantity) for quantity in shown]
    return sum(values) == truth if pooled else all(value == truth for value in values)


def _figures(events: int, delays: list[float]) -> dict[str, float | int | None]:
    """Events, how many were never acknowledged, and the percentiles of the acknowledged ones."""
    return {
        "events": events,
        "unpropagated_events": events - len(delays),
        "p50_propagation_ms": percentile(delays, 50),
        "p90_propagation_ms": percentile(delays, 90),
        "p99_propagation_ms": percentile(delays, 99),
    }


def percentile(values: Iterable[float], pct: float) -> float | None:
    """Nearest-rank percentile (no interpolation: every reported figure was really measured)."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return round(ordered[rank - 1], 1)
