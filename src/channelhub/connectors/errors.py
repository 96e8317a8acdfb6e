"""The connector error hierarchy (one per layer; see DESIGN §8).

    ConnectorError            any failure talking to an external system
    ├── TransientError        worth retrying: timeouts, 5xx, 429/throttled, 503 busy, serialization failures
    │   ├── ThrottledError    the platform asked us to slow down (carries retry_after when known)
    │   └── UnavailableError  connection refused, timeout, 5xx, outage
    └── PermanentError        retrying will not help: bad auth, validation, not found, access denied
        ├── AuthenticationError
        ├── NotFoundError
        └── ValidationFailed

Every error carries the system name and, when there was one, the operation that caused it. Each
connector package may subclass these (e.g. `OdooError`) but must keep `transient` truthful: the
engine retries exactly the errors whose `transient` is True.
"""

from __future__ import annotations

from typing import Any


class ConnectorError(Exception):
    """An external system call failed."""

    transient: bool = False

    def __init__(
        self,
        message: str | None = None,
        *,
        system: str = "",
        operation: str = "",
        status: int | None = None,
        details: Any = None,
        transient: bool | None = None,
    ) -> None:
        self.message = message or (self.__doc__ or "connector error").strip()
        self.system = system
        self.operation = operation
        self.status = status
        self.details = details
        if transient is not None:
            self.transient = transient
        super().__init__(self.message)

    def __str__(self) -> str:
        where = "/".join(part for part in (self.system, self.operation) if part)
        return f"{where}: {self.message}" if where else self.message


class TransientError(ConnectorError):
    """A failure that may succeed when retried."""

    transient = True


class ThrottledError(TransientError):
    """The platform throttled the call."""

    def __init__(
        self, message: str | None = None, *, retry_after: float | None = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class UnavailableError(TransientError):
    """The system could not be reached or answered with a server error."""


class PermanentError(ConnectorError):
    """A failure that retrying will not fix."""

    transient = False


class AuthenticationError(PermanentError):
    """The credentials were refused."""


class NotFoundError(PermanentError):
    """The referenced record does not exist."""


class ValidationFailed(PermanentError):
    """The system rejected the data sent."""


class WebhookVerificationError(PermanentError):
    """A webhook's signature is missing or does not match; the delivery must be refused."""
