"""The relay loop: the one way a service drains a table of work to the outside world (outbox rows to
the broker, channel webhooks to their URLs).

A round claims what is due and handles it; the loop runs the next round at once while rounds come
back full, else sleeps until ``LISTEN <channel>`` fires (the table's trigger) or ``idle_seconds``
pass. A round that raises (broker or database away) is retried after :func:`shared.backoff.backoff_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable

from shared.backoff import backoff_seconds
from shared.db import listen_forever
from shared.logging import get_logger

log = get_logger(__name__)

Round = Callable[[], Awaitable[int]]
"""Handles up to one batch of due work; answers how many items it handled."""


class RelayLoop:
    def __init__(
        self,
        *,
        name: str,
        dsn: str,
        channel: str,
        run_round: Round,
        batch_size: int,
        idle_seconds: float,
        first_backoff_seconds: float = 0.4,
        max_backoff_seconds: float = 10.0,
    ) -> None:
        self._name = name
        self._dsn = dsn
        self._channel = channel
        self._run_round = run_round
        self._batch_size = batch_size
        self._idle_seconds = idle_seconds
        self._first_backoff = first_backoff_seconds
        self._max_backoff = max_backoff_seconds
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        """Finish the round under way, then stop."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        listener = asyncio.create_task(
            listen_forever(self._dsn, self._channel, self._wake.set, self._stopping), name=f"{self._name}-listen"
        )
        failures = 0
        try:
            while not self._stopping.is_set():
                # Cleared before the round, not after: a wake-up (a NOTIFY, new work, stop()) that
                # arrives while the round runs must not be lost to a full idle wait.
                self._wake.clear()
                try:
                    handled = await self._run_round()
                    failures = 0
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    failures += 1
                    wait = backoff_seconds(
                        failures,
                        first=self._first_backoff,
                        cap=self._max_backoff,
                        jitter=random.random(),  # noqa: S311 - spreading retries, not a secret
                    )
                    log.warning("relay round failed, will retry", relay=self._name, error=str(error), retry_in=wait)
                    # Only stop() cuts a backoff short; new work arriving while the far side is away does not.
                    await self._sleep(wait, self._stopping)
                    continue
                if handled < self._batch_size:
                    await self._sleep(self._idle_seconds, self._wake)
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    @staticmethod
    async def _sleep(seconds: float, until: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(until.wait(), timeout=seconds)
