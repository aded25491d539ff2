"""The one backoff rule for retries (outbox rows the broker refused, channel webhooks, a relay whose
broker or database is away)."""

from __future__ import annotations


def backoff_seconds(attempt: int, *, first: float, cap: float, jitter: float) -> float:
    """The wait before retry number ``attempt`` (1 = the first retry).

    The ceiling doubles with every attempt from ``first`` up to ``cap``; the wait is drawn from its
    upper half, ``[ceiling / 2, ceiling)``, with ``jitter`` uniform in ``[0, 1)`` ("equal jitter"):
    retries of many failed items spread out instead of arriving together, yet a wait never shrinks
    to nothing the way full jitter (``[0, ceiling)``) allows.
    """
    # The exponent is bounded: 2.0 ** 1024 overflows, and an endpoint down for days reaches that many attempts.
    ceiling = min(cap, first * 2.0 ** min(max(attempt - 1, 0), 64))
    return ceiling * (0.5 + jitter / 2)
