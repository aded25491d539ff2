"""Message rates per queue from the consumers' messages_handled_total, without I/O."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.console.rates import MessageRates, Reading, handled_by_queue, rates_between

EXPOSITION = """# HELP messages_handled_total Messages consumed
# TYPE messages_handled_total counter
messages_handled_total{outcome="ok",queue="splitter.orders"} 120.0
messages_handled_total{outcome="retry",queue="splitter.orders"} 3.0
messages_handled_total{queue="splitter.inventory",outcome="ok"} 7.0
messages_handled_created{outcome="ok",queue="splitter.orders"} 1.7e+09
messages_handled_totalish{queue="x"} 5
other_total{queue="splitter.orders"} 99
"""


def test_the_handled_counter_is_summed_by_queue_over_its_outcomes() -> None:
    assert handled_by_queue(EXPOSITION) == {"splitter.orders": 123.0, "splitter.inventory": 7.0}
    assert handled_by_queue("") == {}
    with pytest.raises(ValueError):
        handled_by_queue('messages_handled_total{queue="a",outcome="ok"} lots')


def test_a_rate_is_the_difference_over_the_seconds_between_readings() -> None:
    before = Reading(100.0, {"splitter.orders": 100.0, "tracking.orders": 50.0})
    after = Reading(105.0, {"splitter.orders": 125.0, "tracking.orders": 40.0, "vendor.east": 2.0})
    assert rates_between(before, after) == {
        "splitter.orders": Decimal("5.00"),
        "tracking.orders": Decimal("8.00"),  # went down: restarted, so 40 since
        "vendor.east": Decimal("0.40"),  # new series: from zero
    }
    with pytest.raises(ValueError):
        rates_between(after, before)


def test_readings_too_close_keep_the_last_rate_and_a_long_gap_starts_over() -> None:
    rates = MessageRates()
    rates.observe("splitter", Reading(0.0, {"splitter.orders": 0.0}))
    assert rates.by_queue() == {}, "one reading is no rate"
    rates.observe("splitter", Reading(2.0, {"splitter.orders": 10.0}))
    assert rates.by_queue() == {"splitter.orders": Decimal("5.00")}
    rates.observe("splitter", Reading(2.5, {"splitter.orders": 10.0}))
    assert rates.by_queue() == {"splitter.orders": Decimal("5.00")}, "half a second later: the same rate"
    rates.observe("splitter", Reading(4.0, {"splitter.orders": 10.0}))
    assert rates.by_queue() == {"splitter.orders": Decimal("0.00")}
    rates.observe("splitter", Reading(1000.0, {"splitter.orders": 5000.0}))
    assert rates.by_queue() == {}, "after a long gap the next reading only starts a new interval"
    rates.observe("splitter", Reading(1002.0, {"splitter.orders": 5001.0}))
    assert rates.by_queue() == {"splitter.orders": Decimal("0.50")}


def test_services_are_read_apart_and_summed_by_queue() -> None:
    rates = MessageRates()
    for at, east in ((0.0, 0.0), (2.0, 4.0)):
        rates.observe("gateway", Reading(at, {"vendor.east": east}))
        rates.observe("shipstation", Reading(at, {"vendor.east": east / 2, "vendor.ss": at}))
    assert rates.by_queue() == {"vendor.east": Decimal("3.00"), "vendor.ss": Decimal("1.00")}
    rates.observe("shipstation", None)
    assert rates.by_queue() == {"vendor.east": Decimal("2.00")}, "a service that does not answer has no rate"
