"""Structured logs: one JSON object per line, with the correlation id of the request or job.

`configure_logging()` routes both structlog and the standard `logging` module (which the engine,
connectors and uvicorn use) through one JSON renderer. `correlation_scope(id)` binds a correlation
id for everything logged inside it (the webhook ingress binds one per delivery, the inbox processor
one per inbox row), so a delivery can be followed from the door to the durable log.

Personal data never goes into logs: callers log ids, SKUs, counts and reasons, never bodies,
addresses, e-mails or names. `redact()` is the safety net for mappings that might carry them.
"""

from __future__ import annotations

import logging
import secrets
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import structlog

correlation_id: ContextVar[str | None] = ContextVar("channelhub_correlation_id", default=None)

# Keys whose values may hold personal data or secrets: replaced before anything is logged.
_SENSITIVE = frozenset(
    {
        "body",
        "email",
        "phone",
        "address",
        "billing",
        "shipping_address",
        "customer",
        "first_name",
        "last_name",
        "token",
        "authorization",
        "password",
        "secret",
    }
)


def new_correlation_id() -> str:
    return secrets.token_hex(8)


@contextmanager
def correlation_scope(value: str | None = None) -> Iterator[str]:
    """Bind a correlation id (a new one when None) for the duration of the block."""
    chosen = value or new_correlation_id()
    token = correlation_id.set(chosen)
    try:
        yield chosen
    finally:
        correlation_id.reset(token)


def redact(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `values` with personal or secret fields replaced by "[redacted]"."""
    return {key: "[redacted]" if key.lower() in _SENSITIVE else value for key, value in values.items()}


def _add_correlation_id(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    current = correlation_id.get()
    if current is not None and "correlation_id" not in event:
        event["correlation_id"] = current
    return event


def _redact_processor(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    return {key: value if key == "event" else redact({key: value})[key] for key, value in event.items()}


def configure_logging(level: str | int = "INFO", *, json_output: bool = True) -> None:
    """JSON lines on stderr for structlog and stdlib loggers; safe to call more than once."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_correlation_id,
        _redact_processor,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_channelhub", False):
            root.removeHandler(existing)
    handler._channelhub = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's access log would print client addresses and paths with query tokens.
    logging.getLogger("uvicorn.access").disabled = True


def get_logger(name: str) -> Any:
    """A structlog logger: `log.info("webhook_refused", channel="shop", reason="bad signature")`."""
    return structlog.stdlib.get_logger(name)
