"""Shared test fixtures: service discovery for PostgreSQL and NATS.

Tests that need PostgreSQL or NATS skip with a reason when the service is absent, and fail instead
when CHANNELHUB_REQUIRE_SERVICES=1 (which .ci/run sets).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_NATS_URL = "nats://127.0.0.1:4222"


def services_required() -> bool:
    return os.environ.get("CHANNELHUB_REQUIRE_SERVICES") == "1"


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), 2):
            return True
    except OSError:
        return False


def require_service(name: str, url: str, default_port: int) -> str:
    if _reachable(url, default_port):
        return url
    message = f"{name} is not reachable at {url}"
    if services_required():
        pytest.fail(f"{message} and CHANNELHUB_REQUIRE_SERVICES=1")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL URL (CHANNELHUB_DATABASE_URL or the local default); skips/fails when absent."""
    url = os.environ.get("CHANNELHUB_DATABASE_URL", DEFAULT_DATABASE_URL)
    return require_service("PostgreSQL", url, 5432)


@pytest.fixture(scope="session")
def nats_url() -> str:
    """A NATS URL (CHANNELHUB_NATS_URL or the local default); skips/fails when absent."""
    url = os.environ.get("CHANNELHUB_NATS_URL", DEFAULT_NATS_URL)
    return require_service("NATS", url, 4222)


@pytest.fixture
def tmp_sqlite_url(tmp_path: object) -> Iterator[str]:
    """A fresh SQLite file URL in the test's temporary directory."""
    yield f"sqlite:///{tmp_path}/channelhub.db"


@pytest.fixture(autouse=True)
def _restore_root_logging() -> Iterator[None]:
    """A test that calls configure_logging() must not leave its handler behind for later tests
    (a CLI test reading JSON from stdout/stderr would then read log lines too)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers = handlers
    root.setLevel(level)
