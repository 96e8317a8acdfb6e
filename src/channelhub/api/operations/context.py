"""What the operations surface needs from the running system (built by the composition root).

Only `engine` is required: every other part is optional, and the routes that need a missing
part answer 503 `not_configured` with what is missing, so the surface works in a test app, in the
sandbox and in production with the same code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from channelhub.api.errors import ApiError
from channelhub.api.operations.endpoints import EndpointRegistry
from channelhub.api.operations.reconciliation_history import ReconciliationHistory
from channelhub.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from channelhub.alerts import AlertDispatcher
    from channelhub.engine.publisher import Publisher
    from channelhub.engine.reconcile import ReconciliationReport
    from channelhub.metrics import ChannelhubMetrics
    from channelhub.service.availability import AvailabilityService
    from channelhub.service.orders import OrderIngestion

ReconcileRunner = Callable[[str | None, bool], Awaitable["ReconciliationReport"]]
"""`run(channel or None for all, dry_run)`: one reconciliation (normally `engine.reconcile`)."""


@dataclass
class OperationsContext:
    engine: Engine
    clock: Clock = SYSTEM_CLOCK
    channels: tuple[str, ...] = ()
    availability: AvailabilityService | None = None
    orders: OrderIngestion | None = None
    publisher: Publisher | None = None
    reconcile: ReconcileRunner | None = None
    endpoints: EndpointRegistry = field(default_factory=EndpointRegistry)
    reconciliations: ReconciliationHistory = field(default_factory=ReconciliationHistory)
    metrics: ChannelhubMetrics | None = None
    alerts: AlertDispatcher | None = None
    bootstrap_token: str | None = None
    secure_cookies: bool | None = None
    readiness: Callable[[], Mapping[str, Any]] | None = None
    """Extra readiness checks (worker alive, publisher running); a falsy `ready` fails readiness."""

    def __post_init__(self) -> None:
        if not self.channels and self.availability is not None:
            self.channels = tuple(self.availability.policy.channels)
        if self.reconcile is None and self.publisher is not None:
            self.reconcile = self._reconcile_with_publisher

    async def _reconcile_with_publisher(self, channel: str | None, dry_run: bool) -> ReconciliationReport:
        from channelhub.engine.reconcile import reconcile

        assert self.publisher is not None
        return await reconcile(
            self.engine, self.publisher, channel=channel, dry_run=dry_run, clock=self.clock
        )

    def publisher_snapshot(self) -> dict[str, dict[str, Any]]:
        """The publisher's counters per channel, {} without a publisher.

        The publisher runs on another thread and appends to the deques this reads; a copy that
        races an append raises RuntimeError ("mutated during iteration"), so it is taken again."""
        if self.publisher is None:
            return {}
        for _ in range(5):
            try:
                return self.publisher.snapshot()
            except RuntimeError:
                continue
        return {}

    def need_availability(self) -> AvailabilityService:
        if self.availability is None:
            raise ApiError(503, "not_configured", "availability rules are not loaded in this process")
        return self.availability

    def need_orders(self) -> OrderIngestion:
        if self.orders is None:
            raise ApiError(503, "not_configured", "order ingestion is not running in this process")
        return self.orders

    def need_reconcile(self) -> ReconcileRunner:
        if self.reconcile is None:
            raise ApiError(503, "not_configured", "no publisher: reconciliation cannot run in this process")
        return self.reconcile

    @classmethod
    def from_api_context(cls, api: Any, **overrides: Any) -> OperationsContext:
        """Build from `channelhub.api.ApiContext`: engine, clock, channels, availability and the
        admin token come from it; `api.extra` may carry `publisher`, `orders`, `endpoints`,
        `metrics`, `alerts`, `reconcile`; keyword arguments win over both."""
        values: dict[str, Any] = {
            "engine": api.engine,
            "clock": api.clock,
            "channels": tuple(api.channels),
            "availability": api.availability,
            "bootstrap_token": api.api_token,
        }
        extra = getattr(api, "extra", {}) or {}
        for name in ("publisher", "orders", "endpoints", "metrics", "alerts", "reconcile", "reconciliations"):
            if name in extra:
                values[name] = extra[name]
        values.update(overrides)
        return cls(**values)
