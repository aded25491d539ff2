"""Shopify's cost bucket as one shop's client sees it, so that pushes running side by side wait their
turn instead of all being answered ``THROTTLED`` and retrying together.

Shopify's Admin GraphQL API gives each shop a bucket of points (``maximumAvailable``) refilled at
``restoreRate`` per second. A query is let in only while the bucket holds its requested cost, and is
then charged its actual cost (usually less). Every answer says what is left
(``extensions.cost.throttleStatus``). Here the last figure Shopify gave, refilled at the restore rate
since, less what every call sent or waiting to be sent and not yet answered will be charged, is what a
new call can count on; it waits until that covers its requested cost, which Shopify checks before
letting it in. Both costs are what the operation asked for and was charged last time. Pure: the time
is given.
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
    """What the call is expected to be charged, held until it is answered."""


@dataclass(frozen=True)
class _Costs:
    requested: float
    actual: float


class CostBucket:
    def __init__(self) -> None:
        self._reported: float | None = None
        """Points left when Shopify last said (None: it has not said yet)."""
        self._reported_at = 0.0
        self._maximum = 0.0
        self._restore = 0.0
        self._held = 0.0
        """What the calls reserved and not yet answered are expected to be charged."""
        self._expected: dict[str, _Costs] = {}

    def _free(self, now: float) -> float:
        assert self._reported is not None
        return min(self._maximum, self._reported + (now - self._reported_at) * self._restore) - self._held

    def reserve(self, operation: str, now: float, max_wait: float) -> Reservation | None:
        """The wait before sending ``operation``, its expected cost held; None when that wait would pass
        ``max_wait`` (nothing held: the caller tries later)."""
        if self._reported is None or self._restore <= 0:
            return Reservation(0.0, 0.0)
        costs = self._expected.get(operation, _Costs(FIRST_GUESS, FIRST_GUESS))
        needed = min(costs.requested, self._maximum or costs.requested)
        wait = max(0.0, (needed - self._free(now)) / self._restore)
        if wait > max_wait:
            return None
        self._held += costs.actual
        return Reservation(wait, costs.actual)

    def answered(self, operation: str, reservation: Reservation, cost: Cost | None, now: float) -> None:
        """The call came back (or failed): its points are no longer held, and what Shopify said of the
        bucket (the points left, the restore rate, what the operation asked for and was charged) is the
        new figure."""
        self._held = max(0.0, self._held - reservation.points)
        if cost is None:
            return
        self._maximum = cost.maximum_available
        self._restore = cost.restore_rate
        self._reported = min(cost.currently_available, cost.maximum_available)
        self._reported_at = now
        if cost.requested > 0:
            # A throttled answer charges nothing and says no actual cost: what the call is charged stays
            # as last seen (holding its whole requested cost would make calls wait on each other for nothing).
            known = self._expected.get(operation)
            charged = cost.actual if cost.actual is not None else known.actual if known else FIRST_GUESS
            self._expected[operation] = _Costs(cost.requested, min(charged, cost.requested))
