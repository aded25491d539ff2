"""Shopify's cost bucket as one shop's client sees it, so that pushes running side by side wait their
turn instead of all being answered ``THROTTLED`` and retrying together.

Shopify's Admin GraphQL API gives each shop a bucket of points (``maximumAvailable``) refilled at
``restoreRate`` per second. A query is let in only while the bucket holds its requested cost, and is
then charged its actual cost (usually less). Every answer says what is left
(``extensions.cost.throttleStatus``). Here the last figure Shopify gave, refilled at the restore rate
since, less the requested cost of every call sent or waiting to be sent and not yet answered, is what a
new call can count on; it waits until that covers its own requested cost (what the operation asked for
last time). Pure: the time is given.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.channels.shopify.graphql import Cost

FIRST_GUESS = 50.0
"""The cost reserved for an operation not seen yet (Shopify's simple queries cost 1-50 points)."""


@dataclass(frozen=True)
class Reservation:
    wait: float
    """Seconds to wait before sending."""
    points: float


class CostBucket:
    def __init__(self) -> None:
        self._reported: float | None = None
        """Points left when Shopify last said (None: it has not said yet)."""
        self._reported_at = 0.0
        self._maximum = 0.0
        self._restore = 0.0
        self._held = 0.0
        """Requested points of the calls reserved and not yet answered."""
        self._expected: dict[str, float] = {}

    def _free(self, now: float) -> float:
        assert self._reported is not None
        return min(self._maximum, self._reported + (now - self._reported_at) * self._restore) - self._held

    def reserve(self, operation: str, now: float, max_wait: float) -> Reservation | None:
        """The wait before sending ``operation``, its expected cost held; None when that wait would pass
        ``max_wait`` (nothing held: the caller tries later)."""
        if self._reported is None or self._restore <= 0:
            return Reservation(0.0, 0.0)
        points = min(self._expected.get(operation, FIRST_GUESS), self._maximum or FIRST_GUESS)
        wait = max(0.0, (points - self._free(now)) / self._restore)
        if wait > max_wait:
            return None
        self._held += points
        return Reservation(wait, points)

    def answered(self, operation: str, reservation: Reservation, cost: Cost | None, now: float) -> None:
        """The call came back (or failed): its points are no longer held, and what Shopify said of the
        bucket (the points left, the restore rate, what the operation asked for) is the new figure."""
        self._held = max(0.0, self._held - reservation.points)
        if cost is None:
            return
        self._maximum = cost.maximum_available
        self._restore = cost.restore_rate
        self._reported = min(cost.currently_available, cost.maximum_available)
        self._reported_at = now
        if cost.requested > 0:
            self._expected[operation] = cost.requested
