"""The connector's wire client against scripted answers (httpx.MockTransport, ManualClock)."""

from __future__ import annotations

import random

import httpx
import pytest

from channelhub.clock import ManualClock
from channelhub.connectors.errors import (
    AuthenticationError,
    NotFoundError,
    ThrottledError,
    UnavailableError,
    ValidationFailed,
)
from channelhub.connectors.woocommerce.client import WooCommerceClient
from channelhub.connectors.woocommerce.errors import error_from_response, retry_after_seconds
from channelhub.resilience import CircuitOpenError, RetryPolicy


def wp_error(
    status: int, code: str, message: str = "x", headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(
        status, json={"code": code, "message": message, "data": {"status": status}}, headers=headers
    )


def client_with(
    answers: list[httpx.Response],
    clock: ManualClock,
    url: str = "http://shop.test",
    seen: list[httpx.Request] | None = None,
    **kwargs: object,
) -> WooCommerceClient:
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return queue.pop(0)

    options: dict[str, object] = {
        "retry": RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=4.0, rng=random.Random(1))
    }
    options.update(kwargs)
    return WooCommerceClient(url, "ck", "cs", transport=httpx.MockTransport(handler), clock=clock, **options)  # type: ignore[arg-type]


async def test_a_429_waits_for_retry_after_then_succeeds() -> None:
    clock = ManualClock()
    client = client_with(
        [
            wp_error(429, "rate_limit_exceeded", headers={"Retry-After": "7"}),
            httpx.Response(200, json=[{"id": 1}]),
        ],
        clock,
    )
    response = await client.get("products")
    assert response.data == [{"id": 1}]
    assert clock.monotonic() >= 7.0 and client.throttled == 1 and client.retries == 1


async def test_server_errors_are_retried_and_permanent_errors_are_not() -> None:
    clock = ManualClock()
    client = client_with(
        [
            wp_error(500, "internal_server_error"),
            httpx.Response(503, text="<h1>maintenance</h1>"),
            httpx.Response(200, json={"id": 5}),
        ],
        clock,
    )
    assert (await client.get("orders/5")).data == {"id": 5}
    assert client.retries == 2
    seen: list[httpx.Request] = []
    client = client_with([wp_error(400, "rest_invalid_param")], ManualClock(), seen=seen)
    with pytest.raises(ValidationFailed):
        await client.put("products/1", {"stock_quantity": "x"})
    assert len(seen) == 1


async def test_retries_give_up_with_the_transient_error() -> None:
    client = client_with([wp_error(500, "internal_server_error")] * 4, ManualClock())
    with pytest.raises(UnavailableError) as failed:
        await client.get("products")
    assert failed.value.transient and failed.value.status == 500


async def test_the_breaker_opens_on_repeated_server_failures_but_not_on_throttling() -> None:
    from channelhub.resilience import CircuitBreaker

    clock = ManualClock()
    breaker = CircuitBreaker(
        name="woocommerce",
        failure_threshold=2,
        reset_timeout=60,
        clock=clock,
        counts_as_failure=lambda e: isinstance(e, UnavailableError),
    )
    client = client_with(
        [wp_error(500, "internal_server_error")] * 2,
        clock,
        breaker=breaker,
        retry=RetryPolicy(max_attempts=1),
    )
    for _ in range(2):
        with pytest.raises(UnavailableError):
            await client.get("products")
    with pytest.raises(CircuitOpenError):
        await client.get("products")
    throttled = client_with(
        [wp_error(429, "rate_limit_exceeded")] * 3, clock, retry=RetryPolicy(max_attempts=1)
    )
    for _ in range(3):
        with pytest.raises(ThrottledError):
            await throttled.get("products")
    assert throttled.breaker.state.value == "closed"


async def test_plain_http_is_signed_with_oauth_and_https_uses_basic_auth() -> None:
    seen: list[httpx.Request] = []
    client = client_with([httpx.Response(200, json=[])], ManualClock(), seen=seen)
    await client.get("products", {"per_page": 5})
    query = dict(httpx.QueryParams(seen[0].url.query))
    assert {"oauth_consumer_key", "oauth_signature", "oauth_nonce", "oauth_timestamp"} <= set(query)
    assert "authorization" not in seen[0].headers
    assert seen[0].url.path == "/wp-json/wc/v3/products"
    client = client_with([httpx.Response(200, json=[])], ManualClock(), url="https://shop.test", seen=seen)
    await client.get("products")
    assert seen[1].headers["authorization"].startswith("Basic ") and "oauth_signature" not in str(seen[1].url)


