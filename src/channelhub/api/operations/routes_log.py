"""Admin API over the durable log: readiness, queues per tier, dead letters (list, inspect,
replay one / by filter / all, discard with a reason)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from channelhub.api.errors import ApiError
from channelhub.api.operations.context import OperationsContext
from channelhub.api.operations.masking import Shown, shown_to
from channelhub.api.operations.pagination import CURSOR, LIMIT, decode_cursor, page
from channelhub.api.operations.queues import (
    DeadLetterQuery,
    dead_letter,
    dead_letter_page,
    dead_letters_by_topic,
    discard_dead_letter,
    queue_stats,
)
from channelhub.api.security import (
    Principal,
    Role,
    public_route,
    record_action,
    require_role,
    sees_personal_data,
)
from channelhub.engine.dead_letters import DeadLetterFilter, replay


class ReplayFilter(BaseModel):
    """Which dead letters to replay. Every field empty replays all of them only with `all=true`."""

    topic: str | None = Field(default=None, max_length=200)
    key: str | None = Field(default=None, max_length=255)
    error_contains: str | None = Field(default=None, max_length=200)
    all: bool = Field(default=False, description="Required to replay every dead letter at once.")


class Discard(BaseModel):
    reason: str = Field(min_length=3, max_length=500, description="Why this event will never be handled.")


def _shown(value: Shown, who: Principal) -> Shown:
    return shown_to(value, sees_personal_data(who.role))


def replay_dead_letter(ctx: OperationsContext, event_id: str, who: Principal) -> bool:
    """Replay one dead letter and record who did it; False when there is none with this id."""
    with ctx.engine.begin() as connection:
        replayed = replay(connection, DeadLetterFilter(event_id=event_id), ctx.clock) == 1
        if replayed:
            record_action(connection, ctx.clock.now(), who.name, "dead_letter.replay", f"event:{event_id}")
    return replayed


def log_router(ctx: OperationsContext) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["operations: log"])

    @router.get("/live", summary="Liveness: the process answers")
    def live(_: None = public_route("liveness probe for orchestrators")) -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/ready", summary="Readiness: the database answers and the runtime is up")
    def ready(_: None = public_route("readiness probe for orchestrators")) -> Any:
        checks: dict[str, Any] = {}
        try:
            with ctx.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            checks["database"] = "ok"
        except sa.exc.SQLAlchemyError as error:
            checks["database"] = f"unavailable: {type(error).__name__}"
        extra = dict(ctx.readiness()) if ctx.readiness is not None else {}
        ready = checks["database"] == "ok" and extra.get("ready", True) is not False
        if not ready:
            raise ApiError(503, "not_ready", f"not ready: database {checks['database']}, runtime {extra}")
        return {"status": "ready", "checks": {**checks, **extra}}

    @router.get("/queues", summary="Depth, age of the oldest event, retries and dead letters per tier")
    def queues(_: Principal = require_role(Role.VIEWER)) -> dict[str, Any]:
        now = ctx.clock.now().timestamp()
        with ctx.engine.connect() as connection:
            stats = queue_stats(connection, now)
        body: dict[str, Any] = {
            "tiers": [tier.to_dict(now) for tier in stats.tiers.values()],
            "appended_last_minute": stats.appended_last_minute,
        }
        if ctx.metrics is not None:
            body["handled_per_s"] = ctx.metrics.throughput.per_second()
        return body

    @router.get("/dead-letters", summary="Dead letters, oldest first, with filters")
    def dead_letters(
        topic: str | None = Query(default=None, max_length=200),
        key: str | None = Query(default=None, max_length=255),
        error_contains: str | None = Query(default=None, max_length=200),
        tier: int | None = Query(default=None, ge=1, le=3),
        limit: int = LIMIT,
        cursor: str | None = CURSOR,
        who: Principal = require_role(Role.VIEWER),
    ) -> dict[str, Any]:
        query = DeadLetterQuery(topic, key, error_contains, tier)
        with ctx.engine.connect() as connection:
            rows = dead_letter_page(connection, query, decode_cursor(cursor), limit)
        body = page([_shown(row, who) for row in rows], limit, lambda item: item["seq"])
        return body

    @router.get("/dead-letters/topics", summary="Dead letters counted per topic")
    def dead_letter_topics(_: Principal = require_role(Role.VIEWER)) -> dict[str, Any]:
        with ctx.engine.connect() as connection:
            return {"topics": dead_letters_by_topic(connection)}

    @router.get("/dead-letters/{event_id}", summary="One dead letter with its raw payload")
    def dead_letter_detail(event_id: str, who: Principal = require_role(Role.VIEWER)) -> dict[str, Any]:
        with ctx.engine.connect() as connection:
            found = dead_letter(connection, event_id)
        if found is None:
            raise ApiError(404, "not_found", f"no dead letter {event_id!r}")
        return _shown(found, who)

    @router.post("/dead-letters/{event_id}/replay", summary="Replay one dead letter")
    def replay_one(event_id: str, who: Principal = require_role(Role.OPERATOR)) -> dict[str, Any]:
        if not replay_dead_letter(ctx, event_id, who):
            raise ApiError(404, "not_found", f"no dead letter {event_id!r}")
        return {"event_id": event_id, "status": "replayed"}

    @router.post("/dead-letters/replay", summary="Replay the dead letters matching a filter (or all)")
    def replay_matching(
        request: ReplayFilter, who: Principal = require_role(Role.OPERATOR)
    ) -> dict[str, Any]:
        matching = DeadLetterFilter(
            request.topic or None, request.key or None, request.error_contains or None
        )
        if matching == DeadLetterFilter() and not request.all:
            raise ApiError(400, "invalid_request", "give a filter, or all=true to replay every dead letter")
        with ctx.engine.begin() as connection:
            count = replay(connection, matching, ctx.clock)
            record_action(
                connection,
                ctx.clock.now(),
                who.name,
                "dead_letter.replay_matching",
                "dead-letters",
                {**request.model_dump(), "replayed": count},
            )
        return {"replayed": count}

    @router.post("/dead-letters/{event_id}/discard", summary="Discard a dead letter, with the reason")
    def discard(
        event_id: str, request: Discard, who: Principal = require_role(Role.OPERATOR)
    ) -> dict[str, Any]:
        with ctx.engine.begin() as connection:
            removed = discard_dead_letter(connection, event_id)
            if removed is None:
                raise ApiError(404, "not_found", f"no dead letter {event_id!r}")
            # The trail keeps the whole event: a discard can be understood (and redone by hand) later.
            record_action(
                connection,
                ctx.clock.now(),
                who.name,
                "dead_letter.discard",
                f"event:{event_id}",
                {"reason": request.reason, "event": removed},
            )
        return {"event_id": event_id, "status": "discarded"}

    return router
