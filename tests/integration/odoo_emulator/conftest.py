"""Odoo emulators served over real HTTP on loopback, one per version and test module."""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from channelhub.sandbox.odoo import EmulatorSettings, OdooEmulator, create_emulator
from channelhub.sandbox.server import serve_in_thread

API_KEY = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class LiveOdoo:
    url: str
    port: int
    emulator: OdooEmulator
    version: str
    db: str = "retail"
    password: str = "admin"

    @property
    def common(self) -> Any:
        return xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/common")

    @property
    def models(self) -> Any:
        return xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/object")

    def call(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any] | None = None) -> Any:
        return self.models.execute_kw(self.db, 2, self.password, model, method, args, kwargs or {})


def start(version: str, **settings: Any) -> Iterator[LiveOdoo]:
    emulator = create_emulator(EmulatorSettings(version=version, api_key=API_KEY, seed=3, **settings))
    with serve_in_thread(emulator.app) as server:
        yield LiveOdoo(server.url, server.port, emulator, version)


@pytest.fixture(scope="module", params=["16.0", "17.0", "18.0", "19.0"])
def odoo(request: pytest.FixtureRequest) -> Iterator[LiveOdoo]:
    yield from start(request.param, skus=40)
