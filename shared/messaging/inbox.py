"""The inbox guard: a consumer applies a message's effect and records its ``message_id`` in one
transaction, so a redelivered message changes nothing.

:func:`apply_once` does that for one message. :class:`InboxBatcher` does it for the deliveries of a
queue that arrive while the previous transaction is committing, or within a few milliseconds of each
other under load: many messages, one transaction, one commit. Under light load a batch is one message
and nothing waits; under heavy load the commits (and the pool round trips around them) are shared,
which is where a consumer's time went.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.contracts.envelope import Envelope
from shared.db import Connection
from shared.logging import get_logger
from shared.messaging.batching import Batcher
from shared.messaging.linger import DEFAULT_LINGER_SECONDS

log = get_logger(__name__)

Announced = bool | None
"""What an effect answers of the outbox: ``False`` when it wrote no event there, so the relay need not
be woken for it; ``True`` or ``None`` (an effect that does not say) when it may have."""
Effect = Callable[[Connection], Awaitable[None]]
EventEffect = Callable[[Connection, Any], Awaitable[Announced]]
"""Applies one event inside the inbox transaction: ``effect(connection, event)``."""
EventsEffect = Callable[[Connection, Sequence[Any]], Awaitable[Announced]]
"""Applies the fresh events of a batch, in order, inside its transaction: ``effect_many(connection,
events)``; what applying :data:`EventEffect` to each in turn would do."""


def may_have_announced(answers: Sequence[Announced]) -> bool:
    """Whether effects that answered ``answers`` may have written outbox events."""
    return any(answer is not False for answer in answers)


RECORD_SQL = (
    "INSERT INTO inbox (consumer, message_id, message_type) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING true"
)
RECORD_MANY_SQL = (
    "INSERT INTO inbox (consumer, message_id, message_type)"
    " SELECT $1, m.id, m.type FROM unnest($2::text[], $3::text[]) AS m(id, type)"
    " ON CONFLICT DO NOTHING RETURNING message_id"
)


@dataclass(frozen=True)
class OneStatementRun:
    """A run effect written as one data-modifying SQL statement, which the inbox's own insert can join:
    a batch wholly of its event type is then applied in one statement, outside any transaction block,
    where it would otherwise take four round trips (BEGIN, the inbox insert, the effect, COMMIT).

    ``sql`` is the effect (an ``INSERT``, ``UPDATE`` or ``DELETE``; run as a CTE, so it sees the
    database as the statement began). Its parameters are ``$1`` to ``$k``, ``arguments(events)``
    answers them (``k`` of them) for the events of the run, and it reads the CTE ``fresh(message_id)``,
    the messages of the run that the consumer had not applied: it must leave out the rows of a message
    that is not in ``fresh`` (join it on the message id) as the inbox leaves a duplicate's effect out.
    The events it is given are distinct messages, in the batch's order.

    Called as an :data:`EventsEffect` (a run inside a batch of several types, whose inbox insert has
    run already), ``fresh`` is every event it is given.
    """

    sql: str
    arguments: Callable[[Sequence[Any]], Sequence[object]]

    async def __call__(self, connection: Connection, events: Sequence[Any]) -> None:
        arguments = self.arguments(events)
        await connection.execute(
            _effect_of_given(self.sql, len(arguments)), *arguments, [event.message_id for event in events]
        )

    async def apply_fresh(self, connection: Connection, consumer: str, events: Sequence[Envelope]) -> set[str]:
        """Record ``events`` in the inbox and apply the effect of those that were not, in one statement;
        answers the message ids that were fresh."""
        arguments = self.arguments(events)
        rows = await connection.fetch(
            _effect_with_inbox(self.sql, len(arguments)),
            *arguments,
            consumer,
            [event.message_id for event in events],
            [event.type for event in events],
        )
        return {row["message_id"] for row in rows}


@functools.cache
def _effect_of_given(effect: str, count: int) -> str:
    return f"WITH fresh AS (SELECT unnest(${count + 1}::text[]) AS message_id), effect AS ({effect}) SELECT 1"


@functools.cache
def _effect_with_inbox(effect: str, count: int) -> str:
    return (
        "WITH fresh AS ("  # noqa: S608 - the effect is a run's constant SQL, the rest numbers
        "  INSERT INTO inbox (consumer, message_id, message_type)"
        f"  SELECT ${count + 1}, m.id, m.type FROM unnest(${count + 2}::text[], ${count + 3}::text[]) AS m(id, type)"
        "  ON CONFLICT DO NOTHING RETURNING message_id"
        f"), effect AS ({effect}) SELECT message_id FROM fresh"
    )


def in_runs(each: Mapping[str, EventEffect], runs: Mapping[str, EventsEffect]) -> EventsEffect:
    """One effect for a batch's events, by event type: a run of consecutive events of a type in ``runs``
    goes to that handler in one call, any other event to its handler in ``each``, in the batch's order."""

    async def apply(connection: Connection, events: Sequence[Envelope]) -> bool:
        answers: list[Announced] = []
        for kind, run in itertools.groupby(events, key=lambda event: event.type):
            if kind in runs:
                answers.append(await runs[kind](connection, list(run)))
            else:
                for event in run:
                    answers.append(await each[kind](connection, event))
        return may_have_announced(answers)

    return apply


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


