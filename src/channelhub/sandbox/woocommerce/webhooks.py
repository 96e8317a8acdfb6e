"""Webhook delivery the way `WC_Webhook::deliver` does it.

- POST, body `trim(wp_json_encode(payload))` (so `/` is escaped as `\\/`), JSON content type,
  headers `X-WC-Webhook-Source|Topic|Resource|Event|Signature|ID|Delivery-ID`.
- Signature: base64(HMAC-SHA256(body, secret)).
- Payload: the REST GET shape of the resource *at delivery time* (deliveries run asynchronously,
  like Action Scheduler does), `{"id": n}` for deleted resources.
- Delivery id: `wp_hash(webhook_id . time())` — second resolution, so two deliveries of one
  webhook within one second carry the same id.
- Success is a 2xx/301/302 answer; otherwise `failure_count` grows and after more than 5
  consecutive failures the webhook is `disabled`. There are no retries.
- Creating an active webhook pings its URL with the form body `webhook_id=<id>` (no signature).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from channelhub.sandbox.woocommerce.chaos import Chaos
from channelhub.sandbox.woocommerce.payloads import order_payload, product_payload
from channelhub.sandbox.woocommerce.shop import Shop

USER_AGENT = "WooCommerce/9.4.0 Hookshot (WordPress/6.7.1)"
MAX_DELIVERY_FAILURES = 5
RESOURCES = ("coupon", "customer", "order", "product", "action")
EVENTS = ("created", "updated", "deleted", "restored")


@dataclass
class Webhook:
    id: int
    name: str
    status: str  # active | paused | disabled
    topic: str
    delivery_url: str
    secret: str
    date_created: datetime
    date_modified: datetime
    failure_count: int = 0
    pending_delivery: bool = True

    @property
    def resource(self) -> str:
        return self.topic.split(".", 1)[0]

    @property
    def event(self) -> str:
        return self.topic.split(".", 1)[1]


@dataclass(frozen=True)
class Delivery:
    webhook_id: int
    topic: str
    resource_id: int


@dataclass(frozen=True)
class PreparedDelivery:
    webhook: Webhook
    item: Delivery
    body: bytes
    headers: dict[str, str]
    bad_signature: bool


@dataclass
class DeliveryRecord:
    webhook_id: int
    delivery_id: str
    topic: str
    resource_id: int
    status_code: int | None
    error: str = ""
    kind: str = "delivery"  # delivery | duplicate | redelivery | ping | dropped
    bad_signature: bool = False


def wp_json(payload: Any) -> bytes:
    """`wp_json_encode`: compact, ASCII-escaped, and with `/` escaped like PHP's json_encode."""
    return json.dumps(payload, separators=(",", ":")).replace("/", "\\/").strip().encode()


