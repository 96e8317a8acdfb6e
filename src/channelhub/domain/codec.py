"""Plain-data encoding and JSON Schema (draft 2020-12) for the domain's frozen dataclasses.

One small converter drives three things from the same type hints, so they cannot drift apart:
`encode` (dataclass → JSON-ready dict), `decode` (dict → dataclass, with errors naming the path)
and `json_schema` (dataclass → schema). Supported field types: str, int, bool, Decimal (as a
plain decimal string, never a float), timezone-aware datetime (ISO 8601, normalised to UTC),
`Sku`, string enums, nested frozen dataclasses, `tuple[X, ...]` and `X | None`. Extra schema
keywords for a field come from `field(metadata={"json_schema": {...}})`.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from channelhub.domain.catalog import Sku, check_quantity
from channelhub.domain.errors import DomainError, InvalidEventPayload, InvalidQuantity, InvalidValue

DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
_DECIMAL = re.compile(DECIMAL_PATTERN)
# RFC 3339 date-time with an offset. `format: date-time` alone is only an annotation in draft
# 2020-12 (validators need not check it), so the pattern is what makes the contract enforceable.
DATETIME_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})$"
)
_DATETIME = re.compile(DATETIME_PATTERN)
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def encode_decimal(value: Decimal) -> str:
    """`Decimal` as a plain string: no exponent, so `1E+2` is written `100`."""
    return format(value, "f")


def encode(value: Any) -> Any:
    """A JSON-ready value (dict, list, str, int, bool, None) for a supported domain value."""
    if isinstance(value, bool | int | str) or value is None:
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return encode_decimal(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Sku):
        return value.value
    if isinstance(value, tuple | list):
        return [encode(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise TypeError(f"cannot encode {type(value).__name__}")


def decode(hint: Any, raw: Any, path: str) -> Any:
    """The domain value of type `hint` from plain data; `InvalidEventPayload` names the bad path."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if raw is None:
            return None
        return decode(options[0], raw, path)
    if origin is tuple:
        if not isinstance(raw, list):
            raise InvalidEventPayload(f"{path}: expected a list, got {type(raw).__name__}")
        item_type = typing.get_args(hint)[0]
        return tuple(decode(item_type, item, f"{path}[{i}]") for i, item in enumerate(raw))
    if hint is bool:
        return _expect(raw, bool, path)
    if hint is int:
        if isinstance(raw, bool):
            raise InvalidEventPayload(f"{path}: expected an integer, got a boolean")
        return _expect(raw, int, path)
    if hint is str:
        return _expect(raw, str, path)
    if hint is Decimal:
        text = _expect(raw, str, path)
        if not _DECIMAL.match(text):
            raise InvalidEventPayload(f"{path}: {text!r} is not a plain decimal string")
        try:
            return Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - the pattern already excludes this
            raise InvalidEventPayload(f"{path}: {text!r} is not a decimal") from exc
    if hint is datetime:
        return _decode_datetime(_expect(raw, str, path), path)
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(raw)
        except ValueError as exc:
            raise InvalidEventPayload(f"{path}: {raw!r} is not one of {[m.value for m in hint]}") from exc
    if hint is Sku:
        return _build(lambda: Sku(_expect(raw, str, path)), path)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return decode_dataclass(hint, raw, path)
    raise TypeError(f"{path}: unsupported type {hint!r}")


def decode_dataclass(cls: type[Any], raw: Any, path: str) -> Any:
    """An instance of dataclass `cls` from a dict with exactly its fields.

    Fields with defaults are required too: `encode` always writes them, and a payload that leaves
    one out is not what its producer meant (its `event_id` would not match).
    """
    if not isinstance(raw, dict):
        raise InvalidEventPayload(f"{path}: expected an object, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise InvalidEventPayload(f"{path}: unknown field(s) {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name in fields:
        if name not in raw:
            raise InvalidEventPayload(f"{path}: missing field {name}")
        values[name] = decode(hints[name], raw[name], f"{path}.{name}")
    return _build(lambda: cls(**values), path)


def json_schema(hint: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of `hint`; nested dataclasses go to `defs` and are referenced."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return {"anyOf": [json_schema(options[0], defs), {"type": "null"}]}
    if origin is tuple:
        return {"type": "array", "items": json_schema(typing.get_args(hint)[0], defs)}
    simple = {bool: "boolean", int: "integer", str: "string"}
    if hint in simple:
        return {"type": simple[hint]}
    if hint is Decimal:
        return {"type": "string", "pattern": DECIMAL_PATTERN}
    if hint is datetime:
        return {"type": "string", "format": "date-time", "pattern": DATETIME_PATTERN}
    if hint is Sku:
        return {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"^\S+$"}
    if isinstance(hint, type) and issubclass(hint, Enum):
        return {"enum": [member.value for member in hint]}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if hint.__name__ not in defs:
            defs[hint.__name__] = {}  # placeholder first: stops recursion on self-reference
            defs[hint.__name__] = object_schema(hint, defs)
        return {"$ref": f"#/$defs/{hint.__name__}"}
    raise TypeError(f"no JSON Schema for {hint!r}")


def object_schema(cls: type[Any], defs: dict[str, Any]) -> dict[str, Any]:
    """The object schema of a dataclass: every field is required (`encode` always writes all)."""
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        properties[f.name] = {**json_schema(hints[f.name], defs), **f.metadata.get("json_schema", {})}
    required = list(properties)
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
    schema["additionalProperties"] = False
    doc = (cls.__doc__ or "").strip()
    if doc:
        schema["description"] = doc.splitlines()[0]
    return schema


def check_constraints(instance: Any, owner: str) -> None:
    """Enforce a dataclass's `json_schema` field metadata at construction, so a value that its
    own schema would refuse cannot be built either (schema and code cannot drift apart)."""
    for f in dataclasses.fields(instance):
        value = getattr(instance, f.name)
        where = f"{owner}.{f.name}"
        if isinstance(value, datetime) and value.tzinfo is None:
            raise InvalidValue(f"{where} must be timezone-aware")
        constraints = f.metadata.get("json_schema", {})
        if "minimum" in constraints:
            check_quantity(value, where, allow_negative=True)
            if value < constraints["minimum"]:
                raise InvalidQuantity(f"{where} = {value} is below {constraints['minimum']}")
        if "pattern" in constraints and not (
            isinstance(value, str) and re.search(constraints["pattern"], value)
        ):
            raise InvalidValue(f"{where} {value!r} must match {constraints['pattern']}")
        if "minItems" in constraints and len(value) < constraints["minItems"]:
            raise InvalidValue(f"{where} needs at least {constraints['minItems']} item(s)")
        if "minLength" in constraints and not (
            isinstance(value, str) and len(value) >= constraints["minLength"]
        ):
            raise InvalidValue(f"{where} must not be empty")


def _expect(raw: Any, kind: type[Any], path: str) -> Any:
    if not isinstance(raw, kind):
        raise InvalidEventPayload(f"{path}: expected {kind.__name__}, got {type(raw).__name__}")
    return raw


def _decode_datetime(text: str, path: str) -> datetime:
    if not _DATETIME.match(text):
        raise InvalidEventPayload(f"{path}: {text!r} is not an RFC 3339 date-time with an offset")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidEventPayload(f"{path}: {text!r} is not an ISO 8601 date-time") from exc
    return moment


def _build(make: typing.Callable[[], Any], path: str) -> Any:
    """Run a constructor, turning the domain's validation errors into payload errors at `path`."""
    try:
        return make()
    except InvalidEventPayload:
        raise
    except DomainError as exc:
        raise InvalidEventPayload(f"{path}: {exc}") from exc
