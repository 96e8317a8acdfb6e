"""The client against a fake cost bucket: pacing, THROTTLED handling, retries, error mapping."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest

from channelhub.clock import ManualClock
from channelhub.connectors.shopify import (
    ShopifyAuthError,
    ShopifyConfig,
    ShopifyGraphQLClient,
    ShopifyQueryError,
    ShopifyUnavailable,
)
from channelhub.connectors.shopify.client import SAFETY_MARGIN_POINTS

from .fake_shop import FakeShop

PING = "query Ping { shop { id } }"
HEAVY = "mutation Heavy($input: String) { heavy(input: $input) { userErrors { field message } } }"


def ok(_: dict[str, Any]) -> dict[str, Any]:
    return {"data": {"shop": {"id": "gid://shopify/Shop/1"}, "heavy": {"userErrors": []}}}


def make_client(shop: FakeShop, clock: ManualClock, **config: Any) -> ShopifyGraphQLClient:
    settings = {"shop_url": "https://demo.myshopify.com", "access_token": "shpat_test", **config}
    return ShopifyGraphQLClient(
        ShopifyConfig(**settings), clock=clock, transport=shop.transport(), rng=random.Random(7)
    )


async def test_sends_token_and_version_path() -> None:
    clock = ManualClock()
    shop = FakeShop(clock, answers={"Ping": ok})
    seen: list[httpx.Request] = []

    def spy(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return shop.handle(request)

    client = ShopifyGraphQLClient(
        ShopifyConfig(shop_url="https://demo.myshopify.com", access_token="shpat_x", api_version="2026-10"),
        clock=clock,
        transport=httpx.MockTransport(spy),
    )
    async with client:
        result = await client.execute(PING, operation="ping")
    assert result.data["shop"]["id"] == "gid://shopify/Shop/1"
    assert seen[0].url.path == "/admin/api/2026-10/graphql.json"
    assert seen[0].headers["X-Shopify-Access-Token"] == "shpat_x"


async def test_paces_calls_so_the_server_never_throttles() -> None:
    clock = ManualClock()
    # The client's first guess of the bucket (1000 points) is wrong: the shop has 100 at 10/s.
    shop = FakeShop(clock, capacity=100, restore_rate=10, costs={"Heavy": 40}, answers={"Heavy": ok})
    async with make_client(shop, clock) as client:
        for _ in range(12):
            await client.execute(HEAVY, operation="heavy")
    # One call was enough to learn the real bucket and cost: at most one THROTTLED, none raised.
    assert shop.throttled == 0
    assert client.stats.throttled_responses == 0
    assert client.bucket.capacity == 100
    # 12 × 40 = 480 points from a full bucket of 100 at 10/s: at least (480 − 100)/10 = 38 s.
    assert 38 <= clock.monotonic() <= 38 * 1.05


async def test_throttled_waits_exactly_until_the_requested_cost_restores() -> None:
    clock = ManualClock()
    shop = FakeShop(clock, capacity=1000, restore_rate=50, costs={"Heavy": 300}, answers={"Heavy": ok})
    shop.available = 100  # another process of the same app drained the bucket
    async with make_client(shop, clock) as client:
        result = await client.execute(HEAVY, operation="heavy")
    assert result.data["heavy"] == {"userErrors": []}
    assert shop.throttled == 1 and client.stats.throttled_responses == 1
    # The THROTTLED answer said 100 available, 300 requested, 50/s: 4 s (plus the float margin).
    assert clock.monotonic() == pytest.approx(200 / 50 + SAFETY_MARGIN_POINTS / 50, abs=1e-6)
    assert len(shop.requests) == 2


async def test_throttled_never_reaches_the_caller_under_a_competing_drain() -> None:
    clock = ManualClock()
    shop = FakeShop(clock, capacity=200, restore_rate=20, costs={"Heavy": 150}, answers={"Heavy": ok})
    original = shop.handle
    calls = 0

    def competing(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls % 2 == 1:
            shop._restore()
            shop.available = max(0.0, shop.available - 120)  # someone else spends points first
        return original(request)

    client = ShopifyGraphQLClient(
        ShopifyConfig(shop_url="https://demo.myshopify.com", access_token="t"),
        clock=clock,
        transport=httpx.MockTransport(competing),
    )
    async with client:
        for _ in range(5):
            await client.execute(HEAVY, operation="heavy")
    assert shop.throttled > 0  # the server did throttle…
    assert client.stats.throttled_responses == shop.throttled  # …and the client absorbed each one


async def test_transient_server_errors_are_retried() -> None:
    clock = ManualClock()
    shop = FakeShop(clock, answers={"Ping": ok})
    failures = iter([httpx.Response(503, text="busy"), httpx.Response(502, text="bad gateway")])

    def flaky(request: httpx.Request) -> httpx.Response:
        return next(failures, None) or shop.handle(request)

    client = ShopifyGraphQLClient(
        ShopifyConfig(shop_url="https://demo.myshopify.com", access_token="t"),
        clock=clock,
        transport=httpx.MockTransport(flaky),
        rng=random.Random(1),
    )
    async with client:
        result = await client.execute(PING, operation="ping")
    assert result.data["shop"]
    assert client.stats.retries == 2


async def test_persistent_5xx_gives_up_with_a_transient_error() -> None:
    clock = ManualClock()
    client = ShopifyGraphQLClient(
        ShopifyConfig(shop_url="https://demo.myshopify.com", access_token="t", max_attempts=3),
        clock=clock,
        transport=httpx.MockTransport(lambda _: httpx.Response(500, text="oops")),
        rng=random.Random(1),
    )
    async with client:
        with pytest.raises(ShopifyUnavailable) as caught:
            await client.execute(PING, operation="ping")
    assert caught.value.transient is True
    assert caught.value.status == 500
    assert client.stats.calls == 3


@pytest.mark.parametrize("status", [401, 403])
async def test_bad_token_is_permanent_and_not_retried(status: int) -> None:
    clock = ManualClock()
    client = ShopifyGraphQLClient(
        ShopifyConfig(shop_url="https://demo.myshopify.com", access_token="wrong"),
        clock=clock,
        transport=httpx.MockTransport(
            lambda _: httpx.Response(status, json={"errors": "[API] Invalid API key or access token"})
        ),
    )
    async with client:
        with pytest.raises(ShopifyAuthError) as caught:
            await client.execute(PING, operation="ping")
    assert caught.value.transient is False
    assert client.stats.calls == 1


async def test_graphql_errors_are_query_errors_not_retried() -> None:
    clock = ManualClock()

    def unknown_field(_: dict[str, Any]) -> dict[str, Any]:
        return {
            "errors": [
                {
                    "message": "Field 'nope' doesn't exist on type 'Shop'",
                    "locations": [{"line": 1, "column": 20}],
                    "extensions": {"code": "undefinedField", "typeName": "Shop", "fieldName": "nope"},
                }
            ]
        }

    shop = FakeShop(clock, answers={"Ping": unknown_field})
    async with make_client(shop, clock) as client:
        with pytest.raises(ShopifyQueryError, match="doesn't exist") as caught:
            await client.execute(PING, operation="ping")
    assert caught.value.transient is False
    assert len(shop.requests) == 1


async def test_non_json_answer_is_a_transient_failure() -> None:
    clock = ManualClock()
    client = ShopifyGraphQLClient(
        ShopifyConfig(shop_url="https://demo.myshopify.com", access_token="t", max_attempts=2),
        clock=clock,
        transport=httpx.MockTransport(lambda _: httpx.Response(200, text="<html>maintenance</html>")),
        rng=random.Random(1),
    )
    async with client:
        with pytest.raises(ShopifyUnavailable, match="not a JSON object"):
            await client.execute(PING, operation="ping")


async def test_non_idempotent_call_is_not_resent_after_a_read_timeout() -> None:
    clock = ManualClock()
    attempts = 0

    def timeout(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        raise httpx.ReadTimeout("no answer", request=request)

    client = ShopifyGraphQLClient(
        ShopifyConfig(shop_url="https://demo.myshopify.com", access_token="t", breaker_failure_threshold=100),
        clock=clock,
        transport=httpx.MockTransport(timeout),
    )
    async with client:
        with pytest.raises(ShopifyUnavailable, match="timed out"):
            await client.execute(HEAVY, operation="refund_create", idempotent=False)
        assert attempts == 1
        with pytest.raises(ShopifyUnavailable):
            await client.execute(HEAVY, operation="heavy")  # idempotent: retried
    assert attempts == 1 + client.config.max_attempts


async def test_circuit_opens_after_repeated_failures() -> None:
    clock = ManualClock()
    attempts = 0

    def refused(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        raise httpx.ConnectError("refused", request=request)

    client = ShopifyGraphQLClient(
        ShopifyConfig(
            shop_url="https://demo.myshopify.com",
            access_token="t",
            max_attempts=2,
            breaker_failure_threshold=3,
            breaker_reset_timeout_s=3600,
        ),
        clock=clock,
        transport=httpx.MockTransport(refused),
        rng=random.Random(1),
    )
    async with client:
        for _ in range(3):
            with pytest.raises(ShopifyUnavailable):
                await client.execute(PING, operation="ping")
    assert attempts == 3  # the breaker opened after the third failure: no more sends
    assert client.breaker.state.value == "open"


async def test_pages_refused_as_too_costly_are_replanned_smaller() -> None:
    clock = ManualClock()
    sizes: list[int] = []

    def handle(request: httpx.Request) -> httpx.Response:
        import json

        body = json.loads(request.content)
        first = body["variables"]["first"]
        sizes.append(first)
        requested = 2 + first * 12  # far more per node than the static estimate says
        status = {"maximumAvailable": 2000.0, "currentlyAvailable": 2000.0, "restoreRate": 100.0}
        if requested > 1000:
            return httpx.Response(
                200,
                json={
                    "errors": [
                        {"message": "Query cost is too high", "extensions": {"code": "MAX_COST_EXCEEDED"}}
                    ],
                    "extensions": {
                        "cost": {
                            "requestedQueryCost": requested,
                            "actualQueryCost": None,
                            "throttleStatus": status,
                        }
                    },
                },
            )
        after = body["variables"]["after"]
        page = 0 if after is None else int(after)
        nodes = [{"id": f"n{page * 100 + i}"} for i in range(first if page == 0 else 3)]
        return httpx.Response(
            200,
            json={
                "data": {
                    "things": {
                        "nodes": nodes,
                        "pageInfo": {"hasNextPage": page == 0, "endCursor": str(page + 1)},
                    }
                },
                "extensions": {
                    "cost": {
                        "requestedQueryCost": requested,
                        "actualQueryCost": requested,
                        "throttleStatus": status,
                    }
                },
            },
        )

    document = "query Things($first: Int!, $after: String) { things(first: $first, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }"
    client = ShopifyGraphQLClient(
        ShopifyConfig(shop_url="https://demo.myshopify.com", access_token="t"),
        clock=clock,
        transport=httpx.MockTransport(handle),
    )
    async with client:
        pages = [
            page
            async for page in client.paginate(
                document, {}, operation="things", connection=lambda d: d["things"]
            )
        ]
    assert sizes[0] == 250  # the static estimate (2 + 250 × 1) fits, so the first try is a full page
    # MAX_COST_EXCEEDED taught the real cost of 250 (3002): the estimate is rescaled (81 fits)…
    assert sizes[1] == 81
    # …and with two observations the line is exact: 2 + 12 per node, so (1000 − 2) // 12 = 83.
    assert sizes[2] == 83 and len(sizes) == 3
    assert [len(p) for p in pages] == [81, 3]


async def test_a_background_client_leaves_its_share_of_the_bucket_to_others() -> None:
    clock = ManualClock()
    shop = FakeShop(clock, capacity=1000, restore_rate=50, costs={"Heavy": 100}, answers={"Heavy": ok})
    async with make_client(shop, clock, leave_free=0.5) as client:
        await client.execute(HEAVY, operation="heavy")  # learns the bucket: 1000 at 50/s
        shop._restore()
        shop.available = 300.0  # the publisher spent most of it
        client.bucket.observe(300.0)
        started = clock.monotonic()
        await client.execute(HEAVY, operation="heavy")
    # It waited until the bucket held its 100 points plus the 500 it leaves free: (600 - 300) / 50.
    waited = clock.monotonic() - started
    assert waited == pytest.approx((600 + SAFETY_MARGIN_POINTS - 300) / 50, abs=0.01)
    assert shop.throttled == 0
    with pytest.raises(ValueError):
        ShopifyConfig(shop_url="https://demo.myshopify.com", access_token="t", leave_free=1.0)
