"""Calculated query cost, as Shopify's Admin GraphQL API computes it, plus page-size checks.

Rules (shopify.dev "GraphQL Admin API rate limits", cost calculation table): scalars and enums
cost 0, objects 1, interfaces and unions the maximum of their possible selections, connections
2 plus `first`/`last` times the cost of one node, and every mutation field 10. The *requested*
cost is computed before execution from the page sizes asked for; the *actual* cost walks the
response and counts what was returned, so the difference can be refunded to the bucket.

The same walk enforces what Shopify refuses before executing: a connection without `first` or
`last`, and a page larger than 250.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)

MUTATION_COST = 10
CONNECTION_BASE_COST = 2
MAX_PAGE_SIZE = 250


@dataclass
class CostProblem:
    message: str
    line: int
    column: int
    path: list[str]
    code: str


@dataclass
class CostReport:
    requested: int
    problems: list[CostProblem] = field(default_factory=list)


def find_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        return next((op for op in operations if op.name and op.name.value == operation_name), None)
    return operations[0] if len(operations) == 1 else None


class _CostWalker:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any],
        check_pages: bool,
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.check_pages = check_pages
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.problems: list[CostProblem] = []

    # -- arguments ----------------------------------------------------------------------------
    def _int_arg(self, node: FieldNode, name: str) -> int | None:
        for arg in node.arguments or ():
            if arg.name.value != name:
                continue
            value = arg.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                found = self.variables.get(value.name.value)
                return found if isinstance(found, int) and not isinstance(found, bool) else None
        return None

    def _list_arg_len(self, node: FieldNode, name: str) -> int:
        for arg in node.arguments or ():
            if arg.name.value != name:
                continue
            if isinstance(arg.value, ListValueNode):
                return len(arg.value.values)
            if isinstance(arg.value, VariableNode):
                found = self.variables.get(arg.value.name.value)
                return len(found) if isinstance(found, list) else 1
            return 1
        return 0

    def _page_size(self, node: FieldNode, path: list[str]) -> int:
        first = self._int_arg(node, "first")
        last = self._int_arg(node, "last")
        size = first if first is not None else last
        if not self.check_pages:
            return size or 0
        loc = node.loc.source.get_location(node.loc.start) if node.loc and node.loc.source else None
        line, column = (loc.line, loc.column) if loc else (0, 0)
        if size is None:
            self.problems.append(
                CostProblem("you must provide one of first or last", line, column, path, "argumentRequired")
            )
            return 0
        if size > MAX_PAGE_SIZE or size < 0:
            argument = "first" if first is not None else "last"
            self.problems.append(
                CostProblem(
                    f"The '{argument}' argument on '{node.name.value}' must be between 0 and "
                    f"{MAX_PAGE_SIZE}, got {size}.",
                    line,
                    column,
                    path,
                    "argumentOutOfRange",
                )
            )
            return min(max(size, 0), MAX_PAGE_SIZE)
        return size

    # -- selections ---------------------------------------------------------------------------
    def selection_cost(
        self, parent: GraphQLNamedType, selection_set: SelectionSetNode | None, data: Any, path: list[str]
    ) -> int:
        if selection_set is None:
            return 0
        unconditioned = 0
        by_type: dict[str, int] = {}
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                unconditioned += self.field_cost(parent, selection, data, path)
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition.name.value if selection.type_condition else None
                sub_selection = selection.selection_set
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is None:
                    continue
                condition = fragment.type_condition.name.value
                sub_selection = fragment.selection_set
            else:  # pragma: no cover - no other selection kinds exist
                continue
            target = self.schema.get_type(condition) if condition else parent
            if target is None:
                continue
            cost = self.selection_cost(target, sub_selection, data, path)
            if condition is None or condition == parent.name:
                unconditioned += cost
            else:
                by_type[condition] = by_type.get(condition, 0) + cost
        return unconditioned + max(by_type.values(), default=0)

    def field_cost(self, parent: GraphQLNamedType, node: FieldNode, data: Any, path: list[str]) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = parent.fields.get(name)
        if definition is None:
            return 0
        key = node.alias.value if node.alias else name
        here = [*path, key]
        value = data.get(key) if isinstance(data, Mapping) else None
        returns = get_named_type(definition.type)
        if isinstance(returns, GraphQLScalarType | GraphQLEnumType):
            return 0
        if returns.name.endswith("Connection") and isinstance(returns, GraphQLObjectType):
            return self._connection_cost(returns, node, value, data is not None, here)
        inner = definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else definition.type
        if isinstance(inner, GraphQLList):
            # `nodes(ids:)` is sized by its ids; other plain lists cost like one object.
            if name == "nodes":
                if isinstance(value, list):
                    return sum(1 + self.selection_cost(returns, node.selection_set, v, here) for v in value)
                count = self._list_arg_len(node, "ids")
                return count * (1 + self.selection_cost(returns, node.selection_set, None, here))
            if isinstance(value, list):
                costs = [self.selection_cost(returns, node.selection_set, v, here) for v in value]
                return 1 + max(costs, default=0)
            return 1 + self.selection_cost(returns, node.selection_set, None, here)
        if isinstance(returns, GraphQLUnionType | GraphQLInterfaceType | GraphQLObjectType):
            if data is not None and value is None:
                return 1
            return 1 + self.selection_cost(returns, node.selection_set, value, here)
        return 0

    def _connection_cost(
        self, connection: GraphQLObjectType, node: FieldNode, value: Any, actual: bool, path: list[str]
    ) -> int:
        size = self._page_size(node, path)
        if actual and not isinstance(value, Mapping):
            return CONNECTION_BASE_COST if value is not None else 0
        best = 0
        for selection in _flatten_fields(node.selection_set, self.fragments):
            if selection.name.value == "edges":
                node_type = _edge_node_type(connection)
                edges = value.get(_key(selection)) if actual else None
                for inner in _flatten_fields(selection.selection_set, self.fragments):
                    if inner.name.value != "node" or node_type is None:
                        continue
                    best = max(best, self._items_cost(node_type, inner, edges, size, "node", path))
            elif selection.name.value == "nodes":
                node_type = get_named_type(connection.fields["nodes"].type)
                nodes = value.get(_key(selection)) if actual else None
                wrapped = [{"n": item} for item in nodes] if isinstance(nodes, list) else None
                best = max(best, self._items_cost(node_type, selection, wrapped, size, "n", path))
        return CONNECTION_BASE_COST + best

    def _items_cost(
        self,
        node_type: GraphQLNamedType,
        node_field: FieldNode,
        items: Any,
        size: int,
        item_key: str,
        path: list[str],
    ) -> int:
        if isinstance(items, list):
            total = 0
            for item in items:
                value = item.get(item_key) if isinstance(item, Mapping) else None
                total += 1 + self.selection_cost(node_type, node_field.selection_set, value, path)
            return total
        return size * (1 + self.selection_cost(node_type, node_field.selection_set, None, path))


def _key(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value


def _edge_node_type(connection: GraphQLObjectType) -> GraphQLNamedType | None:
    edge_type = get_named_type(connection.fields["edges"].type)
    if isinstance(edge_type, GraphQLObjectType) and "node" in edge_type.fields:
        node_type: GraphQLNamedType = get_named_type(edge_type.fields["node"].type)
        return node_type
    return None


def _flatten_fields(
    selection_set: SelectionSetNode | None, fragments: Mapping[str, FragmentDefinitionNode]
) -> list[FieldNode]:
    if selection_set is None:
        return []
    found: list[FieldNode] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            found.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            found.extend(_flatten_fields(selection.selection_set, fragments))
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            found.extend(_flatten_fields(fragments[selection.name.value].selection_set, fragments))
    return found


def requested_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
    *,
    check_pages: bool = True,
) -> CostReport:
    """The cost Shopify charges up front, and the page-size problems that stop execution."""
    walker = _CostWalker(schema, document, variables, check_pages)
    if operation.operation == OperationType.MUTATION:
        mutation_fields = [
            f
            for f in _flatten_fields(operation.selection_set, walker.fragments)
            if not f.name.value.startswith("__")
        ]
        # Mutation payload selections are not charged on top of the flat mutation cost.
        return CostReport(requested=MUTATION_COST * len(mutation_fields))
    root = schema.query_type
    assert root is not None
    total = walker.selection_cost(root, operation.selection_set, None, [])
    return CostReport(requested=total, problems=walker.problems)


def actual_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
    data: Mapping[str, Any] | None,
) -> int:
    """The cost of what was actually returned (connections count their real item numbers)."""
    walker = _CostWalker(schema, document, variables, check_pages=False)
    if operation.operation == OperationType.MUTATION:
        return requested_cost(schema, document, operation, variables).requested
    root = schema.query_type
    assert root is not None
    return walker.selection_cost(root, operation.selection_set, data or {}, [])