class InboxBatcher:
    """A queue's handler that applies events through the inbox, as many per transaction as are waiting.

    Called once per delivery (the broker hands over up to ``prefetch`` deliveries at once); each call
    answers, like :func:`apply_once`, whether the effect ran, or raises what applying *that* event
    raised. Batches form as :class:`shared.messaging.batching.Batcher` forms them: what waits while
    earlier batches commit, and what arrives while a batch lingers up to ``linger_seconds`` for more
    under load; taken in arrival order and applied in it, up to ``concurrency`` batches at once, each
    on its own connection. (Deliveries were never applied strictly one after another: the broker hands
    several to concurrent handlers, so effects already cope with related events racing, through row
    locks.) ``max_batch`` bounds how long the first event of a batch waits for the last. A batch that
    fails is rolled back and its events are applied again one per transaction, so one bad event costs
    the others nothing but a second try and every caller sees its own outcome.

    ``on_applied`` is called after each commit that applied events, unless every effect that ran
    answered that it wrote nothing to the outbox (:data:`Announced`): it wakes the service's relay.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        consumer: str,
        effect: EventEffect,
        *,
        max_batch: int = 32,
        concurrency: int = 2,
        linger_seconds: float = DEFAULT_LINGER_SECONDS,
        on_applied: Callable[[], None] | None = None,
        on_batch: Callable[[int], None] | None = None,
        description: str | None = None,
        effect_many: EventsEffect | None = None,
        statement_runs: Mapping[str, OneStatementRun] | None = None,
    ) -> None:
        self._pool = pool
        self._statement_runs = dict(statement_runs or {})
        self._consumer = consumer
        self._effect = effect
        self._effect_many = effect_many or self._each
        self._on_applied = on_applied
        self._batcher: Batcher[Envelope, bool] = Batcher(
            f"inbox-{consumer}",
            self._apply_together,
            self._apply_alone,
            max_batch=max_batch,
            concurrency=concurrency,
            linger_seconds=linger_seconds,
            on_batch=on_batch,
        )
        self.__doc__ = description or effect.__doc__
        self.applied = 0

    @property
    def batches(self) -> int:
        return self._batcher.batches

    @property
    def sizes(self) -> list[int]:
        """The size of each batch taken, most recent last."""
        return self._batcher.sizes

    async def __call__(self, event: Envelope) -> bool:
        return await self._batcher(event)

    async def _apply_together(self, events: Sequence[Envelope]) -> list[bool]:
        kinds = {event.type for event in events}
        if len(kinds) == 1 and (run := self._statement_runs.get(events[0].type)) is not None:
            return await self._apply_in_one_statement(run, events)
        async with self._pool.acquire() as connection, connection.transaction():
            rows = await connection.fetch(
                RECORD_MANY_SQL, self._consumer, [e.message_id for e in events], [e.type for e in events]
            )
            ran = _first_copies(events, {row["message_id"] for row in rows})
            fresh = [event for event, first in zip(events, ran, strict=True) if first]
            announced = await self._effect_many(connection, fresh) if fresh else False
        self._applied(sum(ran), announced)
        return ran

    async def _each(self, connection: Connection, events: Sequence[Envelope]) -> bool:
        return may_have_announced([await self._effect(connection, event) for event in events])

    async def _apply_in_one_statement(self, run: OneStatementRun, events: Sequence[Envelope]) -> list[bool]:
        first_copies: dict[str, Envelope] = {}
        for event in events:
            first_copies.setdefault(event.message_id, event)
        async with self._pool.acquire() as connection:
            first_time = await run.apply_fresh(connection, self._consumer, list(first_copies.values()))
        ran = _first_copies(events, first_time)
        self._applied(sum(ran), announced=None)
        return ran

    async def _apply_alone(self, event: Envelope) -> bool:
        if (run := self._statement_runs.get(event.type)) is not None:
            return (await self._apply_in_one_statement(run, [event]))[0]
        answers: list[Announced] = []

        async def effect(connection: Connection) -> None:
            answers.append(await self._effect(connection, event))

        ran = await apply_once(self._pool, self._consumer, event, effect)
        self._applied(int(ran), may_have_announced(answers))
        return ran

    def _applied(self, count: int, announced: Announced) -> None:
        """``count`` events applied; their effects answered ``announced`` (see :data:`Announced`)."""
        self.applied += count
        if count and announced is not False and self._on_applied is not None:
            self._on_applied()


def _first_copies(events: Sequence[Envelope], first_time: set[str]) -> list[bool]:
    """For each of ``events``, whether its effect ran: its message was new to the inbox, and this is
    the first copy of it in the batch (a second copy in the same batch is a duplicate)."""
    fresh = set(first_time)
    ran: list[bool] = []
    for event in events:
        ran.append(event.message_id in fresh)
        fresh.discard(event.message_id)
    return ran
