"""A run effect written as one statement (:class:`shared.messaging.inbox.OneStatementRun`), on the real
database: a batch wholly of its type, or a lone event, is recorded in the inbox and applied in that one
statement, outside a transaction block; it stays all or nothing, applies each message once, and a
batch of several types still applies it as a run after the inbox's own insert."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any, ClassVar, Literal, cast

import asyncpg
import pytest

from shared.contracts.envelope import Envelope
from shared.messaging.inbox import InboxBatcher, OneStatementRun, in_runs
from tests.conftest import SuiteEnvironment
from tests.support import Ping, PingData, effects_pool

EFFECT_SQL = (
    "INSERT INTO effects (n) SELECT p.n FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS p(message_id, n, i)"
    " JOIN fresh ON fresh.message_id = p.message_id ORDER BY p.i"
)
RECORD_PINGS = OneStatementRun(EFFECT_SQL, lambda events: ([e.message_id for e in events], [e.data.n for e in events]))


class Other(Envelope):
    """A second event type, applied by a handler of its own, so that a batch can hold two types."""

    event_type: ClassVar[str] = "test.other"
    type: Literal["test.other"] = "test.other"
    data: PingData


class RecordingPool:
    """The pool, answering connections that note every query they send (BEGIN and COMMIT too)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.queries: list[str] = []

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[Any]:
        async with self.pool.acquire() as connection:
            connection.add_query_logger(self._note)
            try:
                yield connection
            finally:
                connection.remove_query_logger(self._note)

    def _note(self, record: Any) -> None:
        self.queries.append(record.query)

    @property
    def ours(self) -> list[str]:
        """The queries the inbox and the effects sent, leaving out asyncpg's own type lookups."""
        return [q for q in self.queries if q in {"BEGIN;", "COMMIT;"} or "inbox" in q or "effects" in q]


@pytest.fixture
async def pool(test_env: SuiteEnvironment) -> AsyncIterator[asyncpg.Pool]:
    # The check makes a negative number an effect that fails inside the statement.
    async with effects_pool(
        test_env.database_url,
        "one_statement_",
        "CREATE TABLE effects (seq bigserial PRIMARY KEY, n int NOT NULL CHECK (n >= 0))",
    ) as pool:
        yield pool


def ping(n: int) -> Ping:
    return Ping(correlation_id=f"ord_{n}", data=PingData(n=n))


async def record_one(connection: Any, event: Ping | Other) -> None:
    await connection.execute("INSERT INTO effects (n) VALUES ($1)", event.data.n)


async def applied(pool: asyncpg.Pool) -> list[int]:
    return [row["n"] for row in await pool.fetch("SELECT n FROM effects ORDER BY seq")]


async def inbox_ids(pool: asyncpg.Pool) -> set[str]:
    return {row["message_id"] for row in await pool.fetch("SELECT message_id FROM inbox WHERE consumer = 'tests'")}


def batcher_on(pool: RecordingPool, **options: Any) -> InboxBatcher:
    return InboxBatcher(
        cast(asyncpg.Pool, pool),
        "tests",
        record_one,
        max_batch=64,
        concurrency=1,
        statement_runs={Ping.event_type: RECORD_PINGS},
        **options,
    )


async def test_batches_of_the_run_s_type_take_one_statement_each_and_apply_every_message_once(
    pool: asyncpg.Pool,
) -> None:
    recording = RecordingPool(pool)
    batcher = batcher_on(recording)
    first = [ping(n) for n in range(10)]
    assert await batcher(first[0]) is True  # a lone event
    assert await asyncio.gather(*(batcher(event) for event in first[1:])) == [True] * 9  # waiting together
    assert batcher.sizes == [1, 9]
    assert await applied(pool) == list(range(10))
    # One statement per batch, each the inbox insert joined with the effect: no BEGIN, no COMMIT.
    assert len(recording.ours) == 2
    assert all(query.startswith("WITH fresh AS (  INSERT INTO inbox") for query in recording.ours)

    # Redeliveries of 0-4, 10-14 new, and 12 twice in the batch: the effect of each message once.
    again = [*first[:5], *(ping(n) for n in range(10, 15))]
    again.append(again[7])
    assert await asyncio.gather(*(batcher(event) for event in again)) == [False] * 5 + [True] * 5 + [False]
    assert await applied(pool) == list(range(15))
    assert await inbox_ids(pool) == {event.message_id for event in again + first}
    assert batcher.applied == 15


async def test_a_statement_that_fails_records_nothing_and_its_batch_is_applied_one_by_one(
    pool: asyncpg.Pool,
) -> None:
    batcher = batcher_on(RecordingPool(pool))
    events = [ping(20), ping(-1), ping(21)]
    outcomes = await asyncio.gather(*(batcher(event) for event in events), return_exceptions=True)
    assert outcomes[0] is True and outcomes[2] is True
    assert isinstance(outcomes[1], asyncpg.CheckViolationError)
    assert await applied(pool) == [20, 21]
    # The inbox row of the failed message went with its effect: a redelivery will try it again.
    assert await inbox_ids(pool) == {events[0].message_id, events[2].message_id}


async def test_in_a_batch_of_several_types_the_run_follows_the_inbox_insert_in_its_transaction(
    pool: asyncpg.Pool,
) -> None:
    recording = RecordingPool(pool)
    effect = in_runs({Ping.event_type: record_one, Other.event_type: record_one}, {Ping.event_type: RECORD_PINGS})
    batcher = batcher_on(recording, effect_many=effect)
    known = ping(0)
    assert await batcher(known) is True
    recording.queries.clear()
    events: Sequence[Ping | Other] = [
        known,
        ping(1),
        ping(2),
        Other(correlation_id="ord_3", data=PingData(n=3)),
        ping(4),
    ]
    outcomes = await asyncio.gather(*(batcher(event) for event in events))
    assert outcomes == [False, True, True, True, True]
    assert await applied(pool) == [0, 1, 2, 3, 4]
    assert batcher.sizes == [1, 5]  # the known event alone before, then the five together
    # BEGIN, the inbox insert, the run of two pings, the other event, the last ping as a run, COMMIT.
    ours = recording.ours
    assert len(ours) == 6
    assert ours[0] == "BEGIN;" and ours[-1] == "COMMIT;"
    assert [query.startswith("WITH fresh AS (SELECT unnest") for query in ours[2:5]] == [True, False, True]
