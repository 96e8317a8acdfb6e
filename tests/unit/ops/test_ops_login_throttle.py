from __future__ import annotations

from channelhub.api.dashboard.login_throttle import LoginThrottle
from channelhub.clock import ManualClock


def test_failures_within_the_window_block_until_it_passes() -> None:
    clock = ManualClock()
    throttle = LoginThrottle(clock, max_failures=3, window_s=60)
    for _ in range(3):
        assert throttle.wait_s("ann") == 0
        throttle.failed("ann")
        clock.advance(10)
    assert throttle.wait_s("ann") == 30  # the first failure leaves the window in 30 s
    assert throttle.wait_s("bob") == 0
    clock.advance(30)
    assert throttle.wait_s("ann") == 0


def test_a_success_forgets_the_failures() -> None:
    clock = ManualClock()
    throttle = LoginThrottle(clock, max_failures=2, window_s=60)
    throttle.failed("ann")
    throttle.succeeded("ann")
    throttle.failed("ann")
    assert throttle.wait_s("ann") == 0
