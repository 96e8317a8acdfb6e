"""Registry of the protections of every outbound endpoint (circuit breaker, rate limiter,
concurrency limit), filled by the runtime and read by the admin API, metrics and alerts.

    endpoints.register("shopify:graphql", circuit=breaker, limiter=cost_bucket)
    endpoints.register("odoo:jsonrpc", circuit=breaker, concurrency=aimd_limiter)

Anything with a `snapshot() -> dict` fits (the classes of `channelhub.resilience` do).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol


class Snapshotting(Protocol):
    def snapshot(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class EndpointProtection:
    name: str
    circuit: Snapshotting | None = None
    limiter: Snapshotting | None = None
    concurrency: Snapshotting | None = None

    def snapshot(self) -> dict[str, Any]:
        circuit = self.circuit.snapshot() if self.circuit is not None else None
        return {
            "endpoint": self.name,
            "circuit": circuit,
            "circuit_state": (circuit or {}).get("state", "none"),
            "rate_limiter": self.limiter.snapshot() if self.limiter is not None else None,
            "concurrency": self.concurrency.snapshot() if self.concurrency is not None else None,
        }


class EndpointRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._endpoints: dict[str, EndpointProtection] = {}

    def register(
        self,
        name: str,
        *,
        circuit: Snapshotting | None = None,
        limiter: Snapshotting | None = None,
        concurrency: Snapshotting | None = None,
    ) -> None:
        if not name:
            raise ValueError("an endpoint needs a name, e.g. 'shopify:graphql'")
        with self._lock:
            self._endpoints[name] = EndpointProtection(name, circuit, limiter, concurrency)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._endpoints)

    def snapshots(self) -> list[dict[str, Any]]:
        with self._lock:
            endpoints = [self._endpoints[name] for name in sorted(self._endpoints)]
        return [endpoint.snapshot() for endpoint in endpoints]
