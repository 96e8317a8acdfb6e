"""Matching one field value against one domain comparison, with PostgreSQL's typing rules."""

from __future__ import annotations

import operator as operator_module
import re
from collections.abc import Callable
from typing import Any

from channelhub.sandbox.odoo.errors import DatabaseError, value_error

NEGATIVE = {"!=": "=", "not like": "like", "not ilike": "ilike", "not in": "in", "not any": "any"}
COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator_module.lt,
    "<=": operator_module.le,
    ">": operator_module.gt,
    ">=": operator_module.ge,
}


def as_list(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple, set)):
        return list(value)
    return [value]


def normalize_key(field_type: str, value: Any) -> Any:
    if field_type in ("integer", "many2one") and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _typed(field_type: str, value: Any) -> Any:
    """Check a comparison value the way PostgreSQL would parse it for the column type."""
    if value is False or value is None:
        return False
    if field_type in ("integer", "many2one", "float", "monetary"):
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, (int, float)):
            return value
        sql_type = "integer" if field_type in ("integer", "many2one") else "double precision"
        if isinstance(value, str):
            try:
                return int(value) if sql_type == "integer" else float(value)
            except ValueError:
                pass
        raise DatabaseError(
            "InvalidTextRepresentation", f'invalid input syntax for type {sql_type}: "{value}"'
        )
    if field_type in ("date", "datetime"):
        if not isinstance(value, str) or not re.fullmatch(
            r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?", value
        ):
            raise DatabaseError(
                "InvalidDatetimeFormat", f'invalid input syntax for type timestamp: "{value}"'
            )
        if field_type == "date":
            return value[:10]  # PostgreSQL casts to date: the time part is dropped
        return (value + " 00:00:00")[:19] if len(value) == 10 else (value + ":00")[:19]
    if field_type in ("char", "text", "html", "selection"):
        return value if isinstance(value, str) else str(value)
    return value


def _sql_like_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        parts.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def value_matcher(field_type: str, operator: str, value: Any) -> Callable[[Any], bool]:
    negate = operator in ("!=", "not like", "not ilike", "not in")
    base = NEGATIVE.get(operator, operator)
    positive = _positive_matcher(field_type, base, value)
    if negate:
        return lambda v: not positive(v)
    return positive


def _positive_matcher(field_type: str, operator: str, value: Any) -> Callable[[Any], bool]:
    empty = (False, None, "")
    if operator == "=":
        if value is False or value is None:
            if field_type == "boolean":
                return lambda v: not v
            return lambda v: v in empty or v == []
        typed = _typed(field_type, value)
        if field_type == "boolean":
            return lambda v: bool(v) == bool(typed)
        return lambda v: v not in empty and v == typed
    if operator == "in":
        values = as_list(value)
        wanted = {_typed(field_type, v) for v in values if v is not False and v is not None}
        with_empty = any(v is False or v is None for v in values)
        if field_type == "boolean":
            return lambda v: bool(v) in wanted or (with_empty and not v)
        return lambda v: (v not in empty and v in wanted) or (with_empty and v in empty)
    if operator in ("<", "<=", ">", ">="):
        typed = _typed(field_type, value)
        if typed is False:
            return lambda v: False
        compare = COMPARATORS[operator]
        return lambda v: v is not None and v is not False and compare(v, typed)
    if operator in ("like", "ilike"):
        if value in (False, None, ""):
            return lambda v: True
        needle = str(value)
        if operator == "ilike":
            folded = needle.casefold()
            return lambda v: v not in empty and folded in str(v).casefold()
        return lambda v: v not in empty and needle in str(v)
    if operator in ("=like", "=ilike"):
        regex = _sql_like_regex(str(value), operator == "=ilike")
        return lambda v: v not in empty and regex.fullmatch(str(v)) is not None
    raise value_error(f"Invalid operator {operator!r}")
