"""The pricing policy file: parsed strictly, errors name the key."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest

from channelhub.domain.price_changes import RoundingMode
from channelhub.service.pricing import PricingSettingsError, parse_pricing


def test_a_full_file_parses_into_domain_rules() -> None:
    settings = parse_pricing(
        """
pricing:
  policy: {min_margin_percent: 12.5, max_auto_change_percent: 3}
  two_approvers_above: 2500
  channels:
    shop:
      pricelist: 4
      currency: USD
      rounding: {ending: "0.95", mode: down}
      tax_included: true
      release_windows: [{days: [1, 2], start: "06:00", end: "09:30"}]
  users: {alice: [price_approver]}
  canary: {sku_share_percent: 10, watch_minutes: 5}
"""
    )
    policy = settings.price_policy()
    assert policy.min_margin_percent == Decimal("12.5") and policy.max_auto_change_percent == 3
    shop = settings.channel("shop")
    assert shop.rounding.rule().mode is RoundingMode.DOWN and shop.rounding.rule().ending == Decimal("0.95")
    [window] = shop.windows()
    assert window.weekdays == frozenset({1, 2}) and window.end == time(9, 30)
    assert settings.channels_following(4) == ["shop"] and settings.roles_of("alice") == {"price_approver"}
    plan = settings.canary_plan()
    assert plan is not None and plan.sku_share_percent == 10


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("policy: {max_auto_chnage_percent: 5}", "max_auto_chnage_percent"),
        ("channels: {shop: {currency: usd}}", "channels.shop.currency"),
        ("channels: {shop: {rounding: {ending: '1.5'}}}", "channels.shop"),
        ("canary: {watch_minutes: 5}", "canary"),
        ("surprise: 1", "surprise"),
        ("policy: [", "not valid YAML"),
    ],
)
def test_mistakes_are_named(text: str, fragment: str) -> None:
    with pytest.raises(PricingSettingsError, match=fragment.replace(".", r"\.")):
        parse_pricing(text, "pricing.yaml")
