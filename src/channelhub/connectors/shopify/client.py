"""Async client for the Shopify Admin GraphQL API that follows Shopify's own throttling signals.

Every call:
1. predicts its requested cost (`CostBook`) and waits on a client-side `CostBucket` until the
   bucket holds it, so a THROTTLED answer is the exception, not the control loop;
2. resynchronises the bucket from `extensions.cost.throttleStatus` of every answer (the server is
   the authority: other processes of the same app share the bucket) and records
   `requestedQueryCost` for the next prediction;
3. on THROTTLED waits exactly until the answered `currentlyAvailable` has restored to the
   requested cost, then resends. THROTTLED never reaches the caller (bounded by `max_throttled`);
4. retries transient failures (5xx, timeouts, connection errors) with `RetryPolicy`, behind a
   `CircuitBreaker`; permanent failures raise at once.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from channelhub.clock import SYSTEM_CLOCK, Clock
from channelhub.connectors.shopify.config import ShopifyConfig
from channelhub.connectors.shopify.cost import MAX_INPUT_ARRAY, SINGLE_QUERY_MAX_COST, CostBook
from channelhub.connectors.shopify.errors import (
    ShopifyError,
    ShopifyQueryError,
    ShopifyThrottled,
    ShopifyUnavailable,
    error_codes,
    from_graphql_errors,
    from_http_status,
)
from channelhub.connectors.shopify.versions import VersionProfile, profile_for
from channelhub.resilience import CircuitBreaker, CostBucket, RetryPolicy

# Until the first answer tells us the real bucket, assume the smallest one Shopify documents
# (the old Standard figures: 1000 points, 50 points/s): being too cautious costs one short wait.
INITIAL_BUCKET_CAPACITY = 1000.0
INITIAL_RESTORE_RATE = 50.0
# Waiting for a hair more than the requested cost keeps float rounding on either side from turning
# "exactly enough" into a THROTTLED; it is paid once, not per call (the bucket resyncs).
SAFETY_MARGIN_POINTS = 0.5


@dataclass
class ThrottleStatus:
    maximum_available: float
    currently_available: float
    restore_rate: float


@dataclass
class QueryCost:
    requested: float | None
    actual: float | None
    throttle_status: ThrottleStatus | None

    @classmethod
    def from_extensions(cls, extensions: Mapping[str, Any] | None) -> QueryCost | None:
        cost = (extensions or {}).get("cost")
        if not isinstance(cost, Mapping):
            return None
        raw_status = cost.get("throttleStatus")
        status = None
        if isinstance(raw_status, Mapping):
            try:
                status = ThrottleStatus(
                    maximum_available=float(raw_status["maximumAvailable"]),
                    currently_available=float(raw_status["currentlyAvailable"]),
                    restore_rate=float(raw_status["restoreRate"]),
                )
            except (KeyError, TypeError, ValueError):
                status = None
        return cls(
            requested=_number(cost.get("requestedQueryCost")),
            actual=_number(cost.get("actualQueryCost")),
            throttle_status=status,
        )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass
class GraphQLResult:
    data: dict[str, Any]
    cost: QueryCost | None


@dataclass
class ClientStats:
    """Counters for benchmarks and metrics."""

    calls: int = 0
    throttled_responses: int = 0
    retries: int = 0
    points_requested: float = 0.0
    points_actual: float = 0.0
    bucket_wait_s: float = 0.0
    by_operation: dict[str, int] = field(default_factory=dict)

    def snapshot(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "throttled_responses": self.throttled_responses,
            "retries": self.retries,
            "points_requested": round(self.points_requested, 3),
            "points_actual": round(self.points_actual, 3),
            "bucket_wait_s": round(self.bucket_wait_s, 3),
            "by_operation": dict(self.by_operation),
        }


class ShopifyGraphQLClient:
    """One shop, one pinned API version; use as an async context manager or call `aclose()`."""

    def __init__(
        self,
        config: ShopifyConfig,
        *,
        clock: Clock = SYSTEM_CLOCK,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
        max_throttled: int = 100,
    ) -> None:
        self.config = config
        self.profile: VersionProfile = profile_for(config.api_version)
        self.clock = clock
        self.bucket = CostBucket(INITIAL_BUCKET_CAPACITY, INITIAL_RESTORE_RATE, clock)
        self.costs = CostBook()
        self.stats = ClientStats()
        self.max_throttled = max_throttled
        self._reserve_lock = asyncio.Lock()
        self.retry = RetryPolicy(
            max_attempts=config.max_attempts,
            base_delay=config.retry_base_delay_s,
            max_delay=config.retry_max_delay_s,
            rng=rng or random.Random(),
        )
        self.breaker = CircuitBreaker(
            name="shopify",
            failure_threshold=config.breaker_failure_threshold,
            reset_timeout=config.breaker_reset_timeout_s,
            clock=clock,
        )
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(config.timeout_s, connect=config.connect_timeout_s),
            headers={
                "X-Shopify-Access-Token": config.access_token,
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": "channelhub-shopify-connector",
            },
        )

    async def __aenter__(self) -> ShopifyGraphQLClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- planning ---------------------------------------------------------------------------------

    @property
    def planning_budget(self) -> float:
        """The most points one call may request: the bucket (our share of it), capped by Shopify's
        single-query maximum."""
        return min(self.bucket.capacity * self.config.bucket_share, float(SINGLE_QUERY_MAX_COST))

    def largest_batch(
        self,
        operation: str,
        document: str,
        *,
        upper: int,
        variables_for: Callable[[int], dict[str, object]] | None = None,
    ) -> int:
        """How many items one call of `operation` should carry: as many as fit the budget."""
        return self.costs.largest_batch(
            operation, document, budget=self.planning_budget, variables_for=variables_for, upper=upper
        )

    # -- calls ------------------------------------------------------------------------------------

    async def execute(
        self,
        document: str,
        variables: Mapping[str, Any] | None = None,
        *,
        operation: str,
        items: int = 1,
        idempotent: bool = True,
    ) -> GraphQLResult:
        """Run one GraphQL document; raises a `ShopifyError` subclass on failure.

        `operation` names the call for cost learning and errors; `items` is the length of its
        batched input array (cost may grow with it); `idempotent=False` (refunds, fulfillments)
        forbids resending after a failure that may have reached Shopify (timeout mid-response).
        """
        variables = dict(variables or {})
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._execute_through_throttle(document, variables, operation, items, idempotent)
            except ShopifyError as error:
                decision = self.retry.decide(attempt, error)
                if not decision.retry or (not idempotent and _may_have_executed(error)):
                    raise
                self.stats.retries += 1
                await self.clock.sleep(decision.delay_s)

    async def _execute_through_throttle(
        self, document: str, variables: dict[str, Any], operation: str, items: int, idempotent: bool
    ) -> GraphQLResult:
        throttled = 0
        while True:
            predicted = self.costs.predict(operation, document, items, variables)
            await self._reserve(predicted)
            try:
                return await self._send_once(document, variables, operation, items)
            except ShopifyThrottled as error:
                throttled += 1
                self.stats.throttled_responses += 1
                if throttled > self.max_throttled:
                    raise ShopifyThrottled(
                        f"still throttled after {throttled} waits", operation=operation, transient=True
                    ) from error
                # The answer resynced the bucket; the next `_reserve` waits exactly until the
                # requested cost has restored (or honours Retry-After on a 429 without cost).
                if error.retry_after:
                    await self.clock.sleep(error.retry_after)
                elif self.bucket.wait_time(min(predicted + SAFETY_MARGIN_POINTS, self.bucket.capacity)) <= 0:
                    # Throttled although its own status shows room: Shopify may lower limits
                    # temporarily. Back off with jitter instead of resending at once.
                    await self.clock.sleep(self.retry.delay(throttled))

    async def _reserve(self, predicted: float) -> None:
        """Wait until the bucket holds `predicted` (+ margin), then take `predicted` from it.

        One sleep for the computed deficit, not `CostBucket.acquire`'s re-check loop: on a manual
        clock far from zero a deficit of 1e-13 s is below the float resolution of the clock and
        that loop would never finish. The margin absorbs such rounding instead.
        """
        async with self._reserve_lock:  # FIFO: one waiter at a time
            spare = self.config.leave_free * self.bucket.capacity  # left to other clients
            need = min(predicted + SAFETY_MARGIN_POINTS + spare, self.bucket.capacity)
            delay = self.bucket.wait_time(need)
            if delay > 0:
                await self.clock.sleep(delay)
                self.stats.bucket_wait_s += delay
            self.bucket.observe(self.bucket.available - predicted)

    async def _send_once(
        self, document: str, variables: dict[str, Any], operation: str, items: int
    ) -> GraphQLResult:
        if not self.breaker.allow():
            raise ShopifyUnavailable(
                f"circuit open after repeated failures; retry in {self.breaker.retry_in():.1f}s",
                operation=operation,
                details={"maybe_executed": False},
            )
        body = {"query": document, "variables": variables}
        self.stats.calls += 1
        self.stats.by_operation[operation] = self.stats.by_operation.get(operation, 0) + 1
        try:
            response = await self._http.post(self.config.graphql_url, json=body)
        except httpx.TimeoutException as exc:
            self.breaker.record_failure()
            not_sent = isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
            raise ShopifyUnavailable(
                f"timed out: {type(exc).__name__}",
                operation=operation,
                details={"maybe_executed": not not_sent},
            ) from exc
        except httpx.TransportError as exc:
            self.breaker.record_failure()
            raise ShopifyUnavailable(
                f"transport error: {type(exc).__name__}: {exc}",
                operation=operation,
                details={"maybe_executed": not isinstance(exc, httpx.ConnectError)},
            ) from exc
        try:
            return self._read_response(response, document, variables, operation, items)
        except ShopifyError as error:
            if error.transient and not isinstance(error, ShopifyThrottled):
                self.breaker.record_failure()
            else:
                self.breaker.record_success()  # it answered: healthy, even if it refused us
            raise

    def _read_response(
        self, response: httpx.Response, document: str, variables: dict[str, Any], operation: str, items: int
    ) -> GraphQLResult:
        payload = _json_object(response.content)
        cost = QueryCost.from_extensions(payload.get("extensions") if payload else None)
        self._observe(cost, document, variables, operation, items)
        errors = payload.get("errors") if payload else None
        if isinstance(errors, list) and errors:
            error = from_graphql_errors(errors, operation=operation, status=response.status_code)
            if isinstance(error, ShopifyThrottled):
                error.retry_after = _retry_after(response) if cost is None else None
            raise error
        http_error = from_http_status(response.status_code, response.text, operation=operation)
        if http_error is not None:
            if isinstance(http_error, ShopifyThrottled):
                http_error.retry_after = _retry_after(response) if cost is None else None
            raise http_error
        if payload is None:
            raise ShopifyUnavailable(
                f"answer is not a JSON object (HTTP {response.status_code})", operation=operation
            )
        data = payload.get("data")
        if not isinstance(data, dict):
            raise ShopifyUnavailable("answer has no data", operation=operation, details=payload)
        return GraphQLResult(data=data, cost=cost)

    def _observe(
        self, cost: QueryCost | None, document: str, variables: dict[str, Any], operation: str, items: int
    ) -> None:
        if cost is None:
            return
        if cost.requested is not None:
            self.costs.observe(operation, document, items, variables, cost.requested)
            if cost.actual is not None:  # a throttled call ran nothing and costs nothing
                self.stats.points_requested += cost.requested
        if cost.actual is not None:
            self.stats.points_actual += cost.actual
        status = cost.throttle_status
        if status is not None:
            self.bucket.observe(status.currently_available, status.maximum_available, status.restore_rate)

    async def download(self, url: str, *, operation: str) -> bytes:
        """Fetch a result file (bulk operation JSONL): a signed URL, no token, no cost."""
        request = self._http.build_request("GET", url)
        # The result lives behind a signed URL, often on another host: never send it our token.
        del request.headers["X-Shopify-Access-Token"]
        try:
            response = await self._http.send(request)
        except httpx.TransportError as exc:
            raise ShopifyUnavailable(f"download failed: {type(exc).__name__}", operation=operation) from exc
        error = from_http_status(response.status_code, response.text, operation=operation)
        if error is not None:
            raise error
        return response.content

    # -- pagination -------------------------------------------------------------------------------

    async def paginate(
        self,
        document: str,
        variables: Mapping[str, Any],
        *,
        operation: str,
        connection: Callable[[dict[str, Any]], Mapping[str, Any] | None],
        page_size: int | None = None,
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Yield the `nodes` of each page of a connection; `document` takes `$first` and `$after`.

        Without a fixed `page_size` every page is as large as the cost budget allows, re-planned
        after each answer (which teaches the real requested cost). A page Shopify refuses as too
        costly (MAX_COST_EXCEEDED: the estimate was low) is re-planned and resent, smaller.
        """

        def plan() -> int:
            if page_size is not None:
                return page_size
            return self.largest_batch(
                operation, document, upper=MAX_INPUT_ARRAY, variables_for=lambda n: {**variables, "first": n}
            )

        after: str | None = None
        while True:
            size = plan()
            try:
                result = await self.execute(
                    document, {**variables, "first": size, "after": after}, operation=operation, items=size
                )
            except ShopifyQueryError as error:
                if page_size is not None or "MAX_COST_EXCEEDED" not in error_codes(_error_list(error)):
                    raise
                if plan() >= size:  # the answer taught nothing new: do not loop
                    raise
                continue
            page = connection(result.data) or {}
            nodes = page.get("nodes")
            if nodes is None:
                nodes = [edge.get("node") for edge in page.get("edges") or [] if edge.get("node")]
            yield [node for node in nodes if isinstance(node, dict)]
            info = page.get("pageInfo") or {}
            if not info.get("hasNextPage") or not info.get("endCursor"):
                return
            after = str(info["endCursor"])


def _error_list(error: ShopifyError) -> list[Mapping[str, Any]]:
    details = error.details
    return [e for e in details if isinstance(e, Mapping)] if isinstance(details, list) else []


def _json_object(content: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _may_have_executed(error: ShopifyError) -> bool:
    details = error.details if isinstance(error.details, dict) else {}
    if "maybe_executed" in details:
        return bool(details["maybe_executed"])
    # A 5xx or an INTERNAL_SERVER_ERROR may come after the mutation ran.
    return isinstance(error, ShopifyUnavailable) and not isinstance(error, ShopifyThrottled)


__all__ = ["ClientStats", "GraphQLResult", "QueryCost", "ShopifyGraphQLClient", "ThrottleStatus"]
