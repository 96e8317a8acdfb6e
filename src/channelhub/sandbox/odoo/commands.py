"""Commands of this area (filled in by its owner)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from channelhub.cli import CommandGroups


def register(groups: CommandGroups) -> None:
    """Add this area's commands to the CLI groups."""
