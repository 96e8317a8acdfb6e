"""`channelhub sandbox --fence-below N` puts the low-stock fence between its two channels."""

from __future__ import annotations

import contextlib
from pathlib import Path

from channelhub.config import load_config
from channelhub.sandbox.runner import (
    SHOPIFY_CHANNEL,
    WOO_CHANNEL,
    SandboxSettings,
    sandbox_landscape,
    start_emulators,
)
from channelhub.sandbox.server import free_port


def test_the_sandbox_landscape_fences_both_channels_only_when_asked(tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack:
        emulators = start_emulators(SandboxSettings(skus=5, seed=3), stack)
        plain, _ = sandbox_landscape(emulators, tmp_path / "plain", free_port())
        fenced, path = sandbox_landscape(emulators, tmp_path / "fenced", free_port(), fence_below=8)
    assert plain.allocation_rules().fence is None
    fence = fenced.allocation_rules().fence
    assert fence is not None and fence.below == 8
    assert fence.weights == ((SHOPIFY_CHANNEL, 1), (WOO_CHANNEL, 1))
    assert load_config(path).allocation_rules().fence == fence  # the file the CLI reads says the same
