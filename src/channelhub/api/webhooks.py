"""Webhook ingress: verify the signature first, store the raw delivery in the inbox, answer fast.

`POST /webhooks/shopify`, `/webhooks/woocommerce` (optionally `?channel=NAME` when the landscape
has several channels of the platform) and `/webhooks/odoo?token=...`.

1. The gateway verifies the signature over the raw body (Shopify HMAC, WooCommerce HMAC, Odoo's
   shared token). A missing or bad one is refused with 401 and nothing is stored; the log line
   names the channel and the reason, never the body.
2. The raw body and headers are stored in the inbox under the delivery's dedupe key, in one
   transaction: a redelivery of the same delivery is a no-op (`"duplicate"`). A signed body that
   cannot be parsed is stored too, already marked failed with the reason (never dropped).
3. The answer is 200 within milliseconds; the inbox processor turns the row into events later.

WooCommerce's unsigned creation ping (`webhook_id=N`, form-encoded) is answered 200 and not stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from channelhub.api.context import ODOO_CHANNEL, ApiContext
from channelhub.api.errors import ApiError, error_body
from channelhub.connectors.errors import ValidationFailed, WebhookVerificationError
from channelhub.observability import correlation_scope, get_logger
from channelhub.service.ports import ChannelGateway, DeliveryKind
from channelhub.store.db import priority_writer
from channelhub.store.repositories import StateRepositories, WebhookDelivery

log = get_logger(__name__)

UNREADABLE: tuple[type[Exception], ...] = (ValidationFailed, ValueError, KeyError, TypeError, AttributeError)
"""What a gateway raises for a body it verified but cannot map (mapping bugs included)."""

# Headers never stored: they carry secrets (Odoo's shared token) or the caller's credentials.
_NOT_STORED = frozenset({"x-channelhub-token", "authorization", "cookie"})


def stored_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items() if key.lower() not in _NOT_STORED}


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _accepted(status: str, dedupe_key: str | None = None) -> JSONResponse:
    content: dict[str, Any] = {"status": status}
    if dedupe_key is not None:
        content["dedupe_key"] = dedupe_key
    return JSONResponse(content, status_code=200)


def _refused(channel: str, error: Exception) -> JSONResponse:
    log.warning("webhook_refused", channel=channel, reason=str(error))
    return JSONResponse(error_body("unauthorized", "webhook signature missing or not valid"), status_code=401)


def _store(
    context: ApiContext,
    channel: str,
    dedupe_key: str,
    topic: str,
    body: bytes,
    headers: dict[str, str],
    failure: str | None,
) -> bool:
    """Insert the delivery (and its failure, if any) in one transaction; False for a duplicate."""
    now = context.clock.now()
    # Ahead of waiting writers: the platform waits for our answer, and Shopify gives up after 5 s
    # while WooCommerce delivers one webhook at a time.
    with priority_writer(context.engine).begin() as connection:
        inbox = StateRepositories.on(connection).inbox
        new_id = inbox.accept(WebhookDelivery(channel, dedupe_key, topic, body, headers, now))
        if new_id is not None and failure is not None:
            inbox.mark_failed(new_id, failure, now)
    return new_id is not None


async def _persist(
    context: ApiContext,
    channel: str,
    dedupe_key: str,
    topic: str,
    body: bytes,
    headers: Mapping[str, str],
    failure: str | None = None,
) -> JSONResponse:
    stored = await run_in_threadpool(
        _store, context, channel, dedupe_key, topic, body, stored_headers(headers), failure
    )
    if stored and context.on_accepted is not None:
        context.on_accepted()
    log.info(
        "webhook_stored" if stored else "webhook_duplicate",
        channel=channel,
        topic=topic,
        dedupe_key=dedupe_key,
        failed=failure is not None,
    )
    return _accepted("accepted" if stored else "duplicate", dedupe_key)


def _channel_for(context: ApiContext, kind: str, name: str | None) -> ChannelGateway:
    candidates = context.channels_of_kind(kind)
    if name is not None:
        for gateway in candidates:
            if gateway.name == name:
                return gateway
        raise ApiError(404, "unknown_channel", f"no {kind} channel named {name!r}")
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ApiError(404, "unknown_channel", f"no {kind} channel is configured")
    names = ", ".join(sorted(g.name for g in candidates))
    raise ApiError(400, "invalid_request", f"several {kind} channels ({names}): add ?channel=NAME")


MAX_BODY_BYTES = 5 * 1024 * 1024
"""Larger deliveries are refused (413): no platform sends webhooks this big."""


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", f"webhook bodies are limited to {MAX_BODY_BYTES} bytes")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", f"webhook bodies are limited to {MAX_BODY_BYTES} bytes")
    return body


async def _channel_delivery(context: ApiContext, request: Request, kind: str) -> JSONResponse:
    gateway = _channel_for(context, kind, request.query_params.get("channel"))
    body = await _read_body(request)
    with correlation_scope():
        try:
            delivery = gateway.verify_webhook(request.headers, body)
        except WebhookVerificationError as error:
            return _refused(gateway.name, error)
        except UNREADABLE as error:
            # Signed but unreadable (gateways check the signature before mapping): keep it, marked
            # failed with the reason, for a person to look at; never a 500 the platform retries.
            topic = (
                request.headers.get("x-shopify-topic")
                or request.headers.get("x-wc-webhook-topic")
                or "unknown"
            )
            return await _persist(
                context,
                gateway.name,
                f"unparsed:{body_digest(body)}",
                topic,
                body,
                request.headers,
                failure=f"payload could not be read: {type(error).__name__}: {error}",
            )
        if delivery.kind is DeliveryKind.PING:
            log.info("webhook_ping", channel=gateway.name)
            return _accepted("ping")
        received = context.clock.now()
        reply = await _persist(
            context, gateway.name, delivery.dedupe_key, delivery.topic, body, request.headers
        )
        if context.on_delivery_lag is not None and delivery.occurred_at is not None:
            context.on_delivery_lag(gateway.name, (received - delivery.occurred_at).total_seconds())
        return reply


def webhook_router(context: ApiContext) -> APIRouter:
    router = APIRouter(prefix="/webhooks", tags=["webhooks"])

    @router.post("/shopify", summary="Shopify webhook deliveries (X-Shopify-Hmac-Sha256)")
    async def shopify(request: Request) -> JSONResponse:
        return await _channel_delivery(context, request, "shopify")

    @router.post("/woocommerce", summary="WooCommerce webhook deliveries (X-WC-Webhook-Signature)")
    async def woocommerce(request: Request) -> JSONResponse:
        return await _channel_delivery(context, request, "woocommerce")

    @router.post("/odoo", summary="Odoo automation-rule notifications (?token= or X-Channelhub-Token)")
    async def odoo(request: Request) -> JSONResponse:
        body = await _read_body(request)
        with correlation_scope():
            if context.erp is None:
                return _refused(ODOO_CHANNEL, WebhookVerificationError("Odoo notifications are not enabled"))
            try:
                notification = context.erp.verify_webhook(
                    request.headers, body, url_token=request.query_params.get("token")
                )
            except WebhookVerificationError as error:
                return _refused(ODOO_CHANNEL, error)
            except UNREADABLE as error:
                return await _persist(
                    context,
                    ODOO_CHANNEL,
                    f"unparsed:{body_digest(body)}",
                    "unknown",
                    body,
                    request.headers,
                    failure=f"payload could not be read: {type(error).__name__}: {error}",
                )
            return await _persist(
                context, ODOO_CHANNEL, notification.dedupe_key, notification.model, body, request.headers
            )

    return router
