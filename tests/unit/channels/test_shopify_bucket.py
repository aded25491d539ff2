"""Shopify's cost bucket as the client reckons it: calls side by side wait their turn."""

from __future__ import annotations

import pytest

from services.channels.shopify.bucket import FIRST_GUESS, CostBucket, Reservation
from services.channels.shopify.graphql import Cost


def cost(requested: float, available: float, maximum: float = 2000, restore: float = 100, actual: float = 0) -> Cost:
    return Cost(requested, actual or requested, maximum, available, restore)


def reserved(bucket: CostBucket, now: float = 0.0, max_wait: float = 20, operation: str = "Push") -> Reservation:
    reservation = bucket.reserve(operation, now, max_wait)
    assert reservation is not None
    return reservation


def test_nothing_is_held_back_before_shopify_has_said_anything() -> None:
    assert reserved(CostBucket()).wait == 0.0


def test_calls_beyond_what_the_bucket_holds_wait_in_turn_at_the_restore_rate() -> None:
    bucket = CostBucket()
    bucket.answered("Push", reserved(bucket), cost(25, available=60), now=0.0)
    waits = [reserved(bucket).wait for _ in range(5)]
    # 60 points pay for two pushes at once; each further one waits for 25 more points at 100/s.
    assert waits == pytest.approx([0.0, 0.0, 0.15, 0.4, 0.65])


def test_an_answer_gives_back_what_was_held_and_shopify_s_figure_counts_from_then() -> None:
    bucket = CostBucket()
    bucket.answered("Push", reserved(bucket), cost(25, available=30), now=0.0)
    first, second = reserved(bucket), reserved(bucket)
    assert first.wait == 0.0
    assert second.wait == pytest.approx(0.2)
    # The first push was charged its actual cost (10, not the 25 it asked for): 20 left, the second still held.
    bucket.answered("Push", first, cost(25, available=20, actual=10), now=0.0)
    assert reserved(bucket).wait == pytest.approx(0.3)  # 20 - 25 held = -5: 30 more points at 100/s


def test_the_bucket_refills_with_time_up_to_its_maximum() -> None:
    bucket = CostBucket()
    bucket.answered("Push", reserved(bucket), cost(25, available=0, maximum=100), now=0.0)
    for _ in range(4):
        assert reserved(bucket, now=10.0).wait == 0.0  # refilled to 100 (not 1000) by then
    assert reserved(bucket, now=10.0).wait == pytest.approx(0.25)


def test_a_wait_past_the_limit_holds_nothing() -> None:
    bucket = CostBucket()
    bucket.answered("Push", reserved(bucket), cost(500, available=0), now=0.0)
    assert bucket.reserve("Push", 0.0, max_wait=1.0) is None
    assert reserved(bucket, now=5.0, max_wait=1.0).wait == 0.0  # 500 points restored by then


def test_an_operation_not_seen_yet_is_given_a_first_guess() -> None:
    bucket = CostBucket()
    bucket.answered("Push", reserved(bucket), cost(25, available=10), now=0.0)
    assert reserved(bucket, operation="Other").wait == pytest.approx((FIRST_GUESS - 10) / 100)


def test_a_throttled_answer_does_not_make_calls_hold_their_whole_requested_cost() -> None:
    bucket = CostBucket()
    bucket.answered("Push", reserved(bucket), cost(1300, available=2000, actual=25), now=0.0)
    throttled = Cost(1300, None, 2000, 1295, 100)  # THROTTLED: "wait 0.05 s", no actual cost
    bucket.answered("Push", reserved(bucket), throttled, now=0.0)
    waits = [reserved(bucket).wait for _ in range(3)]
    # Each waits for the 1,300 asked, holding the 25 it will be charged, not 1,300 (13 s apart).
    assert waits == pytest.approx([0.05, 0.3, 0.55])
