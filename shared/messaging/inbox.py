"""The inbox guard: a consumer applies a message's effect and records its ``message_id`` in one
transaction, so a redelivered message changes nothing.

:func:`apply_once` does that for one message. :class:`InboxBatcher` does it for the deliveries of a
queue that arrive while the previous transaction is committing: many messages, one transaction, one
commit. Under light load a batch is one message and nothing waits; under heavy load the commits (and
the pool round trips around them) are shared, which is where a consumer's time went.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from shared.contracts.envelope import Envelope
from shared.db import Connection
from shared.logging import get_logger

log = get_logger(__name__)

Effect = Callable[[Connection], Awaitable[None]]
EventEffect = Callable[[Connection, Any], Awaitable[None]]
"""Applies one event inside the inbox transaction: ``effect(connection, event)``."""

RECORD_SQL = (
    "INSERT INTO inbox (consumer, message_id, message_type) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING true"
)
RECORD_MANY_SQL = (
    "INSERT INTO inbox (consumer, message_id, message_type)"
    " SELECT $1, m.id, m.type FROM unnest($2::text[], $3::text[]) AS m(id, type)"
    " ON CONFLICT DO NOTHING RETURNING message_id"
)


async def apply_once(pool: asyncpg.Pool, consumer: str, event: Envelope, effect: Effect) -> bool:
    """Run ``effect`` in a transaction unless ``consumer`` applied ``event`` before.

    Answers whether the effect ran. If ``effect`` raises, nothing is recorded and the message is
    redelivered by the broker.
    """
    async with pool.acquire() as connection, connection.transaction():
        first_time = await connection.fetchval(RECORD_SQL, consumer, event.message_id, event.type)
        if not first_time:
            return False
        await effect(connection)
        return True


@dataclass
class _Pending:
    event: Envelope
    outcome: asyncio.Future[bool] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class InboxBatcher:
    """A queue's handler that applies events through the inbox, as many per transaction as are waiting.

    Called once per delivery (the broker hands over up to ``prefetch`` deliveries at once); each call
    answers, like :func:`apply_once`, whether the effect ran, or raises what applying *that* event
    raised. Batches are taken in arrival order and applied in it; up to ``concurrency`` batches run
    at once, each on its own connection. (Deliveries were never applied strictly one after another:
    the broker hands several to concurrent handlers, so effects already cope with related events
    racing, through row locks.) ``max_batch`` bounds how long the first event of a batch waits for
    the last. A batch that fails is rolled back and its events are applied again one per
    transaction, so one bad event costs the others nothing but a second try and every caller sees its
    own outcome.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        consumer: str,
        effect: EventEffect,
        *,
        max_batch: int = 32,
        concurrency: int = 2,
        on_applied: Callable[[], None] | None = None,
        on_batch: Callable[[int], None] | None = None,
        description: str | None = None,
    ) -> None:
        self._pool = pool
        self._consumer = consumer
        self._effect = effect
        self._max_batch = max_batch
        self._concurrency = concurrency
        self._on_applied = on_applied
        self._on_batch = on_batch
        self._waiting: list[_Pending] = []
        self._workers: set[asyncio.Task[None]] = set()
        self.__doc__ = description or effect.__doc__
        self.batches = 0
        self.applied = 0

    async def __call__(self, event: Envelope) -> bool:
        pending = _Pending(event)
        self._waiting.append(pending)
        # A worker that has not finished will look at the waiting list again before it ends.
        if sum(not worker.done() for worker in self._workers) < self._concurrency:
            worker = asyncio.create_task(self._work(), name=f"inbox-{self._consumer}")
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)
        # shield: a caller cancelled mid-batch (a stopping consumer) must not cancel the batch the
        # other callers wait on; the transaction either commits for all of them or for none.
        return await asyncio.shield(pending.outcome)

    async def _work(self) -> None:
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            try:
                await self._apply(batch)
            except BaseException as error:  # never leave a caller waiting forever
                for pending in batch:
                    if not pending.outcome.done():
                        pending.outcome.set_exception(error)
                if isinstance(error, asyncio.CancelledError):
                    raise

    async def _apply(self, batch: Sequence[_Pending]) -> None:
        self.batches += 1
        if self._on_batch is not None:
            self._on_batch(len(batch))
        if len(batch) == 1:
            await self._apply_alone(batch[0])
            return
        try:
            ran = await self._apply_together(batch)
        except Exception as error:
            log.debug("batch failed, applying its events one by one", consumer=self._consumer, error=str(error))
            for pending in batch:
                await self._apply_alone(pending)
            return
        self._applied(sum(ran))
        for pending, outcome in zip(batch, ran, strict=True):
            pending.outcome.set_result(outcome)

    async def _apply_together(self, batch: Sequence[_Pending]) -> list[bool]:
        events = [pending.event for pending in batch]
        async with self._pool.acquire() as connection, connection.transaction():
            rows = await connection.fetch(
                RECORD_MANY_SQL, self._consumer, [e.message_id for e in events], [e.type for e in events]
            )
            first_time = {row["message_id"] for row in rows}
            ran: list[bool] = []
            for event in events:
                fresh = event.message_id in first_time
                first_time.discard(event.message_id)  # a second copy in the same batch is a duplicate
                if fresh:
                    await self._effect(connection, event)
                ran.append(fresh)
        return ran

    async def _apply_alone(self, pending: _Pending) -> None:
        event = pending.event
        try:
            ran = await apply_once(self._pool, self._consumer, event, lambda c: self._effect(c, event))
        except Exception as error:
            pending.outcome.set_exception(error)
            return
        self._applied(int(ran))
        pending.outcome.set_result(ran)

    def _applied(self, count: int) -> None:
        self.applied += count
        if count and self._on_applied is not None:
            self._on_applied()
