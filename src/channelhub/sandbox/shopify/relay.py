"""Relay plumbing: global ids, opaque cursors, connection pages and Shopify's search syntax."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from graphql import GraphQLError

T = TypeVar("T")

_GID = re.compile(r"^gid://shopify/(?P<kind>[A-Za-z]+)/(?P<number>\d+)(?:\?(?P<query>.*))?$")


def parse_gid(value: object, kind: str) -> int | None:
    """The numeric id inside `gid://shopify/<kind>/<n>`, or None when it is not one."""
    if not isinstance(value, str):
        return None
    match = _GID.match(value)
    if match is None or match.group("kind") != kind:
        return None
    return int(match.group("number"))


def parse_any_gid(value: str) -> tuple[str, int, str | None] | None:
    match = _GID.match(value)
    if match is None:
        return None
    return match.group("kind"), int(match.group("number")), match.group("query")


def encode_cursor(record_id: int) -> str:
    raw = json.dumps({"last_id": record_id, "last_value": record_id}, separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        payload = json.loads(base64.b64decode(cursor.encode(), validate=True))
        return int(payload["last_id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise GraphQLError("Invalid cursor for current pagination sort.") from exc


def connection(
    records: Sequence[T],
    record_id: Callable[[T], int],
    args: dict[str, Any],
    *,
    unlimited: bool = False,
) -> dict[str, Any]:
    """One page of `records` (already filtered and sorted) shaped as a Relay connection.

    Page sizes were validated by the cost check; `unlimited` serves bulk operations, which read
    whole connections without `first`.
    """
    items = list(records)
    if args.get("reverse"):
        items.reverse()
    ids = [record_id(item) for item in items]
    start, end = 0, len(items)
    if args.get("after"):
        after = decode_cursor(args["after"])
        start = ids.index(after) + 1 if after in ids else len(items)
    if args.get("before"):
        before = decode_cursor(args["before"])
        end = ids.index(before) if before in ids else end
    window = items[start:end]
    first, last = args.get("first"), args.get("last")
    if first is not None:
        page = window[: max(0, first)]
        has_next, has_previous = len(window) > len(page), start > 0
    elif last is not None:
        page = window[max(0, len(window) - last) :]
        has_next, has_previous = end < len(items), len(window) > len(page)
    else:
        page = window if unlimited else window[:0]
        has_next, has_previous = False, start > 0
    edges = [{"cursor": encode_cursor(record_id(item)), "node": item} for item in page]
    return {
        "edges": edges,
        "nodes": page,
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


# -- search syntax ---------------------------------------------------------------------------
_TERM = re.compile(
    r'(?P<field>[a-z_]+):(?P<op>>=|<=|>|<)?(?P<value>"[^"]*"|\'[^\']*\'|\S+)|(?P<bare>"[^"]*"|\S+)'
)

FieldGetter = Callable[[Any, str], Sequence[object] | None]


def matches_search(record: Any, query: str | None, fields: FieldGetter) -> bool:
    """Whether `record` satisfies a Shopify search query such as `sku:ABC OR sku:DEF`.

    Supported: `field:value` (case-insensitive, `*` suffix as prefix match), comparisons
    `field:>value`, `AND` (also implicit), `OR`, `NOT`/`-` negation. `fields(record, name)`
    returns the record's values for a field (None: the field is unknown and the term is ignored,
    as Shopify ignores unknown filters).
    """
    if not query or not query.strip():
        return True
    groups: list[list[tuple[bool, str | None, str | None, str]]] = [[]]
    negate_next = False
    for match in _TERM.finditer(query):
        bare = match.group("bare")
        if bare is not None:
            word = bare.strip("\"'")
            if word == "OR":
                groups.append([])
                continue
            if word == "AND":
                continue
            if word == "NOT":
                negate_next = True
                continue
            negated = negate_next or word.startswith("-")
            groups[-1].append((negated, None, None, word.lstrip("-")))
        else:
            name = match.group("field")
            negated = negate_next
            if name.startswith("-"):
                name, negated = name[1:], True
            groups[-1].append((negated, name, match.group("op"), match.group("value").strip("\"'")))
        negate_next = False
    return any(all(_term_holds(record, term, fields) for term in group) for group in groups if group)


def _term_holds(record: Any, term: tuple[bool, str | None, str | None, str], fields: FieldGetter) -> bool:
    negated, name, op, wanted = term
    values = fields(record, name or "default")
    if values is None:
        return True
    result = any(_compare(value, op, wanted) for value in values)
    return not result if negated else result


def _compare(value: object, op: str | None, wanted: str) -> bool:
    if value is None:
        return False
    text = str(value)
    if op:
        left: object = value
        right: object = wanted
        if isinstance(value, int | float):
            try:
                right = float(wanted)
            except ValueError:
                return False
        else:
            left = text
        assert isinstance(left, str | int | float) and isinstance(right, str | int | float)
        return {
            ">": left > right,  # type: ignore[operator]
            ">=": left >= right,  # type: ignore[operator]
            "<": left < right,  # type: ignore[operator]
            "<=": left <= right,  # type: ignore[operator]
        }[op]
    if wanted.endswith("*"):
        return text.lower().startswith(wanted[:-1].lower())
    return text.lower() == wanted.lower()
