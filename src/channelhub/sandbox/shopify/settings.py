"""How an emulated shop is configured (CLI flags map one-to-one onto these fields)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from channelhub.sandbox.shopify.chaos import ChaosSettings
from channelhub.sandbox.shopify.state import WallClock
from channelhub.sandbox.shopify.throttle import MAX_QUERY_COST, PLAN_LIMITS, PlanLimits


def new_access_token() -> str:
    # Admin API access tokens of custom apps start with "shpat_".
    return "shpat_" + secrets.token_hex(16)


def new_api_secret() -> str:
    return "shpss_" + secrets.token_hex(16)


@dataclass(frozen=True)
class ConfiguredWebhook:
    """A subscription declared in configuration (app TOML style) rather than through GraphQL."""

    topic: str  # REST form, e.g. "orders/create"
    uri: str
    api_version: str = "2025-10"


@dataclass
class EmulatorSettings:
    seed: int = 1
    skus: int = 100
    plan: str = "basic"
    access_token: str = field(default_factory=new_access_token)
    api_secret: str = field(default_factory=new_api_secret)
    shop_name: str = "channelhub-emulator"
    locations: int = 2
    bucket_size: float | None = None  # None: the plan's number (see throttle.PLAN_LIMITS)
    restore_rate: float | None = None
    max_query_cost: int = MAX_QUERY_COST
    # Multiplies every webhook retry delay and timeout-free wait; 1.0 is Shopify's real schedule.
    webhook_time_scale: float = 1.0
    webhook_connect_timeout_s: float = 1.0  # Shopify: 1 s to connect
    webhook_response_timeout_s: float = 5.0  # Shopify: 5 s to answer with a 2xx
    webhooks: list[ConfiguredWebhook] = field(default_factory=list)
    deliver_webhooks: bool = True
    chaos: ChaosSettings = field(default_factory=ChaosSettings)
    clock: WallClock | None = None  # None: the machine's clock

    def plan_limits(self) -> PlanLimits:
        if self.plan not in PLAN_LIMITS:
            raise ValueError(f"unknown plan {self.plan!r}; choose one of {', '.join(PLAN_LIMITS)}")
        base = PLAN_LIMITS[self.plan]
        return PlanLimits(
            bucket_size=self.bucket_size if self.bucket_size is not None else base.bucket_size,
            restore_rate=self.restore_rate if self.restore_rate is not None else base.restore_rate,
        )
