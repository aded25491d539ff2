"""The one backoff rule: doubling from the first wait up to the cap, drawn from the ceiling's upper half."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.backoff import backoff_seconds


@pytest.mark.parametrize("jitter", [0.0, 0.5, 0.999])
def test_backoff_grows_until_the_cap(jitter: float) -> None:
    delays = [backoff_seconds(attempt, first=1.0, cap=600.0, jitter=jitter) for attempt in range(1, 20)]

    assert delays == sorted(delays)
    assert delays[0] < delays[3] < delays[6] < delays[9]  # 1 s, 8 s, 64 s, 512 s before jitter
    assert max(delays) <= 600.0
    assert delays[-1] == delays[-2]  # capped


@pytest.mark.parametrize(("attempt", "ceiling"), [(0, 1.0), (1, 1.0), (2, 2.0), (3, 4.0), (5, 16.0)])
def test_one_attempt_waits_between_half_the_ceiling_and_the_ceiling(attempt: int, ceiling: float) -> None:
    assert backoff_seconds(attempt, first=1.0, cap=600.0, jitter=0.0) == ceiling / 2
    assert backoff_seconds(attempt, first=1.0, cap=600.0, jitter=0.999999) == pytest.approx(ceiling, rel=1e-5)


def test_the_first_wait_scales_the_whole_ladder() -> None:
    assert backoff_seconds(3, first=0.4, cap=10.0, jitter=0.0) == pytest.approx(0.8)  # ceiling 1.6


@pytest.mark.parametrize("attempts", [1_000, 1_025, 5_000, 10**9])
def test_after_very_many_attempts_the_wait_is_the_cap_not_an_error(attempts: int) -> None:
    # An endpoint down for days keeps being retried: the delay must stay capped, and 2.0 ** n not overflow.
    delay = backoff_seconds(attempts, first=1.0, cap=600.0, jitter=0.999)

    assert 300.0 <= delay <= 600.0


@given(
    attempts=st.integers(min_value=-5, max_value=10**12),
    jitter=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
    cap=st.floats(min_value=1.0, max_value=86_400.0),
)
def test_a_wait_is_never_below_half_the_first_nor_above_the_cap_and_never_shrinks(
    attempts: int, jitter: float, cap: float
) -> None:
    delay = backoff_seconds(attempts, first=1.0, cap=cap, jitter=jitter)

    assert 0.5 <= delay <= cap
    assert delay <= backoff_seconds(attempts + 1, first=1.0, cap=cap, jitter=jitter)
