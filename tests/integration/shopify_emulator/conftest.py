"""A running Shopify emulator on loopback, and the official `ShopifyAPI` client pointed at it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import shopify

from channelhub.sandbox.server import RunningServer, serve_in_thread
from channelhub.sandbox.shopify.app import ShopifyEmulator
from channelhub.sandbox.shopify.settings import EmulatorSettings

TOKEN = "shpat_test_token"
SECRET = "shpss_test_secret"


@pytest.fixture
def emulator() -> ShopifyEmulator:
    return ShopifyEmulator(
        EmulatorSettings(seed=11, skus=30, access_token=TOKEN, api_secret=SECRET, webhook_time_scale=0.0001)
    )


@pytest.fixture
def server(emulator: ShopifyEmulator) -> Iterator[RunningServer]:
    with serve_in_thread(emulator.app) as running:
        yield running


def activate_official_client(monkeypatch: pytest.MonkeyPatch, server: RunningServer, version: str) -> None:
    """Point `shopify.Session` at the loopback emulator without touching the package.

    `Session` keeps only the first label of the shop host and appends `myshopify_domain` (and
    `port` when set), then builds `"{protocol}://{host}/admin/api/{version}"`. Setting the class
    attributes `protocol="http"`, `myshopify_domain="0.0.1"` and `port` turns shop "127" into
    `http://127.0.0.1:<port>/admin/api/<version>`.
    """
    monkeypatch.setattr(shopify.Session, "protocol", "http")
    monkeypatch.setattr(shopify.Session, "myshopify_domain", "0.0.1")
    monkeypatch.setattr(shopify.Session, "port", server.port)
    session = shopify.Session("127", version, TOKEN)
    shopify.ShopifyResource.activate_session(session)


@pytest.fixture
def official_graphql(
    monkeypatch: pytest.MonkeyPatch, server: RunningServer
) -> Iterator[Callable[..., dict[str, Any]]]:
    """`execute(query, variables, version=...)` through `shopify.GraphQL().execute`, parsed."""

    def execute(
        query: str, variables: dict[str, Any] | None = None, version: str = "2025-10"
    ) -> dict[str, Any]:
        activate_official_client(monkeypatch, server, version)
        result: dict[str, Any] = json.loads(shopify.GraphQL().execute(query, variables))
        return result

    yield execute
    shopify.ShopifyResource.clear_session()
