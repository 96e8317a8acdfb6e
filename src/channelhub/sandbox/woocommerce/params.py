"""Request argument validation with WordPress core's rules and messages (`rest_validate_value_from_schema`).

Integers accept numeric strings ("5"), booleans accept true/false/1/0 and their strings, strings
must be strings (a number is refused, as WordPress does), enums and date-times are checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from channelhub.sandbox.woocommerce.errors import invalid_param

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})?$")


def _php_list(values: Sequence[str]) -> str:
    items = list(values)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


def to_integer(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise invalid_param(name, f"{name} is not of type integer.", "rest_invalid_type")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = float("nan")
        if number == number and number.is_integer() and value.strip():
            return int(number)
    raise invalid_param(name, f"{name} is not of type integer.", "rest_invalid_type")


def to_boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", ""):
        return value.lower() in ("true", "1")
    raise invalid_param(name, f"{name} is not of type boolean.", "rest_invalid_type")


def to_string(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise invalid_param(name, f"{name} is not of type string.", "rest_invalid_type")
    return value


def to_enum(name: str, value: Any, allowed: Sequence[str]) -> str:
    text = to_string(name, value)
    if text not in allowed:
        raise invalid_param(name, f"{name} is not one of {_php_list(allowed)}.", "rest_not_in_enum")
    return text


def to_datetime(name: str, value: Any) -> datetime:
    text = to_string(name, value)
    if not _DATE.match(text):
        raise invalid_param(name, "Invalid date.", "rest_invalid_date")
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        raise invalid_param(name, "Invalid date.", "rest_invalid_date") from None
    # Dates without an offset are site time; the emulated site runs on UTC.
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def bounded(name: str, value: int, minimum: int | None, maximum: int | None) -> int:
    if minimum is not None and maximum is not None and not minimum <= value <= maximum:
        reason = f"{name} must be between {minimum} (inclusive) and {maximum} (inclusive)"
        raise invalid_param(name, reason, "rest_out_of_bounds")
    if minimum is not None and value < minimum:
        raise invalid_param(name, f"{name} must be greater than or equal to {minimum}", "rest_out_of_bounds")
    return value


def to_list(name: str, value: Any) -> list[str]:
    """An array argument given as `a,b`, as `x[]=a&x[]=b`, or as a JSON array."""
    if isinstance(value, Mapping):
        return [str(v) for v in value.values()]
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    raise invalid_param(name, f"{name} is not of type array.", "rest_invalid_type")


def to_id_list(name: str, value: Any) -> list[int]:
    return [to_integer(name, item) for item in to_list(name, value)]


class Collection:
    """The common collection arguments (`page`, `per_page`, `order`, dates, include/exclude)."""

    def __init__(self, query: Mapping[str, Any], orderby: Sequence[str]) -> None:
        self.page = bounded("page", to_integer("page", query.get("page", 1)), 1, None)
        self.per_page = bounded("per_page", to_integer("per_page", query.get("per_page", 10)), 1, 100)
        self.offset = to_integer("offset", query["offset"]) if "offset" in query else None
        self.order = to_enum("order", query.get("order", "desc"), ("asc", "desc"))
        self.orderby = to_enum("orderby", query.get("orderby", "date"), orderby)
        self.include = to_id_list("include", query["include"]) if "include" in query else []
        self.exclude = to_id_list("exclude", query["exclude"]) if "exclude" in query else []
        self.after = to_datetime("after", query["after"]) if "after" in query else None
        self.before = to_datetime("before", query["before"]) if "before" in query else None
        self.modified_after = (
            to_datetime("modified_after", query["modified_after"]) if "modified_after" in query else None
        )
        self.modified_before = (
            to_datetime("modified_before", query["modified_before"]) if "modified_before" in query else None
        )

    def keep(self, record_id: int, created: datetime, modified: datetime) -> bool:
        if self.include and record_id not in self.include:
            return False
        if record_id in self.exclude:
            return False
        # WP_Date_Query "after"/"before" are exclusive.
        if self.after is not None and not created > self.after:
            return False
        if self.before is not None and not created < self.before:
            return False
        if self.modified_after is not None and not modified > self.modified_after:
            return False
        return self.modified_before is None or modified < self.modified_before

    def page_of(self, records: list[Any], sort_key: Any) -> tuple[list[Any], int, int]:
        """Sort, slice; returns (page items, total, total pages)."""
        if self.orderby == "include" and self.include:
            records.sort(key=lambda r: self.include.index(r.id))
        else:
            records.sort(key=sort_key, reverse=self.order == "desc")
        total = len(records)
        start = self.offset if self.offset is not None else (self.page - 1) * self.per_page
        pages = -(-total // self.per_page)
        return records[start : start + self.per_page], total, pages
