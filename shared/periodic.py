"""The one loop for work done again every few seconds until stopped (gauges read from a service's own
tables): a failed round is logged and keeps what the last one left, and the next round tries again."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from shared.logging import get_logger

log = get_logger(__name__)


class Every:
    """:meth:`run` does its work now and then every few seconds until :meth:`stop` (which cuts the wait
    short, and makes a run not yet begun end at once)."""

    def __init__(self, *, what: str) -> None:
        self._what = what
        self._stopping = asyncio.Event()

    async def run(self, work: Callable[[], Awaitable[None]], seconds: float) -> None:
        while not self._stopping.is_set():
            try:
                await work()
            except Exception as error:  # the database restarting, say: the last figures stand until the next round
                log.warning(f"{self._what} not refreshed", error=f"{type(error).__name__}: {error}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def stop(self) -> None:
        self._stopping.set()
