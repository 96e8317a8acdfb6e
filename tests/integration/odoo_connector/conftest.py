"""The Odoo emulator served on loopback, once per version for the whole module."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from channelhub.connectors.odoo import OdooConnection, OdooConnector, OdooResilience
from channelhub.sandbox.odoo.app import EmulatorSettings, OdooEmulator, create_emulator
from channelhub.sandbox.server import serve_in_thread

VERSIONS = ["16.0", "17.0", "18.0", "19.0"]


@dataclass
class RunningOdoo:
    url: str
    emulator: OdooEmulator

    @property
    def version(self) -> str:
        return str(self.emulator.settings.version)

    @property
    def api_key(self) -> str:
        return str(self.emulator.database.api_key)

    def connection(self, protocol: str = "jsonrpc", secret: str | None = None) -> OdooConnection:
        if secret is None:
            secret = self.api_key if protocol == "json2" else "admin"
        return OdooConnection(self.url, "retail", "admin", secret, protocol=protocol, page_size=500)

    def connector(self, protocol: str = "jsonrpc", **resilience: float) -> OdooConnector:
        settings = {"base_delay": 0.005, "max_delay": 0.05, "max_attempts": 12, **resilience}
        return OdooConnector(
            self.connection(protocol),
            resilience=OdooResilience.default(rng=random.Random(3), **settings),  # type: ignore[arg-type]
        )

    def default_protocol(self) -> str:
        # Odoo 19 is exercised over JSON-2, the API it recommends; older ones over JSON-RPC.
        return "json2" if self.version == "19.0" else "jsonrpc"


@pytest.fixture(scope="module", params=VERSIONS)
def odoo(request: pytest.FixtureRequest) -> Iterator[RunningOdoo]:
    emulator = create_emulator(EmulatorSettings(version=request.param, seed=4, skus=60))
    with serve_in_thread(emulator.app) as server:
        yield RunningOdoo(server.url, emulator)
