"""A tiny stand-in for Shopify's GraphQL endpoint, for MockTransport: a leaky cost bucket on an
injected clock, a flat cost per operation, and scripted answers per operation name."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from channelhub.clock import ManualClock

Answer = Callable[[dict[str, Any]], dict[str, Any] | httpx.Response]


@dataclass
class FakeShop:
    clock: ManualClock
    capacity: float = 1000.0
    restore_rate: float = 50.0
    costs: dict[str, float] = field(default_factory=dict)  # operation name → requested cost
    answers: dict[str, Answer] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    throttled: int = 0
    available: float = -1.0
    _updated: float = 0.0

    def __post_init__(self) -> None:
        self.available = self.capacity
        self._updated = self.clock.monotonic()

    def _restore(self) -> None:
        now = self.clock.monotonic()
        self.available = min(self.capacity, self.available + (now - self._updated) * self.restore_rate)
        self._updated = now

    def status(self) -> dict[str, float]:
        return {
            "maximumAvailable": self.capacity,
            "currentlyAvailable": self.available,
            "restoreRate": self.restore_rate,
        }

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        name = operation_name(body["query"])
        cost = self.costs.get(name, 10.0)
        self._restore()
        if cost > self.available:
            self.throttled += 1
            return httpx.Response(
                200,
                json={
                    "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                    "extensions": {
                        "cost": {
                            "requestedQueryCost": cost,
                            "actualQueryCost": None,
                            "throttleStatus": self.status(),
                        }
                    },
                },
            )
        self.available -= cost
        answer = self.answers[name](body)
        if isinstance(answer, httpx.Response):
            return answer
        extensions = {
            "cost": {"requestedQueryCost": cost, "actualQueryCost": cost, "throttleStatus": self.status()}
        }
        return httpx.Response(200, json={**answer, "extensions": extensions})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


def operation_name(document: str) -> str:
    """`query CatalogPage(...)` / `mutation SetAvailable(...)` → the operation's name."""
    head = document.strip().split("(", 1)[0].split("{", 1)[0].split()
    return head[1] if len(head) > 1 else ""
