"""A small validator for the JSON Schema keywords our converter emits (draft 2020-12 subset).

jsonschema is not a project dependency; this checks exactly the keywords `event_json_schemas()`
uses and fails loudly on any other, so a new keyword cannot be silently ignored.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

KNOWN = {
    "$schema", "$id", "$defs", "$ref", "title", "description", "type", "properties", "required",
    "additionalProperties", "const", "enum", "pattern", "minLength", "maxLength", "minimum", "items",
    "anyOf", "format", "minItems",
}  # fmt: skip
TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "boolean": bool,
    "null": type(None),
}


def errors(instance: Any, schema: dict[str, Any], root: dict[str, Any], path: str = "$") -> list[str]:
    unknown = set(schema) - KNOWN
    if unknown:
        raise AssertionError(f"{path}: validator does not know keywords {sorted(unknown)}")
    found: list[str] = []
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return errors(instance, root["$defs"][name], root, path)
    if "anyOf" in schema:
        if all(errors(instance, option, root, path) for option in schema["anyOf"]):
            found.append(f"{path}: matches no anyOf option")
        return found
    if "type" in schema:
        kind = TYPES[schema["type"]]
        ok = isinstance(instance, kind) and not (kind is int and isinstance(instance, bool))
        if not ok:
            return [f"{path}: expected {schema['type']}, got {type(instance).__name__}"]
    if "const" in schema and instance != schema["const"]:
        found.append(f"{path}: expected const {schema['const']!r}")
    if "enum" in schema and instance not in schema["enum"]:
        found.append(f"{path}: {instance!r} not in enum")
    if isinstance(instance, str):
        if "pattern" in schema and not re.search(schema["pattern"], instance):
            found.append(f"{path}: {instance!r} does not match {schema['pattern']}")
        if len(instance) < schema.get("minLength", 0) or len(instance) > schema.get("maxLength", 1 << 62):
            found.append(f"{path}: length out of range")
        if schema.get("format") == "date-time" and not _is_datetime(instance):
            found.append(f"{path}: not a date-time")
        if schema.get("format") == "uuid" and not _is_uuid(instance):
            found.append(f"{path}: not a uuid")
    if isinstance(instance, int) and "minimum" in schema and instance < schema["minimum"]:
        found.append(f"{path}: below minimum {schema['minimum']}")
    if isinstance(instance, list) and len(instance) < schema.get("minItems", 0):
        found.append(f"{path}: fewer than {schema['minItems']} items")
    if isinstance(instance, list) and "items" in schema:
        for i, item in enumerate(instance):
            found += errors(item, schema["items"], root, f"{path}[{i}]")
    if isinstance(instance, dict):
        properties = schema.get("properties", {})
        found += [f"{path}: missing {name}" for name in schema.get("required", []) if name not in instance]
        if schema.get("additionalProperties") is False:
            found += [f"{path}: unexpected {name}" for name in instance if name not in properties]
        for name, value in instance.items():
            if name in properties:
                found += errors(value, properties[name], root, f"{path}.{name}")
    return found


def _is_datetime(text: str) -> bool:
    try:
        return datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
