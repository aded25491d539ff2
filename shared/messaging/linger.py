"""How long a batch that is forming waits for more: the adaptive wait of :mod:`shared.messaging.batching`.

A batch of one costs nearly as much as a batch of ten (one transaction, one commit, the pool's round
trips around them), so under load it pays to wait a few milliseconds for the next arrivals. At a low
rate it does not: nothing would come in time, and the wait would be pure latency. The policy keeps a
smoothed gap between arrivals and waits only while the next arrival is expected before the batch's
deadline (its oldest item's arrival plus ``linger_seconds``); it never waits past that deadline, nor
once the batch is full. Pure: the caller passes the clock's readings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_LINGER_SECONDS = 0.010
"""How long a forming batch may wait for more at most: a few times what a commit costs here, well
under what a person or a latency target notices (``DROPSHIP_BATCH_LINGER_SECONDS``)."""

SMOOTHING = 0.2
"""Weight of the newest gap in the running estimate (about the last five arrivals count)."""

LONGEST_GAP_SECONDS = 1.0
"""A gap longer than this is counted as this long: an idle minute must not take minutes to forget."""


@dataclass
class LingerPolicy:
    linger_seconds: float
    max_batch: int
    expected_gap: float | None = field(default=None, init=False)
    """The smoothed time between two arrivals; unknown until two have arrived."""
    _last_arrival: float | None = field(default=None, init=False)

    def arrived(self, now: float) -> None:
        """Note an arrival at ``now`` (a monotonic clock's reading)."""
        if self._last_arrival is not None:
            gap = min(max(now - self._last_arrival, 0.0), LONGEST_GAP_SECONDS)
            previous = gap if self.expected_gap is None else self.expected_gap
            self.expected_gap = (1 - SMOOTHING) * previous + SMOOTHING * gap
        self._last_arrival = now

    def wait_for_more(self, waiting: int, oldest_arrival: float, now: float) -> float:
        """How long a batch of ``waiting`` items, the first of which arrived at ``oldest_arrival``, should
        wait for the next arrival before it starts (0: start now)."""
        if self.linger_seconds <= 0 or waiting >= self.max_batch or self.expected_gap is None:
            return 0.0
        remaining = oldest_arrival + self.linger_seconds - now
        if remaining <= 0 or self.expected_gap > remaining:
            return 0.0
        return remaining
