"""The domain stays pure: standard library and its own modules only (DESIGN §2)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import channelhub.domain

DOMAIN = Path(channelhub.domain.__file__).parent
FORBIDDEN_STDLIB = {"asyncio", "socket", "sqlite3", "os", "subprocess", "threading", "time", "random", "http"}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_domain_imports_only_the_standard_library_and_itself() -> None:
    modules = sorted(DOMAIN.glob("*.py"))
    assert len(modules) >= 8
    for path in modules:
        for name in imported_modules(path):
            top = name.split(".")[0]
            if name.startswith("channelhub."):
                assert name.startswith("channelhub.domain"), f"{path.name} imports {name}"
            else:
                assert top in sys.stdlib_module_names or top == "__future__", f"{path.name} imports {name}"
                assert top not in FORBIDDEN_STDLIB, f"{path.name} does IO/time/randomness via {name}"


def test_public_surface_is_explicit() -> None:
    exported = set(channelhub.domain.__all__)
    assert {"available_to_sell", "event_json_schemas", "Money", "Order", "PricePolicy"} <= exported
    assert all(hasattr(channelhub.domain, name) for name in exported)
