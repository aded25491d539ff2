"""Small statistics over latency samples (seconds)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(samples: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile; ``None`` for no samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary(samples: Sequence[float]) -> dict[str, float | int | None]:
    """count, p50, p95, p99, max, mean: seconds rounded to 0.1 ms."""

    def r(value: float | None) -> float | None:
        return None if value is None else round(value, 4)

    return {
        "count": len(samples),
        "p50": r(percentile(samples, 0.50)),
        "p95": r(percentile(samples, 0.95)),
        "p99": r(percentile(samples, 0.99)),
        "max": r(max(samples)) if samples else None,
        "mean": r(sum(samples) / len(samples)) if samples else None,
    }


def fine_rates(sustained: float, failed: float, step: float) -> list[float]:
    """The rates between the last sustained step and the first that was not, ``step`` apart (both
    ends excluded): where the ramp looks again, finely, for the top."""
    if step <= 0:
        return []
    rates: list[float] = []
    rate = sustained + step
    while rate < failed - 1e-9:
        rates.append(rate)
        rate += step
    return rates
