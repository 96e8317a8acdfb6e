"""Read-side resolvers: how the shop's records appear as Admin GraphQL objects.

Resolvers are bound onto the (cached, shared) schemas by type and field name and read the shop
from `info.context`, so one schema object serves every emulator instance.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo, GraphQLSchema

from channelhub.sandbox.shopify.relay import connection, parse_any_gid, parse_gid
from channelhub.sandbox.shopify.search_fields import (
    by_sku,
    item_fields,
    location_fields,
    order_fields,
    product_fields,
    search,
    variant_fields,
)
from channelhub.sandbox.shopify.state import (
    QUANTITY_NAMES,
    BulkOperation,
    Customer,
    Fulfillment,
    FulfillmentLine,
    FulfillmentOrder,
    FulfillmentOrderLine,
    InventoryItem,
    InventoryLevel,
    LineItem,
    Location,
    Order,
    Product,
    Refund,
    Shop,
    ShopState,
    Variant,
    WebhookSubscription,
    gid,
    iso,
    level_gid,
    money_text,
)

Resolver = Callable[..., Any]


@dataclass
class RequestContext:
    """Per-request facts resolvers need."""

    state: ShopState
    version: str
    base_url: str
    bulk: bool = False  # bulk operations read whole connections
    directives: dict[str, dict[str, Any]] = field(default_factory=dict)  # field name -> directive args
    served_versions: Sequence[str] = ()


def ctx(info: GraphQLResolveInfo) -> RequestContext:
    context = info.context
    assert isinstance(context, RequestContext)
    return context


def money(amount: Decimal | None) -> str | None:
    return None if amount is None else money_text(amount)


def money_bag(amount: Decimal, currency: str) -> dict[str, Any]:
    entry = {"amount": money(amount), "currencyCode": currency}
    return {"shopMoney": entry, "presentmentMoney": dict(entry)}


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def default_resolver(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    """Dict keys as named; dataclass attributes by their snake_case name."""
    name = info.field_name
    if isinstance(source, dict):
        value = source.get(name)
    else:
        value = getattr(source, _CAMEL.sub("_", name).lower(), None)
    return value(info, **args) if callable(value) else value


def topic_enum(topic: str) -> str:
    return topic.replace("/", "_").upper()


def topic_rest(enum_value: str) -> str:
    prefixes = ("INVENTORY_LEVELS", "INVENTORY_ITEMS", "BULK_OPERATIONS", "APP")
    for prefix in prefixes:
        if enum_value.startswith(prefix + "_"):
            return f"{prefix.lower()}/{enum_value[len(prefix) + 1 :].lower()}"
    head, _, tail = enum_value.partition("_")
    return f"{head.lower()}/{tail.lower()}"


# -- Query ---------------------------------------------------------------------------------------
def page(info: GraphQLResolveInfo, records: Sequence[Any], args: dict[str, Any]) -> dict[str, Any]:
    return connection(records, lambda r: r.id, args, unlimited=ctx(info).bulk)


def _level_page(
    info: GraphQLResolveInfo, levels: list[InventoryLevel], args: dict[str, Any]
) -> dict[str, Any]:
    # Levels have no single numeric id; the location id is unique within one item and vice versa.
    keyed = sorted(levels, key=lambda lvl: (lvl.item_id, lvl.location_id))
    return connection(
        keyed, lambda lvl: lvl.item_id * 10_000_000 + lvl.location_id, args, unlimited=ctx(info).bulk
    )


def q_products(_: Any, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    state = ctx(info).state
    with state.lock:
        found = search(state.products.values(), args.get("query"), product_fields(state))
        return page(info, found, args)


def q_product_variants(_: Any, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    state = ctx(info).state
    with state.lock:
        found = by_sku(state, args.get("query"))
        if found is None:
            found = search(state.variants.values(), args.get("query"), variant_fields(state))
        return page(info, found, args)


def q_inventory_items(_: Any, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    state = ctx(info).state
    with state.lock:
        variants = by_sku(state, args.get("query"))
        if variants is not None:
            found = [state.inventory_items[v.inventory_item_id] for v in variants]
        else:
            found = search(state.inventory_items.values(), args.get("query"), item_fields(state))
        return page(info, found, args)


def q_locations(_: Any, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    state = ctx(info).state
    found = search(
        (loc for loc in state.locations.values() if loc.is_active or args.get("includeInactive")),
        args.get("query"),
        location_fields,
    )
    return page(info, found, args)


_ORDER_SORT: dict[str, Callable[[Order], Any]] = {
    "CREATED_AT": lambda o: (o.created_at, o.id),
    "PROCESSED_AT": lambda o: (o.created_at, o.id),
    "UPDATED_AT": lambda o: (o.updated_at, o.id),
    "ID": lambda o: o.id,
    "ORDER_NUMBER": lambda o: o.number,
}


def q_orders(_: Any, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    state = ctx(info).state
    with state.lock:
        found = search(state.orders.values(), args.get("query"), order_fields)
        found.sort(key=_ORDER_SORT[args.get("sortKey") or "PROCESSED_AT"])
        return page(info, found, args)


def q_webhook_subscriptions(_: Any, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    state = ctx(info).state
    topics = {topic_rest(t) for t in args.get("topics") or []}
    wanted_uri = args.get("uri") or args.get("callbackUrl")
    found = [
        s
        for s in state.webhook_subscriptions.values()
        if (not topics or s.topic in topics) and (not wanted_uri or s.uri == wanted_uri)
    ]
    return page(info, found, args)


def lookup_node(state: ShopState, global_id: str) -> Any:
    parsed = parse_any_gid(global_id)
    if parsed is None:
        raise GraphQLError(
            f"Invalid global id '{global_id}'", extensions={"code": "argumentLiteralsIncompatible"}
        )
    kind, number, query = parsed
    if kind == "InventoryLevel":
        match = re.search(r"inventory_item_id=(\d+)", query or "")
        return state.level(int(match.group(1)), number) if match else None
    if kind == "LineItem":
        found = state.line_item(number)
        return found[1] if found else None
    tables: dict[str, dict[int, Any]] = {
        "Product": state.products,
        "ProductVariant": state.variants,
        "InventoryItem": state.inventory_items,
        "Location": state.locations,
        "Order": state.orders,
        "FulfillmentOrder": state.fulfillment_orders,
        "Fulfillment": state.fulfillments,
        "Refund": state.refunds,
        "Customer": state.customers,
        "WebhookSubscription": state.webhook_subscriptions,
        "BulkOperation": state.bulk_operations,
    }
    if kind == "Shop":
        return state.shop if number == state.shop.id else None
    table = tables.get(kind)
    return table.get(number) if table is not None else None


def _by_kind(kind: str, table: Callable[[ShopState], dict[int, Any]]) -> Resolver:
    def resolve(_: Any, info: GraphQLResolveInfo, id: str) -> Any:
        number = parse_gid(id, kind)
        return None if number is None else table(ctx(info).state).get(number)

    return resolve


def q_location(_: Any, info: GraphQLResolveInfo, id: str | None = None) -> Location | None:
    state = ctx(info).state
    if id is None:
        return state.primary_location
    number = parse_gid(id, "Location")
    return state.locations.get(number) if number is not None else None


def q_inventory_level(_: Any, info: GraphQLResolveInfo, id: str) -> InventoryLevel | None:
    found = lookup_node(ctx(info).state, id)
    return found if isinstance(found, InventoryLevel) else None


def q_current_bulk_operation(_: Any, info: GraphQLResolveInfo, type: str = "QUERY") -> BulkOperation | None:
    operations = list(ctx(info).state.bulk_operations.values())
    return operations[-1] if operations and type == "QUERY" else None


_TYPE_NAMES: dict[type, str] = {
    Shop: "Shop",
    Location: "Location",
    Product: "Product",
    Variant: "ProductVariant",
    Customer: "Customer",
    InventoryItem: "InventoryItem",
    InventoryLevel: "InventoryLevel",
    Order: "Order",
    LineItem: "LineItem",
    FulfillmentOrder: "FulfillmentOrder",
    FulfillmentOrderLine: "FulfillmentOrderLineItem",
    Fulfillment: "Fulfillment",
    FulfillmentLine: "FulfillmentLineItem",
    Refund: "Refund",
    WebhookSubscription: "WebhookSubscription",
    BulkOperation: "BulkOperation",
}


def resolve_type(value: Any, _info: GraphQLResolveInfo, _abstract: Any) -> str | None:
    if isinstance(value, dict):
        typename = value.get("__typename")
        return typename if isinstance(typename, str) else None
    return _TYPE_NAMES.get(type(value))


# -- object fields -------------------------------------------------------------------------------
def gid_field(kind: str) -> Resolver:
    return lambda obj, _info: gid(kind, obj.id)


def legacy_id(obj: Any, _info: GraphQLResolveInfo) -> str:
    return str(obj.id)


def time_field(attr: str) -> Resolver:
    return lambda obj, _info: iso(getattr(obj, attr)) if getattr(obj, attr) is not None else None


def _quantities(level: InventoryLevel, info: GraphQLResolveInfo, names: list[str]) -> list[dict[str, Any]]:
    unknown = [n for n in names if n not in QUANTITY_NAMES]
    if unknown:
        raise GraphQLError(
            f"The quantity name '{unknown[0]}' is not valid. Valid names are: {', '.join(QUANTITY_NAMES)}."
        )
    return [
        {
            "id": f"gid://shopify/InventoryQuantity/{level.location_id}?inventory_item_id={level.item_id}&name={n}",
            "name": n,
            "quantity": level.quantity(n),
            "updatedAt": iso(level.updated_at),
        }
        for n in names
    ]


def _item_level(item: InventoryItem, info: GraphQLResolveInfo, locationId: str) -> InventoryLevel | None:
    location_id = parse_gid(locationId, "Location")
    return ctx(info).state.level(item.id, location_id) if location_id is not None else None


def _location_level(
    location: Location, info: GraphQLResolveInfo, inventoryItemId: str
) -> InventoryLevel | None:
    item_id = parse_gid(inventoryItemId, "InventoryItem")
    return ctx(info).state.level(item_id, location.id) if item_id is not None else None


def _variant_item(variant: Variant, info: GraphQLResolveInfo) -> InventoryItem:
    return ctx(info).state.inventory_items[variant.inventory_item_id]


def _variant_inventory_quantity(variant: Variant, info: GraphQLResolveInfo) -> int:
    return ctx(info).state.available_total(variant)


def _product_total(product: Product, info: GraphQLResolveInfo) -> int:
    state = ctx(info).state
    return sum(state.available_total(state.variants[v]) for v in product.variant_ids)


def _product_tracks(product: Product, info: GraphQLResolveInfo) -> bool:
    state = ctx(info).state
    return any(
        state.inventory_items[state.variants[v].inventory_item_id].tracked for v in product.variant_ids
    )


OBJECT_RESOLVERS: dict[str, dict[str, Resolver]] = {
    "Query": {
        "shop": lambda _s, info: ctx(info).state.shop,
        "node": lambda _s, info, id: lookup_node(ctx(info).state, id),
        "nodes": lambda _s, info, ids: [lookup_node(ctx(info).state, i) for i in ids],
        "location": q_location,
        "locations": q_locations,
        "product": _by_kind("Product", lambda s: s.products),
        "products": q_products,
        "productVariant": _by_kind("ProductVariant", lambda s: s.variants),
        "productVariants": q_product_variants,
        "inventoryItem": _by_kind("InventoryItem", lambda s: s.inventory_items),
        "inventoryItems": q_inventory_items,
        "inventoryLevel": q_inventory_level,
        "order": _by_kind("Order", lambda s: s.orders),
        "orders": q_orders,
        "fulfillmentOrder": _by_kind("FulfillmentOrder", lambda s: s.fulfillment_orders),
        "webhookSubscription": _by_kind("WebhookSubscription", lambda s: s.webhook_subscriptions),
        "webhookSubscriptions": q_webhook_subscriptions,
        "currentBulkOperation": q_current_bulk_operation,
    },
    "Shop": {
        "id": gid_field("Shop"),
        "myshopifyDomain": lambda shop, _i: shop.domain,
        "url": lambda shop, _i: f"https://{shop.domain}",
        "currencyCode": lambda shop, _i: shop.currency,
        "ianaTimezone": lambda _shop, _i: "Etc/UTC",
        "plan": lambda shop, _i: {
            "displayName": {"basic": "Basic", "advanced": "Advanced", "plus": "Shopify Plus"}.get(
                shop.plan, shop.plan
            ),
            "partnerDevelopment": False,
            "shopifyPlus": shop.plan == "plus",
        },
    },
    "Location": {
        "id": gid_field("Location"),
        "legacyResourceId": legacy_id,
        "inventoryLevel": _location_level,
        "inventoryLevels": lambda loc, info, **a: _level_page(
            info, ctx(info).state.levels_at_location(loc.id), a
        ),
    },
    "Product": {
        "id": gid_field("Product"),
        "legacyResourceId": legacy_id,
        "createdAt": time_field("created_at"),
        "updatedAt": time_field("updated_at"),
        "totalInventory": _product_total,
        "tracksInventory": _product_tracks,
        "variants": lambda p, info, **a: page(info, [ctx(info).state.variants[v] for v in p.variant_ids], a),
    },
    "ProductVariant": {
        "id": gid_field("ProductVariant"),
        "legacyResourceId": legacy_id,
        "displayName": lambda v, info: f"{ctx(info).state.products[v.product_id].title} - {v.title}",
        "price": lambda v, _i: money(v.price),
        "compareAtPrice": lambda v, _i: money(v.compare_at_price),
        "inventoryQuantity": _variant_inventory_quantity,
        "inventoryItem": _variant_item,
        "product": lambda v, info: ctx(info).state.products[v.product_id],
        "createdAt": time_field("created_at"),
        "updatedAt": time_field("updated_at"),
    },
    "InventoryItem": {
        "id": gid_field("InventoryItem"),
        "legacyResourceId": legacy_id,
        "sku": lambda item, info: ctx(info).state.variants[item.variant_id].sku,
        "variant": lambda item, info: ctx(info).state.variants[item.variant_id],
        "createdAt": time_field("created_at"),
        "updatedAt": time_field("updated_at"),
        "inventoryLevel": _item_level,
        "inventoryLevels": lambda item, info, **a: _level_page(
            info, ctx(info).state.levels_of_item(item.id), a
        ),
    },
    "InventoryLevel": {
        "id": lambda lvl, _i: level_gid(lvl.location_id, lvl.item_id),
        "item": lambda lvl, info: ctx(info).state.inventory_items[lvl.item_id],
        "location": lambda lvl, info: ctx(info).state.locations[lvl.location_id],
        "canDeactivate": lambda _lvl, _i: True,
        "quantities": _quantities,
        "createdAt": time_field("created_at"),
        "updatedAt": time_field("updated_at"),
    },
}


def bind(schema: GraphQLSchema, tables: Sequence[dict[str, dict[str, Resolver]]]) -> None:
    """Attach resolvers (by type and field name) and abstract-type resolution to `schema`."""
    from graphql import GraphQLInterfaceType, GraphQLObjectType, GraphQLUnionType

    for table in tables:
        for type_name, resolvers in table.items():
            graphql_type = schema.get_type(type_name)
            assert isinstance(graphql_type, GraphQLObjectType), type_name
            for field_name, resolver in resolvers.items():
                # A resolver for a field the schema lacks is a typo: fail at startup, not at query time.
                if field_name not in graphql_type.fields:
                    raise KeyError(f"{type_name}.{field_name} is not in the schema")
                graphql_type.fields[field_name].resolve = resolver
    for named in schema.type_map.values():
        if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
            named.resolve_type = resolve_type
