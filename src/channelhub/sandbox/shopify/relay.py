"""Relay plumbing: global ids, opaque cursors, connection pages and Shopify's search syntax."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
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
    r'(?P<field>-?[a-z_]+):(?P<op>>=|<=|>|<)?(?P<value>"[^"]*"|\'[^\']*\'|\S+)|(?P<bare>"[^"]*"|\S+)'
)

FieldGetter = Callable[[Any, str], Sequence[object] | None]


@dataclass(frozen=True)
class SearchTerm:
    negated: bool
    field: str | None  # None: a bare word, matched against the record's default fields
    op: str | None  # None (equality, `*` suffix = prefix), or one of > >= < <=
    value: str


@dataclass(frozen=True)
class SearchQuery:
    """A parsed Shopify search query: OR of AND-groups of terms.

    Supported: `field:value` (case-insensitive, `*` suffix as prefix match), comparisons
    `field:>value`, `AND` (also implicit), `OR`, `NOT`/`-` negation. Parsed once per request,
    then matched against every record.
    """

    groups: tuple[tuple[SearchTerm, ...], ...]

    def matches(self, record: Any, fields: FieldGetter) -> bool:
        """`fields(record, name)` gives a record's values for a field; None means the field is
        unknown, and the term is ignored (Shopify ignores unknown filters)."""
        return any(all(_term_holds(record, term, fields) for term in group) for group in self.groups)

    def exact_values(self, name: str) -> set[str] | None:
        """The values when the query is only `name:v1 OR name:v2 ...` (index lookups), else None."""
        values: set[str] = set()
        for group in self.groups:
            if len(group) != 1:
                return None
            term = group[0]
            if term.field != name or term.negated or term.op or term.value.endswith("*"):
                return None
            values.add(term.value)
        return values


def parse_search(query: str | None) -> SearchQuery | None:
    """The parsed query, or None when there is nothing to filter on."""
    if not query or not query.strip():
        return None
    groups: list[list[SearchTerm]] = [[]]
    negate_next = False
    for match in _TERM.finditer(query):
        bare = match.group("bare")
        if bare is not None:
            word = bare.strip("\"'")
            if word in ("OR", "AND", "NOT"):
                if word == "OR":
                    groups.append([])
                negate_next = word == "NOT"
                continue
            groups[-1].append(SearchTerm(negate_next or word.startswith("-"), None, None, word.lstrip("-")))
        else:
            name = match.group("field")
            negated = negate_next or name.startswith("-")
            value = match.group("value").strip("\"'")
            groups[-1].append(SearchTerm(negated, name.lstrip("-"), match.group("op"), value))
        negate_next = False
    kept = tuple(tuple(group) for group in groups if group)
    return SearchQuery(kept) if kept else None


def _term_holds(record: Any, term: SearchTerm, fields: FieldGetter) -> bool:
    values = fields(record, term.field or "default")
    if values is None:
        return True
    result = any(_compare(value, term.op, term.value) for value in values)
    return not result if term.negated else result


def _moment(text: str) -> datetime | None:
    """A search value as a UTC moment: ISO dates and datetimes, with `Z` or an offset."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _compare(value: object, op: str | None, wanted: str) -> bool:
    if value is None:
        return False
    if isinstance(value, datetime):
        moment = _moment(wanted)
        if moment is None:
            return False
        return _ordered(value, op, moment) if op else value == moment
    if op:
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                number = float(wanted)
            except ValueError:
                return False
            return _ordered(float(value), op, number)
        return _ordered(str(value), op, wanted)
    text = str(value)
    if wanted.endswith("*"):
        return text.lower().startswith(wanted[:-1].lower())
    return text.lower() == wanted.lower()


def _ordered(left: Any, op: str, right: Any) -> bool:
    if op == ">":
        return bool(left > right)
    if op == ">=":
        return bool(left >= right)
    if op == "<":
        return bool(left < right)
    return bool(left <= right)
