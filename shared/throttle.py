"""Slows down credential guessing: an in-memory count of failed authentications per client address.

After ``limit`` failures from one address within ``window_seconds``, that address is refused (429 with
``Retry-After``) on every authenticated route until its oldest counted failure leaves the window. The
right credentials are refused too while the address is blocked: otherwise a guesser would learn from
the answer the moment it hit them. Successes neither count nor reset the count, so interleaving one
valid request between guesses buys nothing.

The count lives in the process: each replica keeps its own, which still bounds guessing to
``limit`` x replicas per window. Behind a reverse proxy every client shares the proxy's address, so
one guesser there blocks everybody behind it; size the limit for that, or set it to 0 (off).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from aiohttp import web
from cachetools import LRUCache

MAX_TRACKED_CLIENTS = 10_000
"""Addresses remembered at most; the one seen least recently is forgotten first, so a flood of
addresses costs bounded memory."""


class FailureLimiter:
    def __init__(
        self,
        limit: int,
        window_seconds: float,
        *,
        max_clients: int = MAX_TRACKED_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        # Only the latest ``limit`` failures matter: the oldest of them decides whether the window is full.
        self._failures: LRUCache[str, deque[float]] = LRUCache(maxsize=max_clients)

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def retry_after(self, client: str) -> int | None:
        """Whole seconds ``client`` must wait before trying again, or ``None`` when it may try now."""
        if not self.enabled:
            return None
        failures = self._failures.get(client)
        if failures is None or len(failures) < self.limit:
            return None
        remaining = failures[0] + self.window_seconds - self._clock()
        if remaining <= 0:
            return None
        return max(1, math.ceil(remaining))

    def record_failure(self, client: str) -> None:
        if not self.enabled:
            return
        failures = self._failures.get(client)
        if failures is None:
            failures = self._failures[client] = deque(maxlen=self.limit)
        failures.append(self._clock())


AUTH_LIMITER_KEY = web.AppKey("auth_failure_limiter", FailureLimiter)


def client_address(request: web.Request) -> str:
    """The peer's address. ``X-Forwarded-For`` is not trusted: any client can write it."""
    return request.remote or "unknown"


def throttled_for(request: web.Request) -> int | None:
    """Seconds the caller's address must wait (it failed too often lately), or ``None``."""
    limiter = request.app.get(AUTH_LIMITER_KEY)
    return limiter.retry_after(client_address(request)) if limiter is not None else None


def record_auth_failure(request: web.Request) -> None:
    limiter = request.app.get(AUTH_LIMITER_KEY)
    if limiter is not None:
        limiter.record_failure(client_address(request))
