"""Slows down password guessing: after `max_failures` failed logins for one username within
`window_s`, that username is refused until the window has passed (in this process)."""

from __future__ import annotations

import threading
from collections import deque

from channelhub.clock import Clock


class LoginThrottle:
    def __init__(self, clock: Clock, max_failures: int = 5, window_s: float = 900.0) -> None:
        self.clock = clock
        self.max_failures = max_failures
        self.window_s = window_s
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}

    def wait_s(self, username: str) -> float:
        """Seconds until `username` may try again (0: now)."""
        now = self.clock.monotonic()
        with self._lock:
            failures = self._recent(username, now)
            if len(failures) < self.max_failures:
                return 0.0
            return max(0.0, failures[0] + self.window_s - now)

    def failed(self, username: str) -> None:
        now = self.clock.monotonic()
        with self._lock:
            self._recent(username, now).append(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(username, None)

    def _recent(self, username: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(username, deque())
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        return failures
