"""Secrets in the landscape file: references resolved at load, never values in the file.

A secret field is written as `{env: NAME}` (an environment variable) or `{file: PATH}` (a file,
relative to the config file; one trailing newline is dropped). It is resolved when the file is
loaded and held as a `pydantic.SecretStr`, which prints as `**********` in repr, str and JSON.
A literal string is refused, so a pasted token cannot slip into version control, and errors never
echo what was written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, SecretStr, ValidationInfo
from pydantic_core import PydanticCustomError

from channelhub.config_yaml import YamlDocument, format_path, read_config_text


def _resolve_secret(value: object, info: ValidationInfo) -> SecretStr:
    """Turn `{env: NAME}` / `{file: PATH}` into a `SecretStr`; never echo the value in an error."""
    if isinstance(value, SecretStr):
        return value
    if not isinstance(value, Mapping) or len(value) != 1 or not ({"env", "file"} & set(value)):
        raise PydanticCustomError(
            "secret_reference",
            "a secret must be written as {env: NAME} or {file: PATH}; secrets are never put in the file",
        )
    context = info.context if isinstance(info.context, Mapping) else {}
    target = value.get("env", value.get("file"))
    if not isinstance(target, str) or not target:
        raise PydanticCustomError("secret_reference", "env: needs a variable name, file: a path")
    if not context.get("resolve_secrets", True):
        # `config check` without --require-secrets: the form is right, the value is not needed.
        return SecretStr("")
    if "env" in value:
        name = target
        environ: Mapping[str, str] = context.get("environ") or {}
        resolved = environ.get(name)
        if resolved is None or resolved == "":
            raise PydanticCustomError(
                "secret_missing",
                "environment variable {name} is not set (or is empty)",
                {"name": name},
            )
        return SecretStr(resolved)
    path = Path(target).expanduser()
    if not path.is_absolute():
        path = Path(context.get("base_dir") or ".") / path
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PydanticCustomError(
            "secret_missing",
            "secret file {path} cannot be read: {reason}",
            {"path": str(path), "reason": exc.strerror},
        ) from None
    # Files written by `echo` or editors end in a newline that is not part of the secret.
    secret = text[:-2] if text.endswith("\r\n") else text.removesuffix("\n")
    if not secret:
        raise PydanticCustomError("secret_missing", "secret file {path} is empty", {"path": str(path)})
    return SecretStr(secret)


Secret = Annotated[SecretStr, BeforeValidator(_resolve_secret)]


@dataclass(frozen=True)
class SecretReference:
    """Where a secret comes from (never its value) and whether it can be read right now."""

    path: str
    source: Literal["env", "file"]
    target: str
    available: bool


def secret_references(path: Path | str, *, environ: Mapping[str, str] | None = None) -> list[SecretReference]:
    """Every `{env: ...}` / `{file: ...}` reference in the file at `path`, in file order."""
    path = Path(path)
    document = YamlDocument.parse(read_config_text(path), str(path))
    environ = os.environ if environ is None else environ
    found: list[SecretReference] = []

    def walk(value: object, loc: tuple[str | int, ...]) -> None:
        if isinstance(value, dict):
            if len(value) == 1 and isinstance(value.get("env", value.get("file")), str):
                ((source, target),) = value.items()
                if source == "env":
                    available = bool(environ.get(target))
                else:
                    file = Path(target).expanduser()
                    available = (file if file.is_absolute() else path.resolve().parent / file).is_file()
                found.append(SecretReference(format_path(loc), source, target, available))
                return
            for key, item in value.items():
                walk(item, (*loc, str(key)))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, (*loc, index))

    walk(document.data, ())
    return found
