"""`webhooks` and `webhooks/<id>` (REST v3): create pings the delivery URL, as WooCommerce does."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlparse

from channelhub.sandbox.woocommerce.errors import WPError, missing_params
from channelhub.sandbox.woocommerce.params import Collection, to_boolean, to_enum, to_string
from channelhub.sandbox.woocommerce.payloads import wc_date
from channelhub.sandbox.woocommerce.rest import Call, Reply, Router, paged, require_object
from channelhub.sandbox.woocommerce.shop import Shop
from channelhub.sandbox.woocommerce.webhooks import EVENTS, RESOURCES, Webhook, WebhookDispatcher

WEBHOOK_STATUSES = ("active", "paused", "disabled")
# WC_Webhook::get_default_topic_hooks(), abridged to the actions this emulator fires.
TOPIC_HOOKS = {
    "order.created": ["woocommerce_new_order"],
    "order.updated": ["woocommerce_update_order", "woocommerce_order_refunded"],
    "order.deleted": ["wp_trash_post", "woocommerce_trash_order"],
    "product.created": [
        "woocommerce_process_product_meta",
        "woocommerce_new_product",
        "woocommerce_new_product_variation",
    ],
    "product.updated": [
        "woocommerce_process_product_meta",
        "woocommerce_update_product",
        "woocommerce_update_product_variation",
    ],
    "product.deleted": ["wp_trash_post"],
}


def webhook_payload(webhook: Webhook, home: str, context: str = "view") -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": webhook.id,
        "name": webhook.name,
        "status": webhook.status,
        "topic": webhook.topic,
        "resource": webhook.resource,
        "event": webhook.event,
        "hooks": TOPIC_HOOKS.get(webhook.topic, []),
        "delivery_url": webhook.delivery_url,
        "date_created": wc_date(webhook.date_created),
        "date_created_gmt": wc_date(webhook.date_created),
        "date_modified": wc_date(webhook.date_modified),
        "date_modified_gmt": wc_date(webhook.date_modified),
        "_links": {
            "self": [{"href": f"{home}wp-json/wc/v3/webhooks/{webhook.id}"}],
            "collection": [{"href": f"{home}wp-json/wc/v3/webhooks"}],
        },
    }
    if context == "edit":
        body["secret"] = webhook.secret
    return body


def _topic(value: Any) -> str:
    topic = to_string("topic", value)
    resource, _, event = topic.partition(".")
    if resource not in RESOURCES or (resource != "action" and event not in EVENTS) or not event:
        raise WPError(
            "woocommerce_rest_webhook_invalid_topic", "Webhook topic is required and must be valid.", 400
        )
    return topic


def _delivery_url(value: Any) -> str:
    url = to_string("delivery_url", value)
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise WPError(
            "woocommerce_rest_webhook_invalid_delivery_url",
            "Webhook delivery URL must be a valid URL starting with http:// or https://.",
            400,
        )
    return url


class WebhookRoutes:
    def __init__(self, shop: Shop, dispatcher: WebhookDispatcher, router: Router) -> None:
        self.shop = shop
        self.dispatcher = dispatcher
        self.pings: list[Webhook] = []  # sent by the app after the response is built
        router.add("webhooks", GET=("list", self.list_webhooks), POST=("create", self.create_webhook))
        router.add(
            r"webhooks/(?P<id>\d+)",
            GET=("read", self.get_webhook),
            EDIT=("edit", self.update_webhook),
            DELETE=("delete", self.delete_webhook),
        )

    def _webhook(self, webhook_id: int, status: int = 404) -> Webhook:
        webhook = self.dispatcher.webhooks.get(webhook_id)
        if webhook is None:
            raise WPError("woocommerce_rest_webhook_invalid_id", "Invalid ID.", status)
        return webhook

    def list_webhooks(self, call: Call) -> Reply:
        collection = Collection(call.query, ("date", "id", "title"))
        status = to_enum("status", call.query.get("status", "all"), ("all", *WEBHOOK_STATUSES))
        found = [
            w
            for w in self.dispatcher.webhooks.values()
            if (status == "all" or w.status == status)
            and collection.keep(w.id, w.date_created, w.date_modified)
        ]
        page, total, pages = collection.page_of(found, lambda w: (w.date_created, w.id))
        return paged(
            call, "webhooks", [webhook_payload(w, call.home) for w in page], total, pages, collection.page
        )

    def get_webhook(self, call: Call) -> Reply:
        context = to_enum("context", call.query.get("context", "view"), ("view", "edit"))
        return Reply(200, webhook_payload(self._webhook(call.ids["id"]), call.home, context))

    def create_webhook(self, call: Call) -> Reply:
        body = require_object(call.body)
        missing = [name for name in ("topic", "delivery_url") if not body.get(name)]
        if missing:
            raise missing_params(missing)
        topic = _topic(body["topic"])
        url = _delivery_url(body["delivery_url"])
        status = to_enum("status", body.get("status", "active"), WEBHOOK_STATUSES)
        secret = to_string("secret", body["secret"]) if body.get("secret") else secrets.token_urlsafe(37)[:50]
        stamp = self.shop.now()
        webhook = Webhook(
            id=self.shop.next_id(),
            name=str(body.get("name") or f"Webhook created on {stamp:%b %d, %Y @ %I:%M %p}"),
            status=status,
            topic=topic,
            delivery_url=url,
            secret=secret,
            date_created=stamp,
            date_modified=stamp,
        )
        self.dispatcher.webhooks[webhook.id] = webhook
        if webhook.status == "active":
            self.pings.append(webhook)
        location = f"{call.home}wp-json/wc/v3/webhooks/{webhook.id}"
        return Reply(201, webhook_payload(webhook, call.home, "edit"), {"Location": location})

    def update_webhook(self, call: Call) -> Reply:
        webhook = self._webhook(call.ids["id"], status=400)
        body = require_object(call.body)
        topic = _topic(body["topic"]) if "topic" in body else webhook.topic
        url = _delivery_url(body["delivery_url"]) if "delivery_url" in body else webhook.delivery_url
        status = to_enum("status", body["status"], WEBHOOK_STATUSES) if "status" in body else webhook.status
        webhook.topic, webhook.delivery_url = topic, url
        if "name" in body:
            webhook.name = to_string("name", body["name"])
        if "secret" in body:
            webhook.secret = to_string("secret", body["secret"])
        if status == "active" and webhook.status != "active":
            webhook.failure_count = 0
            if webhook.pending_delivery:
                self.pings.append(webhook)
        webhook.status = status
        webhook.date_modified = self.shop.now()
        return Reply(200, webhook_payload(webhook, call.home, "edit"))

    def delete_webhook(self, call: Call) -> Reply:
        webhook = self._webhook(call.ids["id"])
        if not to_boolean("force", call.query.get("force", False)):
            raise WPError("woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501)
        del self.dispatcher.webhooks[webhook.id]
        return Reply(200, webhook_payload(webhook, call.home, "edit"))
