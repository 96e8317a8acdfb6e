"""Webhook retry schedule, signing, and chaos knob validation (no network)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools

import pytest

from channelhub.sandbox.shopify import RETRY_DELAYS_S, sign
from channelhub.sandbox.shopify.chaos import Chaos, ChaosSettings, ChaosValueError
from channelhub.sandbox.shopify.resolvers import topic_enum, topic_rest


def test_eight_retries_with_exponential_backoff_over_about_four_hours() -> None:
    assert len(RETRY_DELAYS_S) == 8
    assert all(later == 2 * earlier for earlier, later in itertools.pairwise(RETRY_DELAYS_S))
    assert 3.9 * 3600 <= sum(RETRY_DELAYS_S) <= 4 * 3600


def test_signature_is_base64_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"id":1,"total_price":"10.00"}'
    expected = base64.b64encode(hmac.new(b"secret", body, hashlib.sha256).digest()).decode()
    assert sign(body, "secret") == expected
    assert sign(body + b" ", "secret") != expected


@pytest.mark.parametrize(
    ("enum", "rest"),
    [
        ("ORDERS_CREATE", "orders/create"),
        ("INVENTORY_LEVELS_UPDATE", "inventory_levels/update"),
        ("BULK_OPERATIONS_FINISH", "bulk_operations/finish"),
        ("ORDERS_PARTIALLY_FULFILLED", "orders/partially_fulfilled"),
        ("APP_UNINSTALLED", "app/uninstalled"),
    ],
)
def test_topic_names_round_trip(enum: str, rest: str) -> None:
    assert topic_rest(enum) == rest
    assert topic_enum(rest) == enum


def test_chaos_updates_are_validated_whole() -> None:
    chaos = Chaos(ChaosSettings(), seed=1)
    with pytest.raises(ChaosValueError):
        chaos.update({"error_rate": 0.5, "webhook_drop_rate": 3})
    assert chaos.settings.error_rate == 0.0
    with pytest.raises(ChaosValueError):
        chaos.update({"latency_ms": -1})
    with pytest.raises(ChaosValueError):
        chaos.update({"outages": [[1]]})
    chaos.update({"outages": [[10, 20]], "latency_ms": 5})
    assert chaos.in_outage(15) and not chaos.in_outage(20) and not chaos.in_outage(9.9)


def test_chaos_decisions_follow_the_seed() -> None:
    def draws(seed: int) -> list[bool]:
        chaos = Chaos(ChaosSettings(), seed=seed)
        return [chaos.chance(0.5) for _ in range(40)]

    assert draws(3) == draws(3)
    assert draws(3) != draws(4)