async def test_pages_follow_x_wp_totalpages() -> None:
    pages = [
        httpx.Response(200, json=[{"id": n}], headers={"X-WP-TotalPages": "3", "X-WP-Total": "3"})
        for n in (1, 2, 3)
    ]
    seen: list[httpx.Request] = []
    client = client_with(pages, ManualClock(), seen=seen)
    collected = [item["id"] async for page in client.pages("products") for item in page]
    assert collected == [1, 2, 3]
    assert [r.url.params["page"] for r in seen] == ["1", "2", "3"] and seen[0].url.params["per_page"] == "100"


@pytest.mark.parametrize(
    ("status", "code", "expected", "transient"),
    [
        (401, "woocommerce_rest_authentication_error", AuthenticationError, False),
        (401, "woocommerce_rest_cannot_view", AuthenticationError, False),
        (404, "woocommerce_rest_product_invalid_id", NotFoundError, False),
        (400, "woocommerce_rest_product_invalid_id", NotFoundError, False),
        (413, "woocommerce_rest_request_entity_too_large", ValidationFailed, False),
        (400, "rest_invalid_param", ValidationFailed, False),
        (500, "woocommerce_rest_cannot_create_order_refund", ValidationFailed, False),
        (500, "internal_server_error", UnavailableError, True),
        (503, "", UnavailableError, True),
        (429, "rate_limit_exceeded", ThrottledError, True),
    ],
)
def test_error_mapping_keeps_transient_truthful(
    status: int, code: str, expected: type, transient: bool
) -> None:
    error = error_from_response(
        status,
        {"code": code, "message": "m", "data": {"status": status}} if code else None,
        "3",
        "GET products",
    )
    assert type(error) is expected and error.transient is transient
    assert error.system == "woocommerce" and error.details["code"] == code


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("12", now) == 12.0
    assert retry_after_seconds("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None) is None


async def test_a_non_idempotent_post_is_not_retried_after_the_shop_may_have_acted() -> None:
    seen: list[httpx.Request] = []
    client = client_with(
        [wp_error(500, "internal_server_error"), httpx.Response(201, json={"id": 1})],
        ManualClock(),
        seen=seen,
    )
    with pytest.raises(UnavailableError) as failed:
        await client.post("orders/5/refunds", {"amount": "1.00"})
    assert len(seen) == 1 and failed.value.details["ambiguous"] is True and failed.value.transient


async def test_a_non_idempotent_post_is_retried_when_it_certainly_was_not_applied() -> None:
    attempts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(request.url.path)
        if len(attempts) == 1:
            raise httpx.ConnectError("refused", request=request)
        if len(attempts) == 2:
            return wp_error(429, "rate_limit_exceeded", headers={"Retry-After": "1"})
        if len(attempts) == 3:
            return httpx.Response(503, text="<h1>Briefly unavailable</h1>", headers={"Retry-After": "2"})
        return httpx.Response(201, json={"id": 9})

    client = WooCommerceClient(
        "http://shop.test",
        "ck",
        "cs",
        transport=httpx.MockTransport(handler),
        clock=ManualClock(),
        retry=RetryPolicy(max_attempts=5, rng=random.Random(3)),
    )
    assert (await client.post("orders/5/notes", {"note": "x"})).data == {"id": 9} and len(attempts) == 4


async def test_an_idempotent_post_is_retried_after_a_server_error() -> None:
    seen: list[httpx.Request] = []
    client = client_with(
        [wp_error(500, "internal_server_error"), httpx.Response(200, json={"update": []})],
        ManualClock(),
        seen=seen,
    )
    await client.post("products/batch", {"update": []}, idempotent=True)
    assert len(seen) == 2


async def test_an_unannounced_host_limit_is_discovered_from_the_first_429() -> None:
    clock = ManualClock()
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        clock.advance(0.1)  # the host answers ten calls a second...
        if calls == 11:  # ...until it has had enough
            return wp_error(429, "rate_limit_exceeded", headers={"Retry-After": "1"})
        return httpx.Response(200, json=[])

    client = WooCommerceClient(
        "http://shop.test",
        "ck",
        "cs",
        transport=httpx.MockTransport(handler),
        clock=clock,
        retry=RetryPolicy(max_attempts=3, rng=random.Random(1)),
    )
    for _ in range(11):
        await client.get("products")
    assert client.bucket is not None and 8.0 <= client.bucket.rate <= 9.5
    assert client.throttled == 1
