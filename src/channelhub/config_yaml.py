"""YAML reading for the landscape file, keeping line and column of every key.

Pydantic reports an error at a location such as `('channels', 0, 'shopify', 'api_version')`; the
operator needs `channelhub.yaml:14:5`. PyYAML's composer gives a node tree with marks, so the
document is composed once, checked for duplicate keys (PyYAML would silently keep the last one),
constructed into plain data, and the node tree is kept to map locations back to lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in the config: where (file, 1-based line and column, key path) and what."""

    source: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(Exception):
    """The landscape config is invalid; `issues` lists every problem found."""

    def __init__(self, issues: Sequence[ConfigIssue]) -> None:
        self.issues = tuple(issues)
        count = len(self.issues)
        header = f"invalid config ({count} problem{'s' if count != 1 else ''}):"
        super().__init__("\n".join([header, *(f"  {issue}" for issue in self.issues)]))


def format_path(loc: Loc) -> str:
    """`('channels', 0, 'name')` -> `channels[0].name`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass(frozen=True)
class YamlDocument:
    source: str
    data: Any
    root: yaml.Node | None

    @classmethod
    def parse(cls, text: str, source: str) -> YamlDocument:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            if root is not None:
                duplicates = list(_duplicate_keys(root))
                if duplicates:
                    raise ConfigError(
                        [
                            ConfigIssue(source, mark.line + 1, mark.column + 1, key, "key given twice")
                            for key, mark in duplicates
                        ]
                    )
            data = loader.construct_document(root) if root is not None else None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            message = f"YAML syntax: {exc.problem or exc.context or 'invalid document'}"
            line = mark.line + 1 if mark else None
            column = mark.column + 1 if mark else None
            raise ConfigError([ConfigIssue(source, line, column, "", message)]) from None
        except yaml.YAMLError as exc:
            raise ConfigError([ConfigIssue(source, None, None, "", f"YAML: {exc}")]) from None
        finally:
            loader.dispose()
        if not isinstance(data, dict):
            found = "an empty file" if data is None else f"a {type(data).__name__}"
            raise ConfigError(
                [ConfigIssue(source, 1, 1, "", f"expected a mapping of sections, found {found}")]
            )
        return cls(source, data, root)

    def locate(self, loc: Loc) -> tuple[int | None, int | None, str]:
        """Line, column and display path for a pydantic `loc`.

        Parts that are not in the YAML are union tags that pydantic inserts (`shopify` in
        `channels.0.shopify.api_version`) and are skipped, except a last part that is missing from
        the file: that is the name of a required key, reported at its parent's line.
        """
        node = self.root
        mark = node.start_mark if node is not None else None
        shown: list[str | int] = []
        for index, part in enumerate(loc):
            child = _child(node, part)
            if child is None:
                if index == len(loc) - 1:
                    shown.append(part)
                continue
            key_mark, node = child
            mark = key_mark
            shown.append(part)
        if mark is None:
            return None, None, format_path(tuple(shown))
        return mark.line + 1, mark.column + 1, format_path(tuple(shown))

    def issue(self, loc: Loc, message: str) -> ConfigIssue:
        line, column, path = self.locate(loc)
        return ConfigIssue(self.source, line, column, path, message)


def _child(node: yaml.Node | None, part: str | int) -> tuple[yaml.Mark, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return key.start_mark, value
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item = node.value[part]
        return item.start_mark, item
    return None


def _duplicate_keys(node: yaml.Node, path: Loc = ()) -> list[tuple[str, yaml.Mark]]:
    found: list[tuple[str, yaml.Mark]] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else "?"
            if name in seen and name != "<<":
                found.append((format_path((*path, name)), key.start_mark))
            seen.add(name)
            found.extend(_duplicate_keys(value, (*path, name)))
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            found.extend(_duplicate_keys(item, (*path, position)))
    return found


_MESSAGES = {
    "extra_forbidden": "unknown key (check the spelling; `channelhub init` writes every key)",
    "missing": "required key is missing",
}


def issues_from_validation(
    document: YamlDocument, error: ValidationError, pattern_hints: Mapping[str, str] | None = None
) -> list[ConfigIssue]:
    """One `ConfigIssue` per pydantic error; input values are never included (they may be secrets).

    `pattern_hints` turns a failed regular expression into words (`pattern -> "must be ..."`).
    """
    issues = []
    for detail in error.errors(include_url=False, include_input=False):
        kind, loc, context = detail["type"], tuple(detail["loc"]), detail.get("ctx", {})
        message = _MESSAGES.get(kind, detail["msg"])
        if kind == "union_tag_not_found":
            discriminator = str(context.get("discriminator", "")).strip("'")
            message = f"missing key {discriminator!r}" if discriminator else message
        elif kind == "string_pattern_mismatch" and pattern_hints:
            message = pattern_hints.get(str(context.get("pattern")), message)
        if loc and loc[-1] == "[key]":
            # Pydantic marks errors in a mapping's key this way; the path already names the key.
            loc, message = loc[:-1], f"key: {message}"
        issues.append(document.issue(loc, message))
    return issues


def read_config_text(path: Path) -> str:
    """The file's text, or a `ConfigError` saying why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError([ConfigIssue(str(path), None, None, "", f"cannot read: {reason}")]) from None
