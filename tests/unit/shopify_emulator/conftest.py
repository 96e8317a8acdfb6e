"""An in-process emulated shop on a manual clock, driven through its GraphQL endpoint (no sockets)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from channelhub.clock import ManualClock
from channelhub.sandbox.shopify.app import ShopifyEmulator
from channelhub.sandbox.shopify.settings import EmulatorSettings

TOKEN = "shpat_unit"
Gql = Callable[..., tuple[int, dict[str, Any]]]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emulator(clock: ManualClock) -> ShopifyEmulator:
    settings = EmulatorSettings(
        seed=5, skus=12, access_token=TOKEN, api_secret="shpss_unit", clock=clock, deliver_webhooks=False
    )
    return ShopifyEmulator(settings)


def call(
    emulator: ShopifyEmulator,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    version: str = "2025-10",
    token: str | None = TOKEN,
) -> tuple[int, dict[str, Any]]:
    raw = json.dumps({"query": query, "variables": variables}).encode()
    reply = emulator.endpoint.handle(version, token, raw, "http://127.0.0.1:1")
    # Round-trip through JSON like the HTTP layer does, so tests see exactly what clients see.
    return reply.status, json.loads(json.dumps(reply.body))


@pytest.fixture
def gql(emulator: ShopifyEmulator) -> Gql:
    def run(query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        return call(emulator, query, variables, **kwargs)

    return run
