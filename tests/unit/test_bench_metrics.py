"""The benchmark's reading of the services' batching metrics."""

from __future__ import annotations

from bench.metrics import batches_between, parse_batch_totals
from bench.stats import fine_rates

EXPOSITION = """\
# HELP inbox_batch_size Messages applied per inbox transaction
# TYPE inbox_batch_size histogram
inbox_batch_size_bucket{consumer="splitter.orders",le="1.0"} 3.0
inbox_batch_size_count{consumer="splitter.orders"} 40.0
inbox_batch_size_sum{consumer="splitter.orders"} 100.0
inbox_batch_size_count{consumer="splitter.inventory"} 0.0
inbox_batch_size_sum{consumer="splitter.inventory"} 0.0
messages_handled_total{queue="splitter.orders",outcome="ok"} 100.0
"""


def test_totals_are_read_per_consumer() -> None:
    assert parse_batch_totals(EXPOSITION) == {
        "splitter.orders": {"sum": 100.0, "count": 40.0},
        "splitter.inventory": {"sum": 0.0, "count": 0.0},
    }


def test_a_phase_is_the_difference_and_idle_consumers_are_left_out() -> None:
    before = {"splitter.orders": {"sum": 100.0, "count": 40.0}}
    after = {"splitter.orders": {"sum": 400.0, "count": 140.0}, "splitter.inventory": {"sum": 0.0, "count": 0.0}}
    assert batches_between(before, after) == {
        "splitter.orders": {"messages": 300, "transactions": 100, "per_transaction": 3.0}
    }


def test_the_fine_steps_lie_between_the_last_sustained_rate_and_the_first_that_was_not() -> None:
    assert fine_rates(200, 300, 25) == [225, 250, 275]
    assert fine_rates(0, 50, 25) == [25]
    assert fine_rates(100, 125, 25) == []
    assert fine_rates(100, 200, 0) == []
