"""The Admin GraphQL endpoint: version routing, auth, parsing, cost, throttling, execution.

Every failure has Shopify's shape and status: a bad token is a 401 with a string `errors`, an
unknown version a 404, a malformed body a 400; GraphQL problems (syntax, unknown fields, wrong
types, page sizes, oversized inputs, cost over 1000, throttling) are HTTP 200 with an `errors`
list. Nothing escapes as a traceback: an emulator bug becomes Shopify's internal-error body.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    Visitor,
    execute,
    parse,
    validate,
    visit,
)
from graphql.error import GraphQLSyntaxError
from graphql.execution.values import get_variable_values

from channelhub.sandbox.shopify.cost import CostProblem, actual_cost, find_operation, requested_cost
from channelhub.sandbox.shopify.resolvers import RequestContext, default_resolver
from channelhub.sandbox.shopify.schema import SUPPORTED_VERSIONS, schema_for

if TYPE_CHECKING:
    from channelhub.sandbox.shopify.app import ShopifyEmulator

log = logging.getLogger(__name__)

MAX_INPUT_ARRAY = 250
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
_VERSION_FORMAT = re.compile(r"^\d{4}-(01|04|07|10)$")


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


def resolve_version(requested: str) -> str | None:
    """The version Shopify would serve for `requested`, or None for a 404.

    Retired versions fall forward to the oldest one served (Shopify's documented behaviour);
    a release between two served ones is answered by the next newer served version. Malformed
    or not-yet-released versions are not found.
    """
    if requested in SUPPORTED_VERSIONS:
        return requested
    if not _VERSION_FORMAT.match(requested) or requested > SUPPORTED_VERSIONS[-1]:
        return None
    return next(v for v in SUPPORTED_VERSIONS if v >= requested)


def internal_error(request_id: str) -> dict[str, Any]:
    return {
        "errors": [
            {
                "message": "Internal error. Looks like something went wrong on our end.\n"
                f"Request ID: {request_id} (include this in support requests).",
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
            }
        ]
    }


_UNDEFINED_FIELD = re.compile(r"^Cannot query field '(?P<field>\w+)' on type '(?P<type>\w+)'")
_UNKNOWN_ARG = re.compile(r"^Unknown argument '(?P<arg>\w+)' on field '(?P<type>\w+)\.(?P<field>\w+)'")


def _format_error(error: GraphQLError) -> dict[str, Any]:
    """graphql-core's error, with the message and extension codes Shopify's server uses."""
    formatted: dict[str, Any] = dict(error.formatted)
    message = error.message
    extensions: dict[str, Any] = dict(formatted.get("extensions") or {})
    if match := _UNDEFINED_FIELD.match(message):
        formatted["message"] = f"Field '{match['field']}' doesn't exist on type '{match['type']}'"
        extensions.update(code="undefinedField", typeName=match["type"], fieldName=match["field"])
    elif match := _UNKNOWN_ARG.match(message):
        formatted["message"] = f"Field '{match['field']}' doesn't accept argument '{match['arg']}'"
        extensions.update(
            code="argumentNotAccepted", name=match["field"], typeName="Field", argumentName=match["arg"]
        )
    elif message.startswith("Variable '$"):
        extensions.setdefault("code", "INVALID_VARIABLE")
    elif message.startswith("Unknown directive"):
        extensions.setdefault("code", "undefinedDirective")
    elif isinstance(error, GraphQLSyntaxError):
        extensions.setdefault("code", "syntaxError")
    if extensions:
        formatted["extensions"] = extensions
    return formatted


def _oversized_inputs(value: Any, path: list[str]) -> tuple[int, list[str]] | None:
    if isinstance(value, list):
        if len(value) > MAX_INPUT_ARRAY:
            return len(value), path
        for item in value:
            found = _oversized_inputs(item, path)
            if found:
                return found
    elif isinstance(value, Mapping):
        for key, item in value.items():
            found = _oversized_inputs(item, [*path, str(key)])
            if found:
                return found
    return None


def _literal_list_sizes(document: DocumentNode) -> int:
    """The longest list literal written inline in the document."""
    longest = 0

    class _Longest(Visitor):
        def enter_list_value(self, node: ListValueNode, *_args: Any) -> None:
            nonlocal longest
            longest = max(longest, len(node.values))

    visit(document, _Longest())
    return longest


THROTTLED_ERROR: dict[str, Any] = {
    "message": "Throttled",
    "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
}


def _read_request(raw_body: bytes) -> tuple[str, dict[str, Any], str | None] | dict[str, Any]:
    """(query, variables, operation name) from the JSON body, or the 400 body Shopify sends."""
    try:
        payload = json.loads(raw_body or b"null")
    except (ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict):
        return {"errors": {"query": "Required parameter missing or invalid"}}
    query = payload.get("query")
    if not isinstance(query, str) or not query.strip():
        return {"errors": {"query": "Required parameter missing or invalid"}}
    variables = payload.get("variables") or {}
    if not isinstance(variables, dict):
        return {"errors": {"variables": "Invalid variables: must be a JSON object"}}
    operation_name = payload.get("operationName")
    return query, variables, operation_name if isinstance(operation_name, str) else None


def _prepare(
    schema: GraphQLSchema, query: str, variables: dict[str, Any], operation_name: str | None
) -> tuple[DocumentNode, OperationDefinitionNode] | list[dict[str, Any]]:
    """The parsed document and chosen operation, or the errors (syntax, validation, variables)."""
    try:
        document = parse(query)
    except GraphQLSyntaxError as exc:
        return [_format_error(exc)]
    problems = validate(schema, document)
    if problems:
        return [_format_error(e) for e in problems]
    operation = find_operation(document, operation_name)
    if operation is None:
        if operation_name:
            return [{"message": f"No operation named '{operation_name}'"}]
        return [{"message": "An operation name is required when sending multiple operations."}]
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables)
    if isinstance(coerced, list):  # wrong variable types are refused before anything is charged
        return [_format_error(e) for e in coerced]
    return document, operation


def _cost_problem(problem: CostProblem) -> dict[str, Any]:
    return {
        "message": problem.message,
        "locations": [{"line": problem.line, "column": problem.column}],
        "path": problem.path,
        "extensions": {"code": problem.code},
    }


def _oversized_input_error(variables: dict[str, Any], document: DocumentNode) -> dict[str, Any] | None:
    """Shopify's limit of 250 items per input array, in variables or written inline."""
    found = _oversized_inputs(variables, [])
    if found is None:
        longest = _literal_list_sizes(document)
        found = (longest, []) if longest > MAX_INPUT_ARRAY else None
    if found is None:
        return None
    size, path = found
    return {
        "message": f"The input array size of {size} is greater than the maximum allowed of {MAX_INPUT_ARRAY}.",
        "path": path,
        "extensions": {"code": "MAX_INPUT_SIZE_EXCEEDED"},
    }


class GraphQLEndpoint:
    def __init__(self, emulator: ShopifyEmulator) -> None:
        self.emulator = emulator

    def handle(self, version: str, token: str | None, raw_body: bytes, base_url: str) -> Reply:
        request_id = str(uuid.uuid4())
        headers = {"X-Request-Id": request_id}
        try:
            return self._handle(version, token, raw_body, base_url, headers)
        except Exception:  # an emulator bug must still look like Shopify, not a traceback
            log.exception("shopify emulator failed on a GraphQL request")
            return Reply(500, internal_error(request_id), headers)

    def _handle(
        self, version: str, token: str | None, raw_body: bytes, base_url: str, headers: dict[str, str]
    ) -> Reply:
        served = resolve_version(version)
        if served is None:
            return Reply(404, {"errors": "Not Found"}, headers)
        headers["X-Shopify-API-Version"] = served
        if token != self.emulator.settings.access_token:
            return Reply(401, {"errors": INVALID_TOKEN}, headers)
        self.emulator.shop.stats.graphql_requests += 1
        request = _read_request(raw_body)
        if isinstance(request, dict):
            return Reply(400, request, headers)
        query, variables, operation_name = request
        schema = schema_for(served)
        prepared = _prepare(schema, query, variables, operation_name)
        if isinstance(prepared, list):
            return Reply(200, {"errors": prepared}, headers)
        document, operation = prepared
        return Reply(
            200, self._charge_and_run(schema, document, operation, variables, served, base_url), headers
        )

    def _charge_and_run(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: dict[str, Any],
        version: str,
        base_url: str,
    ) -> dict[str, Any]:
        """Refuse what Shopify refuses before charging, then charge the bucket, run, refund."""
        report = requested_cost(schema, document, operation, variables)
        if report.problems:
            return {"errors": [_cost_problem(p) for p in report.problems]}
        bucket = self.emulator.bucket
        cost: dict[str, Any] = {"requestedQueryCost": report.requested, "actualQueryCost": None}
        limit = self.emulator.settings.max_query_cost
        if report.requested > limit:
            cost["throttleStatus"] = bucket.status().as_json()
            return {"errors": [_max_cost_error(report.requested, limit)], "extensions": {"cost": cost}}
        oversized = _oversized_input_error(variables, document)
        if oversized:
            return {"errors": [oversized]}
        chaos = self.emulator.chaos
        if chaos.chance(chaos.settings.throttle_rate) or not bucket.try_take(report.requested):
            self.emulator.shop.stats.throttled_requests += 1
            cost["throttleStatus"] = bucket.status().as_json()
            return {"errors": [THROTTLED_ERROR], "extensions": {"cost": cost}}
        body = self._execute(schema, document, operation, variables, version, base_url)
        spent = report.requested
        if operation.operation == OperationType.QUERY:
            returned = actual_cost(schema, document, operation, variables, body.get("data"))
            spent = min(report.requested, returned)
            bucket.give_back(report.requested - spent)
        self.emulator.shop.stats.points_spent += spent
        cost["actualQueryCost"] = spent
        cost["throttleStatus"] = bucket.status().as_json()
        body["extensions"] = {"cost": cost}
        return body

    def _execute(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: dict[str, Any],
        version: str,
        base_url: str,
    ) -> dict[str, Any]:
        context = RequestContext(
            state=self.emulator.shop,
            version=version,
            base_url=base_url,
            served_versions=SUPPORTED_VERSIONS,
        )
        result = execute(
            schema,
            document,
            context_value=context,
            variable_values=variables,
            operation_name=operation.name.value if operation.name else None,
            field_resolver=default_resolver,
        )
        if hasattr(result, "__await__"):  # resolvers are synchronous; this cannot happen
            raise RuntimeError("asynchronous execution result")
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [self._execution_error(e) for e in result.errors]
        body["data"] = result.data
        return body

    @staticmethod
    def _execution_error(error: GraphQLError) -> dict[str, Any]:
        original = error.original_error
        if original is None or isinstance(original, GraphQLError):
            return _format_error(error)
        # A resolver bug: log it, and answer like Shopify's internal error instead of leaking it.
        log.error("resolver failed", exc_info=original)
        request_id = str(uuid.uuid4())
        formatted: dict[str, Any] = internal_error(request_id)["errors"][0]
        formatted["path"] = error.path
        return formatted


def _max_cost_error(requested: int, limit: int) -> dict[str, Any]:
    return {
        "message": f"Query cost is {requested}, which exceeds the single query max cost limit ({limit}).\n\n"
        "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"
        "cost of a query is calculated.\n\n"
        "To query larger amounts of data with fewer limits, bulk operations should be used instead.\n"
        "See https://shopify.dev/api/usage/bulk-operations/queries for usage details.\n",
        "extensions": {
            "code": "MAX_COST_EXCEEDED",
            "cost": requested,
            "maxCost": limit,
            "documentation": "https://shopify.dev/api/usage/rate-limits",
        },
    }
