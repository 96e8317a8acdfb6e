"""Query cost: estimated before sending, learned from Shopify's answer, used to plan batches.

Shopify charges a query's *requested* cost before running it (and refunds the difference to the
actual cost afterwards); a query whose requested cost exceeds what the bucket holds is THROTTLED.
So the client needs the requested cost *before* sending. It starts from a static estimate of the
document (Shopify's documented rules: scalar/enum 0, object 1, connection 2 + `first` × the cost of
one node, mutation 10) and then trusts `extensions.cost.requestedQueryCost`, which it records per
operation as `fixed + per_item × items` (a line through the observations), because a batched
mutation's cost may grow with its input array.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    parse,
)

MUTATION_COST = 10
CONNECTION_BASE_COST = 2
# Shopify refuses any single query whose requested cost is above this, whatever the bucket holds.
SINGLE_QUERY_MAX_COST = 1000
# Shopify's limit for every input array (and page size).
MAX_INPUT_ARRAY = 250


def estimate_cost(document: str, variables: dict[str, object] | None = None) -> int:
    """A static estimate of a document's requested cost (0 if it cannot be parsed: the server will
    refuse it anyway, and the answer teaches the real figure)."""
    parsed = _parsed(document)
    if parsed is None:
        return 0
    fragments = {d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)}
    total = 0
    for definition in parsed.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if definition.operation is OperationType.MUTATION:
            total += MUTATION_COST * len(definition.selection_set.selections)
        else:
            total += _selection_cost(definition.selection_set, fragments, variables or {})
    return total


@lru_cache(maxsize=256)
def _parsed(document: str) -> DocumentNode | None:
    try:
        return parse(document)
    except GraphQLError:
        return None


def _page_size(node: FieldNode, variables: dict[str, object]) -> int | None:
    for argument in node.arguments or ():
        if argument.name.value not in ("first", "last"):
            continue
        if isinstance(argument.value, IntValueNode):
            return int(argument.value.value)
        if isinstance(argument.value, VariableNode):
            value = variables.get(argument.value.name.value)
            return int(value) if isinstance(value, int) else MAX_INPUT_ARRAY
    return None


def _selection_cost(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, object],
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, InlineFragmentNode):
            total += _selection_cost(selection.selection_set, fragments, variables)
            continue
        if isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                total += _selection_cost(fragment.selection_set, fragments, variables)
            continue
        if not isinstance(selection, FieldNode):
            continue
        if selection.selection_set is None or selection.name.value in ("pageInfo", "cost"):
            continue  # scalars and enums are free; pageInfo is part of the connection's base
        size = _page_size(selection, variables)
        wraps_nodes = any(
            isinstance(child, FieldNode) and child.name.value in ("nodes", "edges")
            for child in selection.selection_set.selections
        )
        if size is not None and wraps_nodes:
            per_node = _node_cost(selection.selection_set, fragments, variables)
            total += CONNECTION_BASE_COST + size * per_node
        else:  # a plain object, or a list field (`first:` on a list is not a connection)
            total += 1 + _selection_cost(selection.selection_set, fragments, variables)
    return total


def _node_cost(
    connection_selection: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, object],
) -> int:
    """Cost of one node of a connection: 1 + its selection, whether read via `nodes { … }` or
    `edges { node { … } }` (the wrapping levels are part of the connection's base cost)."""
    best = 1
    for selection in connection_selection.selections:
        if not isinstance(selection, FieldNode) or selection.selection_set is None:
            continue
        if selection.name.value == "nodes":
            best = max(best, 1 + _selection_cost(selection.selection_set, fragments, variables))
        elif selection.name.value == "edges":
            for inner in selection.selection_set.selections:
                if isinstance(inner, FieldNode) and inner.name.value == "node":
                    best = max(best, 1 + _selection_cost(inner.selection_set, fragments, variables))
    return best


@dataclass
class OperationCost:
    """Requested cost of one operation as observed: `fixed + per_item × items`.

    With one observation the static estimate gives the shape and the observation the scale
    (`estimate(n) × observed/estimated`); with two or more, the line through the most distant ones.
    """

    observations: dict[int, tuple[float, float]] = field(
        default_factory=dict
    )  # items → (requested, estimate)

    def observe(self, items: int, requested: float, estimate: float) -> None:
        self.observations[items] = (requested, estimate)

    def predict(self, items: int, estimate: float) -> float:
        if items in self.observations:
            return self.observations[items][0]
        if not self.observations:
            return estimate
        if len(self.observations) == 1:
            requested, estimated = next(iter(self.observations.values()))
            return estimate * (requested / estimated) if estimated > 0 else requested
        fixed, per_item = self.line()
        return max(0.0, fixed + per_item * items)

    def line(self) -> tuple[float, float]:
        points = sorted(self.observations.items())
        (n0, (c0, _)), (n1, (c1, _)) = points[0], points[-1]
        per_item = max(0.0, (c1 - c0) / (n1 - n0)) if n1 != n0 else 0.0
        return c0 - per_item * n0, per_item


@dataclass
class CostBook:
    """What every operation this client sends is known to cost."""

    operations: dict[str, OperationCost] = field(default_factory=dict)

    def predict(
        self, operation: str, document: str, items: int, variables: dict[str, object] | None = None
    ) -> float:
        estimate = float(estimate_cost(document, variables))
        known = self.operations.get(operation)
        return estimate if known is None else known.predict(items, estimate)

    def observe(
        self, operation: str, document: str, items: int, variables: dict[str, object], requested: float
    ) -> None:
        estimate = float(estimate_cost(document, variables))
        self.operations.setdefault(operation, OperationCost()).observe(items, requested, estimate)

    def largest_batch(
        self,
        operation: str,
        document: str,
        *,
        budget: float,
        variables_for: Callable[[int], dict[str, object]] | None = None,
        upper: int = MAX_INPUT_ARRAY,
    ) -> int:
        """The most items (≤ `upper`, ≥ 1) one call can carry with a predicted cost within `budget`.

        Cost never falls as items grow, so a binary search over the prediction finds it.
        """

        def cost(items: int) -> float:
            variables = variables_for(items) if variables_for else {}
            return self.predict(operation, document, items, variables)

        if cost(upper) <= budget:
            return upper
        low, high = 1, upper  # invariant: answer in [low, high); cost(high) > budget
        while high - low > 1:
            middle = (low + high) // 2
            if cost(middle) <= budget:
                low = middle
            else:
                high = middle
        return low