def signature(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class WebhookDispatcher:
    shop: Shop
    chaos: Chaos
    rng: random.Random
    epoch_seconds: Callable[[], float]
    home: Callable[[], str]
    timeout_s: float = 5.0
    webhooks: dict[int, Webhook] = field(default_factory=dict)
    log: list[DeliveryRecord] = field(default_factory=list)
    _queue: asyncio.Queue[Delivery] | None = None
    _worker: asyncio.Task[None] | None = None
    _client: httpx.AsyncClient | None = None
    _salt: str = "channelhub-sandbox-salt"
    _late: set[asyncio.Task[None]] = field(default_factory=set)

    def emit(self, topic: str, resource_id: int) -> None:
        """Queue one delivery per active webhook subscribed to `topic`."""
        for webhook in self.webhooks.values():
            if webhook.status == "active" and webhook.topic == topic:
                self._ensure_worker().put_nowait(Delivery(webhook.id, topic, resource_id))

    def _ensure_worker(self) -> asyncio.Queue[Delivery]:
        if self._queue is None or self._worker is None or self._worker.done():
            self._queue = asyncio.Queue()
            self._worker = asyncio.get_running_loop().create_task(self._run(self._queue))
        return self._queue

    async def close(self) -> None:
        for task in self._late:
            task.cancel()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        if self._client is not None:
            await self._client.aclose()
        self._worker = self._client = None

    def pending(self) -> int:
        return self._queue.qsize() if self._queue is not None else 0

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=False)
        return self._client

    async def _run(self, queue: asyncio.Queue[Delivery]) -> None:
        # Held-back requests per webhook: already built and signed, sent after the next one (reorder).
        held: dict[int, PreparedDelivery] = {}
        while True:
            try:
                item = await (asyncio.wait_for(queue.get(), 1.0) if held else queue.get())
            except TimeoutError:
                for prepared in held.values():
                    await self._send(prepared)
                held.clear()
                continue
            if self.chaos.webhook_delay_s:
                await asyncio.sleep(self.chaos.webhook_delay_s)
            webhook = self.webhooks.get(item.webhook_id)
            if webhook is None or webhook.status != "active":
                continue
            if self.chaos.webhook_drop_rate and self.rng.random() < self.chaos.webhook_drop_rate:
                self.log.append(
                    DeliveryRecord(webhook.id, "", item.topic, item.resource_id, None, kind="dropped")
                )
                if self.chaos.webhook_redeliver_after_s:
                    # Lost in transit, sent again much later with the payload of the first attempt.
                    late = asyncio.get_running_loop().create_task(
                        self._redeliver(self.prepare(webhook, item))
                    )
                    self._late.add(late)
                    late.add_done_callback(self._late.discard)
                continue
            prepared = self.prepare(webhook, item)
            reorder = self.chaos.webhook_reorder_rate
            if webhook.id not in held and reorder and self.rng.random() < reorder:
                held[webhook.id] = prepared
                continue
            await self._send(prepared)
            if self.chaos.webhook_duplicate_rate and self.rng.random() < self.chaos.webhook_duplicate_rate:
                await self._send(prepared, kind="duplicate")  # the identical request again: a replay
            if webhook.id in held:
                await self._send(held.pop(webhook.id))

    def payload(self, topic: str, resource_id: int) -> dict[str, Any]:
        resource, event = topic.split(".", 1)
        home = self.home()
        if event == "deleted":
            return {"id": resource_id}
        if resource == "product":
            product = self.shop.products.get(resource_id)
            if product is None:
                return {"id": resource_id}
            # GET /wc/v3/products/<id>, also for a variation: the product-shaped representation.
            return product_payload(self.shop, product, home)
        if resource == "order" and resource_id in self.shop.orders:
            return order_payload(self.shop.orders[resource_id], home)
        return {"id": resource_id}

    def delivery_id(self, webhook_id: int) -> str:
        moment = int(self.epoch_seconds())
        return hmac.new(self._salt.encode(), f"{webhook_id}{moment}".encode(), hashlib.md5).hexdigest()

    async def _redeliver(self, prepared: PreparedDelivery) -> None:
        await asyncio.sleep(self.chaos.webhook_redeliver_after_s)
        await self._send(prepared, kind="redelivery")

    def prepare(self, webhook: Webhook, item: Delivery) -> PreparedDelivery:
        """Build and sign the request now: the payload is the resource as it is at this moment."""
        body = wp_json(self.payload(item.topic, item.resource_id))
        bad_rate = self.chaos.webhook_bad_signature_rate
        bad = bool(bad_rate and self.rng.random() < bad_rate)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-WC-Webhook-Source": self.home(),
            "X-WC-Webhook-Topic": webhook.topic,
            "X-WC-Webhook-Resource": webhook.resource,
            "X-WC-Webhook-Event": webhook.event,
            "X-WC-Webhook-Signature": signature(body, webhook.secret + "-wrong" if bad else webhook.secret),
            "X-WC-Webhook-ID": str(webhook.id),
            "X-WC-Webhook-Delivery-ID": self.delivery_id(webhook.id),
        }
        return PreparedDelivery(webhook, item, body, headers, bad)

    async def _send(self, prepared: PreparedDelivery, kind: str = "delivery") -> DeliveryRecord:
        webhook, item = prepared.webhook, prepared.item
        record = DeliveryRecord(
            webhook.id,
            prepared.headers["X-WC-Webhook-Delivery-ID"],
            item.topic,
            item.resource_id,
            None,
            kind=kind,
            bad_signature=prepared.bad_signature,
        )
        try:
            response = await self._http().post(
                webhook.delivery_url, content=prepared.body, headers=prepared.headers
            )
            record.status_code = response.status_code
        except httpx.HTTPError as error:
            record.error = f"{type(error).__name__}: {error}"
        self.log.append(record)
        self._account(webhook, record.status_code)
        return record

    def _account(self, webhook: Webhook, status_code: int | None) -> None:
        if status_code is not None and 200 <= status_code < 303:
            webhook.failure_count = 0
            return
        # failed_delivery(): `if ( $failures > 5 ) disable; else ++$failures` — so the failure that
        # finds six already counted is the one that disables the webhook.
        if webhook.failure_count > MAX_DELIVERY_FAILURES:
            webhook.status = "disabled"
        else:
            webhook.failure_count += 1

    async def ping(self, webhook: Webhook) -> DeliveryRecord:
        """The creation ping: form body `webhook_id=<id>`, answered with exactly 200 to pass."""
        record = DeliveryRecord(webhook.id, "", "ping", 0, None, kind="ping")
        try:
            response = await self._http().post(
                webhook.delivery_url,
                content=f"webhook_id={webhook.id}".encode(),
                headers={"User-Agent": USER_AGENT, "Content-Type": "application/x-www-form-urlencoded"},
            )
            record.status_code = response.status_code
        except httpx.HTTPError as error:
            record.error = f"Error: Delivery URL cannot be reached: {error}"
        if record.status_code == 200:
            webhook.pending_delivery = False
        elif record.status_code is not None:
            record.error = f"Error: Delivery URL returned response code: {record.status_code}"
        self.log.append(record)
        return record
