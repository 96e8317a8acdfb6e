"""The pricing policy file: per channel pricelist, currency, rounding, tax flag and release
windows, the policy rules, approvers, MAP floors and the canary.

The landscape file (`channelhub.yaml`) already names each channel's `pricelist` and `currency`;
rounding, tax-inclusive and release windows are not part of it yet, so they live here (and win
over the landscape where both say something). Example (`pricing.yaml`):

    proposer: odoo
    policy: {min_margin_percent: 10, max_auto_change_percent: 5, max_auto_drop_percent: 20}
    two_approvers_above: 5000        # revenue at risk over `preview_days`
    source_tax_included: false       # Odoo pricelist prices exclude tax
    channels:
      shop: {pricelist: 1, currency: USD, rounding: {ending: "0.99"}, tax_included: false,
             release_windows: [{days: [1, 2, 3, 4, 5], start: "06:00", end: "22:00"}]}
    map_floors: {SKU-1: "19.00"}
    users: {alice: [price_approver], bob: [price_approver]}
    canary: {channels: [shop], watch_minutes: 15, max_errors: 0}
"""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from channelhub.domain import InvalidValue, PricePolicy
from channelhub.domain.price_changes import CanaryPlan, ReleaseWindow, RoundingMode, RoundingRule
from channelhub.domain.pricing import policy_from_mapping

if TYPE_CHECKING:
    from channelhub.config import Landscape


class PricingSettingsError(ValueError):
    """The pricing policy file is not valid."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoundingSettings(_Section):
    ending: Decimal | None = None
    mode: Literal["nearest", "down", "up"] = "nearest"

    def rule(self) -> RoundingRule:
        return RoundingRule(self.ending, RoundingMode(self.mode))


class WindowSettings(_Section):
    days: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7)
    start: time
    end: time

    def window(self) -> ReleaseWindow:
        return ReleaseWindow(frozenset(self.days), self.start, self.end)


class ChannelPricing(_Section):
    pricelist: int | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    rounding: RoundingSettings = Field(default_factory=RoundingSettings)
    tax_included: bool | None = None
    release_windows: tuple[WindowSettings, ...] = ()

    def windows(self) -> tuple[ReleaseWindow, ...]:
        return tuple(window.window() for window in self.release_windows)


class CanarySettings(_Section):
    channels: tuple[str, ...] = ()
    sku_share_percent: Decimal | None = None
    watch_minutes: float = Field(default=15, gt=0)
    max_errors: int = Field(default=0, ge=0)
    max_order_rate_drop_percent: Decimal = Decimal(50)

    def plan(self) -> CanaryPlan:
        return CanaryPlan(
            channels=self.channels,
            sku_share_percent=self.sku_share_percent,
            watch=timedelta(minutes=self.watch_minutes),
            max_errors=self.max_errors,
            max_order_rate_drop_percent=self.max_order_rate_drop_percent,
        )


class ReleaseSettings(_Section):
    max_attempts: int = Field(default=3, ge=1, le=20)
    retry_delay_s: float = Field(default=2.0, ge=0)


class PricingSettings(_Section):
    proposer: str = "odoo"
    policy: dict[str, Any] = Field(default_factory=dict)
    two_approvers_above: Decimal | None = None
    preview_days: int = Field(default=7, ge=1, le=365)
    source_tax_included: bool = False
    channels: dict[str, ChannelPricing] = Field(default_factory=dict)
    map_floors: dict[str, Decimal] = Field(default_factory=dict)
    users: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    canary: CanarySettings | None = None
    release: ReleaseSettings = Field(default_factory=ReleaseSettings)

    def price_policy(self) -> PricePolicy:
        try:
            return policy_from_mapping(self.policy)
        except InvalidValue as error:
            raise PricingSettingsError(f"policy: {error}") from error

    def canary_plan(self) -> CanaryPlan | None:
        try:
            return self.canary.plan() if self.canary is not None else None
        except InvalidValue as error:
            raise PricingSettingsError(f"canary: {error}") from error

    def channel(self, name: str) -> ChannelPricing:
        return self.channels.get(name) or ChannelPricing()

    def channels_following(self, pricelist: int) -> list[str]:
        return sorted(name for name, channel in self.channels.items() if channel.pricelist == pricelist)

    def roles_of(self, user: str) -> frozenset[str]:
        return frozenset(self.users.get(user, ()))

    def with_landscape(self, landscape: Landscape) -> PricingSettings:
        """Fill each landscape channel's pricelist (when numeric) and currency where this file is
        silent; channels only in the landscape are added."""
        channels = dict(self.channels)
        for channel in landscape.channels:
            own = channels.get(channel.name) or ChannelPricing()
            pricelist = own.pricelist
            if pricelist is None and channel.pricelist and channel.pricelist.isdigit():
                pricelist = int(channel.pricelist)
            channels[channel.name] = own.model_copy(
                update={"pricelist": pricelist, "currency": own.currency or channel.currency}
            )
        return self.model_copy(update={"channels": channels})


def parse_pricing(text: str, source: str = "<pricing>") -> PricingSettings:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise PricingSettingsError(f"{source}: not valid YAML: {error}") from error
    if isinstance(data, dict) and set(data) == {"pricing"}:
        data = data["pricing"] or {}
    try:
        settings = PricingSettings.model_validate(data)
    except ValidationError as error:
        lines = [
            f"{source}: {'.'.join(map(str, issue['loc'])) or '(top)'}: {issue['msg']}"
            for issue in error.errors()
        ]
        raise PricingSettingsError("\n".join(lines)) from None
    settings.price_policy()
    settings.canary_plan()
    for name, channel in settings.channels.items():
        try:
            channel.rounding.rule()
            channel.windows()
        except InvalidValue as error:
            raise PricingSettingsError(f"{source}: channels.{name}: {error}") from error
    return settings


def load_pricing(path: Path | str) -> PricingSettings:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PricingSettingsError(f"cannot read {path}: {error.strerror}") from error
    return parse_pricing(text, str(path))
