"""`productVariantsBulkUpdate`, webhook subscriptions and bulk query operations."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlparse

from graphql import GraphQLError, GraphQLResolveInfo, execute, parse, validate

from channelhub.sandbox.shopify import payloads
from channelhub.sandbox.shopify.relay import parse_gid
from channelhub.sandbox.shopify.resolvers import RequestContext, Resolver, ctx, default_resolver, topic_rest
from channelhub.sandbox.shopify.state import BulkOperation, ShopState, Variant, WebhookSubscription, gid


def _money(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


def product_variants_bulk_update(
    _: Any,
    info: GraphQLResolveInfo,
    productId: str,
    variants: list[dict[str, Any]],
    allowPartialUpdates: bool = False,
) -> dict[str, Any]:
    state = ctx(info).state
    number = parse_gid(productId, "Product")
    with state.lock:
        product = state.products.get(number) if number is not None else None
        if product is None:
            error = {
                "field": ["productId"],
                "message": "Product does not exist",
                "code": "PRODUCT_DOES_NOT_EXIST",
            }
            return {"product": None, "productVariants": None, "userErrors": [error]}
        errors: list[dict[str, Any]] = []
        planned: list[tuple[Variant, dict[str, Any]]] = []
        for index, raw in enumerate(variants):
            path = ["variants", str(index)]
            if not raw.get("id"):
                errors.append(
                    {
                        "field": [*path, "id"],
                        "message": "Product variant is missing ID attribute",
                        "code": "PRODUCT_VARIANT_ID_MISSING",
                    }
                )
                continue
            variant_id = parse_gid(raw["id"], "ProductVariant")
            variant = state.variants.get(variant_id) if variant_id is not None else None
            if variant is None or variant.product_id != product.id:
                errors.append(
                    {
                        "field": [*path, "id"],
                        "message": "Product variant does not exist",
                        "code": "PRODUCT_VARIANT_DOES_NOT_EXIST",
                    }
                )
                continue
            changes: dict[str, Any] = {}
            problem = False
            for name in ("price", "compareAtPrice"):
                if name not in raw:
                    continue
                if raw[name] is None and name == "compareAtPrice":
                    changes[name] = None
                    continue
                amount = _money(raw[name])
                if amount is None:
                    errors.append(
                        {"field": [*path, name], "message": f"{name} is invalid", "code": "INVALID_INPUT"}
                    )
                    problem = True
                elif amount < 0:
                    errors.append(
                        {
                            "field": [*path, name],
                            "message": f"{'Price' if name == 'price' else 'Compare at price'} must be greater than or equal to 0",
                            "code": "GREATER_THAN_OR_EQUAL_TO",
                        }
                    )
                    problem = True
                else:
                    changes[name] = amount
            for name in ("barcode", "inventoryPolicy"):
                if name in raw and raw[name] is not None:
                    changes[name] = raw[name]
            if not problem:
                planned.append((variant, changes))
        if errors and not allowPartialUpdates:
            return {"product": product, "productVariants": None, "userErrors": errors}
        now = state.now()
        for variant, changes in planned:
            if "price" in changes:
                variant.price = changes["price"]
            if "compareAtPrice" in changes:
                variant.compare_at_price = changes["compareAtPrice"]
            if "barcode" in changes:
                variant.barcode = changes["barcode"]
            if "inventoryPolicy" in changes:
                variant.inventory_policy = changes["inventoryPolicy"]
            variant.updated_at = now
        if planned:
            product.updated_at = now
            body = payloads.product_payload(state, product)
    if planned:
        state.emit("products/update", body)
    return {"product": product, "productVariants": [v for v, _ in planned], "userErrors": errors}


def webhook_subscription_create(
    _: Any, info: GraphQLResolveInfo, topic: str, webhookSubscription: dict[str, Any]
) -> dict[str, Any]:
    context = ctx(info)
    state = context.state
    uri = webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl")
    parsed = urlparse(uri or "")
    # Shopify requires https for HTTP endpoints; loopback http is allowed so tests need no TLS.
    loopback = parsed.hostname in ("127.0.0.1", "localhost", "::1")
    if (
        not uri
        or parsed.scheme not in ("https", "http")
        or not parsed.netloc
        or (parsed.scheme == "http" and not loopback)
    ):
        field = "uri" if webhookSubscription.get("uri") else "callbackUrl"
        return {
            "webhookSubscription": None,
            "userErrors": [{"field": ["webhookSubscription", field], "message": "Address is invalid"}],
        }
    rest_topic = topic_rest(topic)
    with state.lock:
        if any(s.topic == rest_topic and s.uri == uri for s in state.webhook_subscriptions.values()):
            return {
                "webhookSubscription": None,
                "userErrors": [
                    {
                        "field": ["webhookSubscription", "callbackUrl"],
                        "message": "Address for this topic has already been taken",
                    }
                ],
            }
        now = state.now()
        subscription = WebhookSubscription(
            id=state.new_id(),
            topic=rest_topic,
            uri=uri,
            api_version=context.version,
            created_at=now,
            updated_at=now,
            include_fields=list(webhookSubscription.get("includeFields") or []),
            fmt=webhookSubscription.get("format") or "JSON",
        )
        state.webhook_subscriptions[subscription.id] = subscription
    return {"webhookSubscription": subscription, "userErrors": []}


def webhook_subscription_delete(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    state = ctx(info).state
    number = parse_gid(id, "WebhookSubscription")
    with state.lock:
        removed = state.webhook_subscriptions.pop(number, None) if number is not None else None
    if removed is None:
        return {
            "deletedWebhookSubscriptionId": None,
            "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
        }
    return {"deletedWebhookSubscriptionId": id, "userErrors": []}


# -- bulk operations ---------------------------------------------------------------------------
def _is_connection(value: Any) -> bool:
    return isinstance(value, dict) and ("edges" in value or "nodes" in value)


def _connection_nodes(value: dict[str, Any]) -> list[Any]:
    if "edges" in value:
        return [edge.get("node") for edge in value["edges"] if isinstance(edge, dict)]
    return list(value.get("nodes") or [])


def _strip_connections(value: dict[str, Any], found: list[dict[str, Any]]) -> dict[str, Any]:
    """`value` without its connections (at any depth through plain objects), collected in `found`."""
    kept: dict[str, Any] = {}
    for key, item in value.items():
        if _is_connection(item):
            found.append(item)
        elif isinstance(item, dict):
            kept[key] = _strip_connections(item, found)
        else:
            kept[key] = item
    return kept


def _flatten(node: dict[str, Any], parent_id: str | None, lines: list[str]) -> None:
    """Emit `node` as one JSONL line, then its nested connections' nodes with `__parentId`.

    The parent of a nested connection's nodes is the enclosing connection node, even when the
    connection hangs off a plain object inside it (variant -> inventoryItem -> inventoryLevels).
    """
    nested: list[dict[str, Any]] = []
    own = _strip_connections(node, nested)
    if parent_id is not None:
        own["__parentId"] = parent_id
    lines.append(json.dumps(own, separators=(",", ":")))
    for connection in nested:
        for child in _connection_nodes(connection):
            if isinstance(child, dict):
                _flatten(child, node.get("id"), lines)


def run_bulk_query(
    state: ShopState, query: str, version: str, base_url: str
) -> tuple[BulkOperation | None, list[dict[str, Any]]]:
    from channelhub.sandbox.shopify.schema import SUPPORTED_VERSIONS, schema_for

    schema = schema_for(version)
    try:
        document = parse(query)
    except GraphQLError as exc:
        return None, [
            {"field": ["query"], "message": f"Invalid bulk query: {exc.message}", "code": "INVALID"}
        ]
    problems = validate(schema, document)
    if problems:
        return None, [
            {"field": ["query"], "message": f"Invalid bulk query: {problems[0].message}", "code": "INVALID"}
        ]
    context = RequestContext(
        state=state, version=version, base_url=base_url, bulk=True, served_versions=SUPPORTED_VERSIONS
    )
    result = execute(schema, document, context_value=context, field_resolver=default_resolver)
    if hasattr(result, "__await__"):
        raise RuntimeError("asynchronous execution result")
    data = result.data or {}
    roots = [value for value in data.values() if _is_connection(value)]
    if not roots:
        return None, [
            {
                "field": ["query"],
                "message": "Bulk queries must contain at least one connection.",
                "code": "INVALID",
            }
        ]
    now = state.now()
    operation = BulkOperation(id=state.new_id(), query=query, status="CREATED", created_at=now)
    lines: list[str] = []
    root_count = 0
    for root in roots:
        for node in _connection_nodes(root):
            if isinstance(node, dict):
                root_count += 1
                _flatten(node, None, lines)
    operation.result_jsonl = "".join(line + "\n" for line in lines)
    operation.object_count = len(lines)
    operation.root_object_count = root_count
    if result.errors:
        operation.status, operation.error_code = "FAILED", "INTERNAL_SERVER_ERROR"
    return operation, []


def bulk_operation_run_query(
    _: Any, info: GraphQLResolveInfo, query: str, groupObjects: bool = False
) -> dict[str, Any]:
    context = ctx(info)
    state = context.state
    with state.lock:
        running = [b for b in state.bulk_operations.values() if b.status in ("CREATED", "RUNNING")]
        if running:
            message = f"A bulk query operation for this app and shop is already in progress: {gid('BulkOperation', running[0].id)}."
            return {
                "bulkOperation": None,
                "userErrors": [{"field": None, "message": message, "code": "OPERATION_IN_PROGRESS"}],
            }
        operation, errors = run_bulk_query(state, query, context.version, context.base_url)
        if operation is None:
            return {"bulkOperation": None, "userErrors": errors}
        state.bulk_operations[operation.id] = operation
        # Answer as Shopify does (CREATED); the work is already done, so the next poll sees COMPLETED.
        snapshot = dataclasses.replace(operation, result_jsonl=None)
        if operation.status == "CREATED":
            operation.status = "COMPLETED"
        operation.completed_at = state.now()
        finished = {
            "admin_graphql_api_id": gid("BulkOperation", operation.id),
            "completed_at": payloads.rest_time(operation.completed_at),
            "created_at": payloads.rest_time(operation.created_at),
            "error_code": operation.error_code.lower() if operation.error_code else None,
            "status": operation.status.lower(),
            "type": "query",
        }
    state.emit("bulk_operations/finish", finished)
    return {"bulkOperation": snapshot, "userErrors": []}


def bulk_operation_cancel(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    state = ctx(info).state
    number = parse_gid(id, "BulkOperation")
    operation = state.bulk_operations.get(number) if number is not None else None
    if operation is None:
        return {
            "bulkOperation": None,
            "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}],
        }
    if operation.status not in ("CREATED", "RUNNING"):
        message = f"A bulk operation cannot be canceled when it is {operation.status.lower()}"
        return {"bulkOperation": operation, "userErrors": [{"field": None, "message": message}]}
    operation.status = "CANCELED"
    return {"bulkOperation": operation, "userErrors": []}


ADMIN_MUTATIONS: dict[str, dict[str, Resolver]] = {
    "Mutation": {
        "productVariantsBulkUpdate": product_variants_bulk_update,
        "webhookSubscriptionCreate": webhook_subscription_create,
        "webhookSubscriptionDelete": webhook_subscription_delete,
        "bulkOperationRunQuery": bulk_operation_run_query,
        "bulkOperationCancel": bulk_operation_cancel,
    }
}
