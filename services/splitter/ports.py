"""What the splitter's commands need from outside: the pool a command borrows a connection from, the
broker's vendor queues and the outbox relay. The real ones are the asyncpg pool and the runtime, wired
once by :mod:`services.splitter.app`. The tables are :mod:`services.splitter.store`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from shared.db import Connection


class Database(Protocol):
    """Where a command borrows its connection (an asyncpg pool)."""

    def acquire(self) -> AbstractAsyncContextManager[Connection]: ...


@dataclass(frozen=True)
class SplitterPorts:
    """What the commands use from outside, built once by the composition root."""

    pool: Database
    declare_vendor_queue: Callable[[str], Awaitable[None]]
    """Declares ``vendor.<code>`` on the broker (idempotent)."""
    wake_relay: Callable[[], None]
    """Tells the outbox relay that committed events wait."""
