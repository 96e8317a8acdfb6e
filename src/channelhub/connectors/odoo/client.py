"""The async Odoo client: one `execute_kw` for every protocol, protected and retried.

Every call goes retry policy → circuit breaker → adaptive concurrency limit → transport. The limit
(AIMD on latency and transient errors) is what keeps a slow Odoo from being flooded when the engine
fans out reads; the breaker stops calls to an Odoo that keeps failing; the retry policy retries
only transient errors, and for calls that are not idempotent only errors that prove the call was
not applied (see `errors.safe_to_retry`).
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from channelhub.clock import SYSTEM_CLOCK, Clock
from channelhub.connectors.odoo.errors import (
    OdooAccessDenied,
    OdooError,
    OdooProtocolError,
    is_transient,
    safe_to_retry,
)
from channelhub.connectors.odoo.product_ids import ProductIds
from channelhub.connectors.odoo.transports import PROTOCOLS, RpcTransport, make_transport
from channelhub.connectors.odoo.versions import OdooVersion, require_supported
from channelhub.resilience import AdaptiveConcurrencyLimiter, CircuitBreaker, RetryPolicy


@dataclass(frozen=True)
class OdooConnection:
    """Where and as whom to talk to Odoo. `secret` is the password or an API key (both work for
    JSON-RPC and XML-RPC; JSON-2 takes API keys only)."""

    url: str
    db: str
    login: str
    secret: str = field(repr=False)
    protocol: str = "jsonrpc"
    timeout_s: float = 30.0
    page_size: int = 1000

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"unknown Odoo protocol {self.protocol!r}; choose one of {', '.join(PROTOCOLS)}")
        if self.page_size < 1:
            raise ValueError("page_size must be positive")


@dataclass
class OdooResilience:
    """The protection around every call; defaults suit one production Odoo."""

    retry: RetryPolicy
    breaker: CircuitBreaker
    limiter: AdaptiveConcurrencyLimiter

    @classmethod
    def default(
        cls,
        clock: Clock = SYSTEM_CLOCK,
        *,
        rng: random.Random | None = None,
        max_attempts: int = 6,
        base_delay: float = 0.2,
        max_delay: float = 10.0,
        failure_threshold: int = 10,
        reset_timeout: float = 15.0,
        max_concurrency: int = 8,
        initial_concurrency: int = 4,
        latency_target_s: float = 2.0,
    ) -> OdooResilience:
        return cls(
            retry=RetryPolicy(max_attempts, base_delay, max_delay, rng=rng, is_retryable=is_transient),
            breaker=CircuitBreaker(
                "odoo",
                failure_threshold=failure_threshold,
                reset_timeout=reset_timeout,
                clock=clock,
                counts_as_failure=is_transient,
            ),
            limiter=AdaptiveConcurrencyLimiter(
                min_limit=1,
                max_limit=max_concurrency,
                initial=min(initial_concurrency, max_concurrency),
                latency_target_s=latency_target_s,
                clock=clock,
            ),
        )


@dataclass
class CallStats:
    calls: int = 0
    attempts: int = 0
    retries: int = 0
    failures: int = 0


class OdooClient:
    """An authenticated session with one Odoo database."""

    def __init__(
        self,
        connection: OdooConnection,
        *,
        http: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        resilience: OdooResilience | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.connection = connection
        self.clock = clock
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(connection.timeout_s),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )
        self.rpc: RpcTransport = make_transport(connection.protocol, self._http, connection.url)
        self.resilience = resilience or OdooResilience.default(clock)
        retry = self.resilience.retry
        # Same backoff, narrower predicate: for calls that must not be applied twice.
        self._unsafe_retry = RetryPolicy(
            retry.max_attempts, retry.base_delay, retry.max_delay, rng=retry.rng, is_retryable=safe_to_retry
        )
        self.stats = CallStats()
        self.product_ids = ProductIds()  # SKU -> product id, shared by order and stock reads
        self._version: OdooVersion | None = None
        self._uid: int | None = None

    async def __aenter__(self) -> OdooClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    # -- session --------------------------------------------------------------------------------
    @property
    def version(self) -> OdooVersion:
        if self._version is None:
            raise OdooProtocolError("not connected: call connect() first")
        return self._version

    @property
    def uid(self) -> int:
        if self._uid is None:
            raise OdooProtocolError("not connected: call connect() first")
        return self._uid

    async def detect_version(self) -> OdooVersion:
        payload = await self._protected(self.rpc.version, self.resilience.retry)
        return require_supported(OdooVersion.from_payload(payload))

    async def connect(self) -> OdooVersion:
        """Detect the server version and authenticate; refused credentials raise `OdooAccessDenied`."""
        version = await self.detect_version()
        if self.connection.protocol == "json2" and not version.has_json2:
            raise OdooProtocolError(f"Odoo {version} has no JSON-2 API (19.0+); use jsonrpc or xmlrpc")
        conn = self.connection

        async def authenticate() -> int | None:
            return await self.rpc.authenticate(conn.db, conn.login, conn.secret)

        uid = await self._protected(authenticate, self.resilience.retry)
        if uid is None:
            raise OdooAccessDenied(
                f"Odoo refused login {conn.login!r} on database {conn.db!r} (wrong login, password or API key)",
                method="authenticate",
            )
        self._version, self._uid = version, uid
        return version

    # -- calls ----------------------------------------------------------------------------------
    async def execute_kw(
        self,
        model: str,
        method: str,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        *,
        idempotent: bool = True,
    ) -> Any:
        """Call `model.method(*args, **kwargs)`; retries transient errors (all of them when the
        call is idempotent, only those that prove it was not applied otherwise)."""
        conn = self.connection
        uid = self.uid

        async def attempt() -> Any:
            return await self.rpc.execute_kw(conn.db, uid, conn.secret, model, method, args, kwargs or {})

        policy = self.resilience.retry if idempotent else self._unsafe_retry
        return await self._protected(attempt, policy)

    async def act(
        self, model: str, method: str, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None
    ) -> Any:
        """A call that must not be applied twice (create, action buttons): retried only after errors
        proving Odoo did not apply it; ambiguous failures are raised for the caller to reconcile."""
        return await self.execute_kw(model, method, args, kwargs, idempotent=False)

    async def back_off(self, attempt: int, error: BaseException, *, retryable: bool = True) -> bool:
        """For callers running their own read-then-act loop: after failed `attempt`, wait the retry
        policy's backoff and return True, or return False when the policy (or the caller, through
        `retryable`) gives up and the error must be raised."""
        decision = self.resilience.retry.decide(attempt, error)
        if not decision.retry or not retryable:
            return False
        self.stats.retries += 1
        await self.clock.sleep(decision.delay_s)
        return True

    async def _guarded(self, operation: Any) -> Any:
        self.stats.attempts += 1
        async with self.resilience.breaker.guard(), self.resilience.limiter.slot():
            return await operation()

    async def _protected(self, operation: Any, policy: RetryPolicy) -> Any:
        self.stats.calls += 1

        def count_retry(attempt: int, error: BaseException, delay: float) -> None:
            self.stats.retries += 1

        try:
            return await policy.run(lambda: self._guarded(operation), self.clock, on_retry=count_retry)
        except OdooError:
            self.stats.failures += 1
            raise

    # -- bulk helpers ---------------------------------------------------------------------------
    async def search_read_pages(
        self,
        model: str,
        domain: Sequence[Any],
        fields: Sequence[str],
        *,
        page_size: int | None = None,
        context: Mapping[str, Any] | None = None,
        bare_many2one: bool = False,
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Pages of `search_read` ordered by id, each starting after the last id seen.

        Keyset paging (`id > last`) instead of `offset`: Odoo answers each page with an index
        range scan, and records created or deleted meanwhile cannot shift rows between pages.
        `bare_many2one` reads many2one fields as ids (`load=None`), sparing Odoo the display
        names of every referenced record.
        """
        size = page_size or self.connection.page_size
        last_id = 0
        kwargs: dict[str, Any] = {"fields": list(fields), "limit": size, "order": "id asc"}
        if bare_many2one:
            kwargs["load"] = None
        if context:
            kwargs["context"] = dict(context)
        while True:
            page_domain = [*domain, ("id", ">", last_id)] if last_id else list(domain)
            rows = await self.execute_kw(model, "search_read", [page_domain], kwargs)
            if not isinstance(rows, list):
                raise OdooProtocolError(f"search_read returned {type(rows).__name__}", model=model)
            if rows:
                yield rows
            if len(rows) < size:
                return
            last_id = max(int(row["id"]) for row in rows)

    async def search_read_all(
        self,
        model: str,
        domain: Sequence[Any],
        fields: Sequence[str],
        *,
        page_size: int | None = None,
        context: Mapping[str, Any] | None = None,
        bare_many2one: bool = False,
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        pages = self.search_read_pages(
            model, domain, fields, page_size=page_size, context=context, bare_many2one=bare_many2one
        )
        async for page in pages:
            rows.extend(page)
        return rows

    async def create_many(
        self,
        model: str,
        vals_list: Sequence[Mapping[str, Any]],
        *,
        batch_size: int = 200,
        context: Mapping[str, Any] | None = None,
    ) -> list[int]:
        """Create records in batches (one `create([...])` call per batch).

        Not idempotent: a batch is retried only after errors proving nothing was written; after
        an ambiguous failure (timeout, 502/504) the error is raised so the caller can reconcile.
        """
        ids: list[int] = []
        kwargs = {"context": dict(context)} if context else {}
        for start in range(0, len(vals_list), batch_size):
            batch = [dict(vals) for vals in vals_list[start : start + batch_size]]
            created = await self.execute_kw(model, "create", [batch], kwargs, idempotent=False)
            ids.extend([created] if isinstance(created, int) else list(created))
        return ids
