"""The WooCommerce REST v3 wire client: auth, pinned `wc/v3`, limits, retries, error mapping.

Auth follows what WooCommerce accepts: HTTP Basic over HTTPS, OAuth 1.0a one-legged signatures over
plain HTTP. Every call passes a circuit breaker (server failures only), a pause gate that a 429's
`Retry-After` closes for *all* callers, a token bucket for the host's request rate (configured, or
discovered from the first 429) that slows down multiplicatively per burst of 429s and recovers
additively, and a retry policy with full jitter.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Self

import httpx

from channelhub.clock import SYSTEM_CLOCK, Clock
from channelhub.connectors.errors import ThrottledError, UnavailableError
from channelhub.connectors.woocommerce.errors import SYSTEM, error_from_response
from channelhub.connectors.woocommerce.oauth import signed_query
from channelhub.resilience import CircuitBreaker, RetryPolicy, TokenBucket

API_VERSION = "wc/v3"
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class WooResponse:
    status: int
    data: Any
    headers: httpx.Headers

    @property
    def total_pages(self) -> int:
        return int(self.headers.get("X-WP-TotalPages", "1") or 1)

    @property
    def total(self) -> int:
        return int(self.headers.get("X-WP-Total", "0") or 0)


def _is_server_failure(error: BaseException) -> bool:
    # Throttling proves the site is up; only outages and crashes should open the circuit.
    return isinstance(error, UnavailableError)


class WooCommerceClient:
    """`await client.get("products", params={...})` → `WooResponse`; raises `ConnectorError`s."""

    def __init__(
        self,
        url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        verify: bool | str = True,
        timeout_s: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock = SYSTEM_CLOCK,
        requests_per_second: float | None = None,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        max_connections: int = 8,
    ) -> None:
        self.base = f"{url.rstrip('/')}/wp-json/{API_VERSION}/"
        self.is_ssl = url.startswith("https://")
        self._key, self._secret = consumer_key, consumer_secret
        self._clock = clock
        self._http = httpx.AsyncClient(
            verify=verify,
            timeout=timeout_s,
            transport=transport,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"Accept": "application/json", "User-Agent": "channelhub-woocommerce/0.1"},
            auth=(consumer_key, consumer_secret) if self.is_ssl else None,
        )
        self.configured_rate = requests_per_second
        self.bucket = (
            TokenBucket(requests_per_second, max(1.0, requests_per_second), clock)
            if requests_per_second
            else None
        )
        self.retry = retry or RetryPolicy(max_attempts=6, base_delay=0.2, max_delay=20.0)
        self.breaker = breaker or CircuitBreaker(
            name=SYSTEM,
            failure_threshold=8,
            reset_timeout=15.0,
            clock=clock,
            counts_as_failure=_is_server_failure,
        )
        self._paused_until = 0.0
        self._successes: deque[float] = deque(maxlen=100)
        self.calls = 0
        self.throttled = 0
        self.retries = 0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- calls ---------------------------------------------------------------------------------

    async def get(self, endpoint: str, params: dict[str, Any] | None = None) -> WooResponse:
        return await self.request("GET", endpoint, params=params)

    async def post(self, endpoint: str, body: Any, *, idempotent: bool = False) -> WooResponse:
        """POST; pass `idempotent=True` when sending it twice has the effect of sending it once
        (e.g. a batch of absolute stock quantities), so ambiguous failures may be retried."""
        return await self.request("POST", endpoint, body=body, idempotent=idempotent)

    async def put(self, endpoint: str, body: Any) -> WooResponse:
        return await self.request("PUT", endpoint, body=body)

    async def delete(self, endpoint: str, params: dict[str, Any] | None = None) -> WooResponse:
        return await self.request("DELETE", endpoint, params=params)

    async def request(
        self,
        method: str,
        endpoint: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        idempotent: bool | None = None,
    ) -> WooResponse:
        """One call with retries. A call that is not idempotent (POST unless told otherwise) is
        retried only when the shop certainly did not act on it: a 429, or a connection that was
        never made. A timeout or 5xx after sending may have been applied; it surfaces at once with
        `details["ambiguous"] = True` so the caller reads back before deciding."""
        operation = f"{method} {endpoint}"
        if idempotent is None:
            idempotent = method != "POST"

        def on_retry(attempt: int, error: BaseException, delay: float) -> None:
            self.retries += 1

        async def attempt() -> WooResponse:
            async with self.breaker.guard():
                return await self._send(method, endpoint, params or {}, body, operation)

        policy = self.retry if idempotent else self._unsent_only
        try:
            return await policy.run(attempt, self._clock, on_retry=on_retry)
        except UnavailableError as error:
            if not idempotent and error.details.get("sent", True):
                error.details["ambiguous"] = True
            raise

    @property
    def _unsent_only(self) -> RetryPolicy:
        base = self.retry

        def certainly_not_applied(error: BaseException) -> bool:
            if isinstance(error, ThrottledError):
                return True
            return isinstance(error, UnavailableError) and not error.details.get("sent", True)

        return RetryPolicy(
            base.max_attempts, base.base_delay, base.max_delay, base.rng, certainly_not_applied
        )

    async def pages(self, endpoint: str, params: dict[str, Any] | None = None) -> AsyncIterator[list[Any]]:
        """Every page of a collection, `per_page=100`, following `X-WP-TotalPages`."""
        page = 1
        while True:
            response = await self.get(endpoint, {**(params or {}), "per_page": MAX_PER_PAGE, "page": page})
            yield list(response.data or [])
            if page >= response.total_pages:
                return
            page += 1

    async def _send(
        self, method: str, endpoint: str, params: dict[str, Any], body: Any, operation: str
    ) -> WooResponse:
        await self._wait_for_permission()
        url = self.base + endpoint
        query = {k: _php_value(v) for k, v in params.items()}
        if not self.is_ssl:
            query = signed_query(
                method, url, query, self._key, self._secret, int(self._clock.now().timestamp())
            )
        content = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json; charset=utf-8"} if content is not None else None
        self.calls += 1
        try:
            response = await self._http.request(method, url, params=query, content=content, headers=headers)
        except httpx.HTTPError as transport_error:
            # Connecting failed: the request never reached the shop, so it cannot have been applied.
            never_sent = isinstance(transport_error, httpx.ConnectError | httpx.ConnectTimeout)
            raise UnavailableError(
                f"{type(transport_error).__name__}: {transport_error}",
                system=SYSTEM,
                operation=operation,
                details={"sent": not never_sent},
            ) from transport_error
        data = _json_or_none(response)
        if response.status_code >= 300 or (data is None and response.content):
            error = error_from_response(
                response.status_code, data, response.headers.get("Retry-After"), operation
            )
            if isinstance(error, ThrottledError):
                self._throttled(error.retry_after)
            raise error
        self._recover()
        return WooResponse(response.status_code, data, response.headers)

    # -- following the platform's signals ------------------------------------------------------

    async def _wait_for_permission(self) -> None:
        pause = self._paused_until - self._clock.monotonic()
        if pause > 0:
            await self._clock.sleep(pause)
        if self.bucket is not None:
            await self.bucket.acquire()

    def _throttled(self, retry_after: float | None) -> None:
        """A 429: everybody pauses for Retry-After, and the request rate steps down once per burst
        of 429s. Without a configured rate, the first 429 starts a token bucket just under the rate
        that was getting through (the host's limit, discovered)."""
        self.throttled += 1
        now = self._clock.monotonic()
        first_of_burst = now >= self._paused_until
        self._paused_until = max(self._paused_until, now + (retry_after or 1.0))
        if not first_of_burst:
            return
        if self.bucket is not None:
            self.bucket.rate = max(0.5, self.bucket.rate * 0.7)
            return
        window = [t for t in self._successes if t >= now - 5.0]
        if len(window) >= 5:
            observed = len(window) / max(now - window[0], 0.5)
            self.bucket = TokenBucket(max(0.5, observed * 0.9), 1.0, self._clock)

    def _recover(self) -> None:
        self._successes.append(self._clock.monotonic())
        if self.bucket is None:
            return
        ceiling = self.configured_rate or float("inf")  # a discovered limit keeps probing upwards
        if self.bucket.rate < ceiling:
            self.bucket.rate = min(ceiling, self.bucket.rate + 0.05)


def _php_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json() if response.content else None
    except (ValueError, UnicodeDecodeError):
        return None
