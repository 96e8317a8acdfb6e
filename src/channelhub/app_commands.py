"""Operator commands of the running engine: `run`, `explain`, `reconcile`, `warehouse ...`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from channelhub.cli import CommandGroups


def register(groups: CommandGroups) -> None:
    """Added in the next commit."""
