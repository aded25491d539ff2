"""Message rates per queue from the services' own metrics, without I/O: each consumer counts what it
handled in ``messages_handled_total{queue, outcome}`` (``docs/metrics.md``); the console reads every
service's ``/metrics``, keeps the last reading of each and turns the difference into messages per
second, per queue (every outcome: what the consumers took off the queue).

A rate needs two readings of the same service between :data:`MIN_INTERVAL_SECONDS` and
:data:`MAX_INTERVAL_SECONDS` apart: readings closer together (two pages loaded at once) keep the rate
last computed, and one after a long gap (nobody watched) only starts a new interval, so a rate is
never an average over an hour nobody saw. A counter that went down (the service restarted) counts from
zero."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

HANDLED_METRIC = "messages_handled_total"
MIN_INTERVAL_SECONDS = 1.0
MAX_INTERVAL_SECONDS = 120.0
_QUEUE_LABEL = re.compile(r'(?:^|,)queue="((?:[^"\\]|\\.)*)"')
_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class Reading:
    at: float
    """A monotonic clock's seconds."""
    handled: Mapping[str, float]
    """Messages handled so far, by queue (every outcome summed)."""


def handled_by_queue(metrics_text: str) -> dict[str, float]:
    """The ``messages_handled_total`` series of a Prometheus text exposition, summed by ``queue``.

    Only those lines are read (the overview reads every service's metrics: parsing whole expositions
    would be most of its time). A line that is not a number raises ``ValueError``."""
    handled: dict[str, float] = {}
    prefix = HANDLED_METRIC + "{"
    for line in metrics_text.splitlines():
        if not line.startswith(prefix):
            continue
        labels, _, rest = line[len(prefix) :].partition("} ")
        found = _QUEUE_LABEL.search(labels)
        value = rest.split()
        if found is None or not value:
            continue
        queue = found.group(1)
        handled[queue] = handled.get(queue, 0.0) + float(value[0])
    return handled


def rates_between(previous: Reading, current: Reading) -> dict[str, Decimal]:
    """Messages per second of each queue of ``current`` since ``previous`` (two readings of one service);
    a queue the previous reading did not have started at zero since (its series appears with its first
    message)."""
    seconds = current.at - previous.at
    if seconds <= 0:
        raise ValueError("the current reading must come after the previous one")
    rates = {}
    for queue, count in current.handled.items():
        before = previous.handled.get(queue, 0.0)
        handled = count - before if count >= before else count  # went down: the service restarted
        rates[queue] = (Decimal(handled) / Decimal(seconds)).quantize(_PLACES, ROUND_HALF_UP)
    return rates


class MessageRates:
    """The last reading and the last rates of each service; :meth:`observe` takes new readings."""

    def __init__(self) -> None:
        self._readings: dict[str, Reading] = {}
        self._rates: dict[str, dict[str, Decimal]] = {}

    def observe(self, service: str, reading: Reading | None) -> None:
        """A service's new reading (``None``: it did not answer, and its rates are no longer known)."""
        if reading is None:
            self._rates.pop(service, None)
            self._readings.pop(service, None)
            return
        previous = self._readings.get(service)
        if previous is not None and reading.at - previous.at < MIN_INTERVAL_SECONDS:
            return  # too close to the last one: the rate last computed stands
        if previous is None or reading.at - previous.at > MAX_INTERVAL_SECONDS:
            self._rates.pop(service, None)
        else:
            self._rates[service] = rates_between(previous, reading)
        self._readings[service] = reading

    def by_queue(self) -> dict[str, Decimal]:
        """Messages per second by queue, summed over the services that consume it."""
        merged: dict[str, Decimal] = {}
        for rates in self._rates.values():
            for queue, rate in rates.items():
                merged[queue] = merged.get(queue, Decimal(0)) + rate
        return merged
