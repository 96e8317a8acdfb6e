"""Playwright with Debian's chromium (never a downloaded browser): skipped with a reason when
chromium or playwright is missing, failed instead when CHANNELHUB_REQUIRE_SERVICES=1."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("CHANNELHUB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"


def _unavailable(reason: str) -> None:
    if os.environ.get("CHANNELHUB_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} and CHANNELHUB_REQUIRE_SERVICES=1")
    pytest.skip(reason)


@contextmanager
def _launched() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def open_browser() -> Callable[[], AbstractContextManager[Any]]:
    """Returns a context manager that runs Playwright and Debian's chromium for its block.

    Playwright's sync API drives an event loop on the calling thread while it runs: a test
    builds its world (which uses asyncio.run) BEFORE entering the block, and the loop is gone
    again after it, so later async tests in the same process are unaffected.
    """
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("playwright is not installed (pip install playwright; never `playwright install`)")
    if not CHROMIUM.exists():
        _unavailable(f"chromium is not installed at {CHROMIUM} (apt-get install -y chromium)")
    return _launched


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
