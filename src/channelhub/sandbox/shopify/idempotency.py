"""The `@idempotent(key:)` directive (2026-01 on; mandatory from 2026-04 on some mutations).

A repeated key with the same arguments replays the first result without doing the work again;
the same key with different arguments is refused. Shopify documents the requirement as a runtime
error rather than a schema rule ("the directive doesn't show up as mandatory at the schema
level"), so the check happens in the resolver.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo, StringValueNode, VariableNode

from channelhub.sandbox.shopify.resolvers import ctx
from channelhub.sandbox.shopify.state import ShopState

# Mutations that refuse to run without a key from 2026-04 on (Shopify changelog "Making
# idempotency mandatory for inventory adjustments and refund mutations").
MANDATORY_FROM = "2026-04"
MANDATORY_MUTATIONS = frozenset({"inventoryAdjustQuantities", "refundCreate"})


def idempotency_key(info: GraphQLResolveInfo) -> str | None:
    """The key of an `@idempotent(key:)` directive on this mutation field, if any."""
    for directive in info.field_nodes[0].directives or ():
        if directive.name.value != "idempotent":
            continue
        for arg in directive.arguments or ():
            if arg.name.value != "key":
                continue
            if isinstance(arg.value, StringValueNode):
                return arg.value.value
            if isinstance(arg.value, VariableNode):
                value = info.variable_values.get(arg.value.name.value)
                return value if isinstance(value, str) else None
    return None


def require_key(info: GraphQLResolveInfo, mutation: str, version: str) -> str | None:
    """The key, or a GraphQL error when this version demands one and none was given."""
    key = idempotency_key(info)
    if key is None and mutation in MANDATORY_MUTATIONS and version >= MANDATORY_FROM:
        raise GraphQLError(
            f"The @idempotent directive with a key is required for {mutation} "
            f"as of API version {MANDATORY_FROM} (requested {version}).",
            extensions={"code": "BAD_REQUEST"},
        )
    return key


def run_once(
    state: ShopState,
    mutation: str,
    key: str | None,
    arguments: dict[str, Any],
    work: Callable[[], dict[str, Any]],
    mismatch: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    """Do `work` once per key; replay its result for the same arguments, `mismatch()` otherwise.

    Results with user errors are remembered too: a retry of a refused request is refused alike.
    """
    if key is None:
        return work()
    fingerprint = json.dumps(arguments, sort_keys=True, default=str)
    with state.lock:
        remembered = state.idempotency.get((mutation, key))
        if remembered is not None:
            return remembered[1] if remembered[0] == fingerprint else mismatch()
        result = work()
        state.idempotency[(mutation, key)] = (fingerprint, result)
        return result


def run_mutation_once(
    info: GraphQLResolveInfo,
    mutation: str,
    arguments: dict[str, Any],
    work: Callable[[ShopState, str, dict[str, Any]], dict[str, Any]],
    mismatch: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    """A mutation resolver's body: demand the key where the version does, then `run_once`
    `work(state, version, arguments)`."""
    context = ctx(info)
    key = require_key(info, mutation, context.version)
    return run_once(
        context.state,
        mutation,
        key,
        arguments,
        lambda: work(context.state, context.version, arguments),
        mismatch,
    )
