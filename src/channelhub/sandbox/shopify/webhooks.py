"""Webhook delivery the way Shopify does it: signed, retried, sometimes duplicated.

Each event is serialized once when it happens; every attempt (retries included) carries that
original body. A delivery succeeds on any 2xx within the timeouts (1 s to connect, 5 s to
answer); otherwise it is retried 8 times with exponential backoff, about 4 hours in all
(56.25 s doubling up to 2 h). `time_scale` compresses that schedule for tests. After the last
failed retry, a subscription created through the API is deleted, as Shopify does.

Delivery runs on a background thread with an httpx client, so a slow receiver never blocks the
Admin API.

Chaos (see `chaos.ChaosSettings`): `webhook_duplicate_rate` sends a first attempt twice (same
webhook id); `webhook_reorder_rate` holds a first attempt back until the next delivery to the same
endpoint has been attempted, so the later event really arrives first (one held delivery per
endpoint at a time; if nothing overtakes it within `webhook_reorder_max_hold_s` it goes out
alone and does not count as reordered). `duplicated` / `reordered` count what was done.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import heapq
import hmac
import itertools
import json
import logging
import threading
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import httpx

from channelhub.sandbox.shopify.chaos import Chaos
from channelhub.sandbox.shopify.state import ShopState, WebhookSubscription

log = logging.getLogger(__name__)

RETRY_DELAYS_S: tuple[float, ...] = tuple(56.25 * 2**n for n in range(8))
MAX_RETRIES = len(RETRY_DELAYS_S)


def sign(body: bytes, secret: str) -> str:
    """X-Shopify-Hmac-Sha256: base64 of the HMAC-SHA256 of the raw body under the app secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Delivery:
    webhook_id: str
    event_id: str
    topic: str
    subscription_id: int
    uri: str
    api_version: str
    body: bytes
    triggered_at: str
    attempt: int = 0  # 0 = first try, n = n-th retry
    skip_once: bool = False  # chaos drop: this attempt is silently not sent
    # Chaos reorder: held deliveries (with their offsets) released once this attempt is done.
    release: list[tuple[Delivery, float]] | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class AttemptRecord:
    webhook_id: str
    event_id: str
    topic: str
    uri: str
    attempt: int
    status_code: int | None
    error: str | None
    dropped: bool = False


@dataclass
class _Held:
    """A first attempt (and its chaos twin, if any) held back to be overtaken."""

    deliveries: list[tuple[Delivery, float]]  # (delivery, offset after release)
    until: float  # released alone at this monotonic time if nothing overtook it


@dataclass(order=True)
class _Scheduled:
    due: float
    sequence: int
    delivery: Delivery = field(compare=False)


