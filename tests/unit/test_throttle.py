"""The failed-authentication limiter: blocks an address after too many failures in the window, lets
it try again when the oldest counted failure leaves the window, and keeps bounded memory."""

from __future__ import annotations

from shared.throttle import FailureLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_an_address_is_blocked_at_the_limit_until_its_oldest_failure_leaves_the_window() -> None:
    clock = Clock()
    limiter = FailureLimiter(3, 60.0, clock=clock)
    for _ in range(2):
        limiter.record_failure("10.0.0.1")
        clock.now += 10
    assert limiter.retry_after("10.0.0.1") is None
    limiter.record_failure("10.0.0.1")
    assert limiter.retry_after("10.0.0.1") == 40  # the first failure, 20 s ago, counts for 40 s more
    assert limiter.retry_after("10.0.0.2") is None
    clock.now += 40
    assert limiter.retry_after("10.0.0.1") is None


def test_a_limit_of_zero_never_blocks() -> None:
    limiter = FailureLimiter(0, 60.0)
    for _ in range(100):
        limiter.record_failure("10.0.0.1")
    assert limiter.retry_after("10.0.0.1") is None


def test_a_flood_of_addresses_forgets_the_least_recently_seen_ones() -> None:
    limiter = FailureLimiter(1, 60.0, max_clients=2, clock=Clock())
    limiter.record_failure("a")
    limiter.record_failure("b")
    assert limiter.retry_after("a") is not None  # "a" is now the most recently seen
    limiter.record_failure("c")
    assert limiter.retry_after("b") is None  # forgotten
    assert limiter.retry_after("a") is not None
    assert limiter.retry_after("c") is not None