class WebhookSender:
    def __init__(
        self,
        state: ShopState,
        api_secret: str,
        chaos: Chaos,
        *,
        time_scale: float = 1.0,
        connect_timeout_s: float = 1.0,
        response_timeout_s: float = 5.0,
        parallel_deliveries: int = 8,
    ) -> None:
        self.state = state
        self.api_secret = api_secret
        self.chaos = chaos
        self.time_scale = time_scale
        self.parallel_deliveries = max(1, parallel_deliveries)
        self._timeout = httpx.Timeout(response_timeout_s, connect=connect_timeout_s)
        self._queue: list[_Scheduled] = []
        self._sequence = itertools.count()
        self._wake = threading.Condition()
        self._in_flight = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.attempts: deque[AttemptRecord] = deque(maxlen=10_000)
        self._held: dict[str, _Held] = {}  # endpoint uri -> the delivery waiting to be overtaken
        self.duplicated = 0  # chaos: first attempts sent twice
        self.reordered = 0  # chaos: first attempts sent after a later delivery to the same endpoint
        self.held_alone = 0  # chaos: held deliveries nothing overtook within the maximum hold

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="shopify-webhooks", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def pending(self) -> int:
        with self._wake:
            return len(self._queue) + self._in_flight + self._held_count()

    def _held_count(self) -> int:
        return sum(len(held.deliveries) for held in self._held.values())

    def chaos_counts(self) -> dict[str, int]:
        with self._wake:
            return {
                "webhooks_duplicated": self.duplicated,
                "webhooks_reordered": self.reordered,
                "webhooks_held_alone": self.held_alone,
                "webhooks_held_now": self._held_count(),
            }

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        """Block until nothing is queued or in flight (tests); False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._wake:
            while self._queue or self._in_flight or self._held:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._wake.wait(min(remaining, 0.05))
        return True

    # -- events --------------------------------------------------------------------------------
    def on_event(self, topic: str, payload: dict[str, Any]) -> None:
        """Queue one delivery per subscription to `topic` (called by ShopState.emit)."""
        subscriptions = [s for s in list(self.state.webhook_subscriptions.values()) if s.topic == topic]
        if not subscriptions:
            return
        event_id = str(uuid.uuid4())
        moment = self.state.now().astimezone(UTC)
        triggered_at = moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
        settings = self.chaos.settings
        now = time.monotonic()
        for subscription in subscriptions:
            body = json.dumps(_narrow(payload, subscription), separators=(",", ":")).encode()
            delivery = Delivery(
                webhook_id=str(uuid.uuid4()),
                event_id=event_id,
                topic=topic,
                subscription_id=subscription.id,
                uri=subscription.uri,
                api_version=subscription.api_version,
                body=body,
                triggered_at=triggered_at,
                skip_once=self.chaos.chance(settings.webhook_drop_rate),
            )
            delay = settings.webhook_delay_s
            if settings.webhook_reorder_window_s > 0:
                delay += self.chaos.uniform(settings.webhook_reorder_window_s)
            batch: list[tuple[Delivery, float]] = [(delivery, 0.0)]
            with self.state.lock:
                self.state.stats.webhooks_sent += 1
            if self.chaos.chance(settings.webhook_duplicate_rate):
                twin = dataclasses.replace(delivery, skip_once=False)
                batch.append((twin, self.chaos.uniform(0.05)))
                with self._wake:
                    self.duplicated += 1
            hold = self.chaos.chance(settings.webhook_reorder_rate)
            if not self._hold_or_attach(subscription.uri, batch, hold, now + delay):
                continue
            for item, offset in batch:
                self._schedule(item, now + delay + offset)

    def _hold_or_attach(self, uri: str, batch: list[tuple[Delivery, float]], hold: bool, due: float) -> bool:
        """Chaos reorder: hold `batch` back (False: do not schedule it now), or, when a delivery
        to `uri` is being held, make this one release it once attempted (True: schedule it)."""
        max_hold = self.chaos.settings.webhook_reorder_max_hold_s
        with self._wake:
            waiting = self._held.get(uri)
            if waiting is None:
                if hold:
                    self._held[uri] = _Held(batch, due + max_hold)
                    self._wake.notify_all()
                    return False
                return True
            del self._held[uri]
            batch[0][0].release = waiting.deliveries
            return True

    def _release(self, delivery: Delivery) -> None:
        """After `delivery`'s attempt: send what was held back behind it (now overtaken)."""
        held, delivery.release = delivery.release, None
        if not held:
            return
        with self._wake:
            self.reordered += 1
        now = time.monotonic()
        for item, offset in held:
            self._schedule(item, now + offset)

    def _expire_held(self, now: float) -> None:
        """Held deliveries nothing overtook in time go out alone (caller holds `_wake`)."""
        for uri in [uri for uri, held in self._held.items() if held.until <= now]:
            held = self._held.pop(uri)
            self.held_alone += 1
            for item, offset in held.deliveries:
                heapq.heappush(self._queue, _Scheduled(now + offset, next(self._sequence), item))

    def _schedule(self, delivery: Delivery, due: float) -> None:
        with self._wake:
            heapq.heappush(self._queue, _Scheduled(due, next(self._sequence), delivery))
            self._wake.notify_all()
            stopped = self._stopping
        # Apps mounted without a lifespan (ASGI test transports) still deliver.
        if self._thread is None and not stopped:
            self.start()

    # -- the sending thread --------------------------------------------------------------------
    def _run(self) -> None:
        # Shopify sends in parallel: one slow or dead endpoint must not hold up the others.
        limits = httpx.Limits(max_connections=self.parallel_deliveries)
        with (
            httpx.Client(timeout=self._timeout, limits=limits) as client,
            ThreadPoolExecutor(self.parallel_deliveries, thread_name_prefix="shopify-webhook") as pool,
        ):
            while True:
                with self._wake:
                    while True:
                        if self._stopping:
                            return
                        now = time.monotonic()
                        if self._held:
                            self._expire_held(now)
                        busy = self._in_flight >= self.parallel_deliveries
                        if self._queue and self._queue[0].due <= now and not busy:
                            break
                        self._wake.wait(0.05 if busy else self._next_wake(now))
                    delivery = heapq.heappop(self._queue).delivery
                    self._in_flight += 1
                pool.submit(self._attempt_guarded, client, delivery)

    def _next_wake(self, now: float) -> float | None:
        """Seconds until the next scheduled delivery or held-back expiry (None: nothing due)."""
        moments = [held.until for held in self._held.values()]
        if self._queue:
            moments.append(self._queue[0].due)
        return max(0.0, min(moments) - now) if moments else None

    def _attempt_guarded(self, client: httpx.Client, delivery: Delivery) -> None:
        try:
            self._attempt(client, delivery)
        except Exception:  # a delivery worker must survive any receiver behaviour
            log.exception("webhook attempt failed unexpectedly")
        finally:
            self._release(delivery)
            with self._wake:
                self._in_flight -= 1
                self._wake.notify_all()

    def _record(
        self, delivery: Delivery, status: int | None, error: str | None, *, dropped: bool = False
    ) -> None:
        self.attempts.append(
            AttemptRecord(
                delivery.webhook_id,
                delivery.event_id,
                delivery.topic,
                delivery.uri,
                delivery.attempt,
                status,
                error,
                dropped,
            )
        )

    def _attempt(self, client: httpx.Client, delivery: Delivery) -> None:
        if delivery.skip_once:
            delivery.skip_once = False
            self._record(delivery, None, "dropped", dropped=True)
            self._retry_or_abandon(delivery)
            return
        signature = sign(delivery.body, self.api_secret)
        if self.chaos.chance(self.chaos.settings.webhook_bad_signature_rate):
            signature = sign(delivery.body, self.api_secret + "-wrong")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Shopify-Captain-Hook",
            "X-Shopify-Topic": delivery.topic,
            "X-Shopify-Hmac-Sha256": signature,
            "X-Shopify-Shop-Domain": self.state.shop.domain,
            "X-Shopify-Webhook-Id": delivery.webhook_id,
            "X-Shopify-Event-Id": delivery.event_id,
            "X-Shopify-Triggered-At": delivery.triggered_at,
            "X-Shopify-API-Version": delivery.api_version,
        }
        status: int | None = None
        error: str | None = None
        try:
            response = client.post(delivery.uri, content=delivery.body, headers=headers)
            status = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        self._record(delivery, status, error)
        delivered = status is not None and 200 <= status < 300
        with self.state.lock:  # several delivery workers count at once
            if delivered:
                self.state.stats.webhooks_delivered += 1
            else:
                self.state.stats.webhooks_failed_attempts += 1
        if not delivered:
            self._retry_or_abandon(delivery)

    def _retry_or_abandon(self, delivery: Delivery) -> None:
        if delivery.attempt >= MAX_RETRIES:
            with self.state.lock:
                self.state.stats.webhooks_abandoned += 1
                subscription = self.state.webhook_subscriptions.get(delivery.subscription_id)
                if subscription is not None and not subscription.from_config:
                    del self.state.webhook_subscriptions[subscription.id]
            return
        delay = RETRY_DELAYS_S[delivery.attempt] * self.time_scale
        delivery.attempt += 1
        self._schedule(delivery, time.monotonic() + delay)


def _narrow(payload: dict[str, Any], subscription: WebhookSubscription) -> dict[str, Any]:
    if not subscription.include_fields:
        return payload
    return {key: value for key, value in payload.items() if key in subscription.include_fields}
