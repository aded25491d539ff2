"""The inbox batcher on the real database and broker: many deliveries per transaction, each applied
exactly once and in order, and one bad event costing the others nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aio_pika
import asyncpg
import pytest

from shared.messaging.broker import connect
from shared.messaging.inbox import InboxBatcher, apply_once
from shared.messaging.topology import QueueSpec, Topology, declare_queue
from tests.conftest import SuiteEnvironment
from tests.support import AMQP_URL, Ping, PingData, effects_pool, guarded_test_broker, unique, wait_until


@pytest.fixture
async def pool(test_env: SuiteEnvironment) -> AsyncIterator[asyncpg.Pool]:
    async with effects_pool(
        test_env.database_url, "batch_", "CREATE TABLE effects (seq bigserial PRIMARY KEY, n int NOT NULL)"
    ) as pool:
        yield pool


def ping(n: int) -> Ping:
    return Ping(correlation_id=f"ord_{n}", data=PingData(n=n))


async def record(connection: Any, event: Ping) -> None:
    if event.data.n < 0:
        await connection.execute("INSERT INTO effects (n) VALUES ($1)", event.data.n)  # undone by the rollback
        raise ValueError(f"event {event.data.n} can never be applied")
    await connection.execute("INSERT INTO effects (n) VALUES ($1)", event.data.n)


async def applied(pool: asyncpg.Pool) -> list[int]:
    return [row["n"] for row in await pool.fetch("SELECT n FROM effects ORDER BY seq")]


async def test_concurrent_deliveries_share_transactions_and_apply_in_arrival_order(pool: asyncpg.Pool) -> None:
    batcher = InboxBatcher(pool, "tests", record, max_batch=64, concurrency=1)
    events = [ping(n) for n in range(200)]
    outcomes = await asyncio.gather(*(batcher(event) for event in events))
    assert outcomes == [True] * 200
    assert await applied(pool) == list(range(200))
    # Everything waiting goes in batches of at most 64 (the first batch may be smaller).
    assert 4 <= batcher.batches < 20
    assert batcher.applied == 200
    assert await pool.fetchval("SELECT count(*) FROM inbox WHERE consumer = 'tests'") == 200


async def test_batches_run_side_by_side_up_to_the_concurrency(pool: asyncpg.Pool) -> None:
    running = 0
    most = 0

    async def slow(connection: Any, event: Ping) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        await record(connection, event)
        running -= 1

    batcher = InboxBatcher(pool, "tests", slow, max_batch=10, concurrency=3)
    assert await asyncio.gather(*(batcher(ping(n)) for n in range(90))) == [True] * 90
    assert most == 3
    assert sorted(await applied(pool)) == list(range(90))
    assert batcher.batches == 9
    # And a delivery arriving after every worker finished is still picked up.
    assert await batcher(ping(1000)) is True


async def test_a_redelivery_changes_nothing_in_a_batch_or_after_it(pool: asyncpg.Pool) -> None:
    batcher = InboxBatcher(pool, "tests", record)
    first, second = ping(1), ping(2)
    assert await apply_once(pool, "tests", first, lambda c: record(c, first))
    # ``first`` again (applied before), ``second`` twice in the same batch.
    outcomes = await asyncio.gather(batcher(ping(0)), batcher(first), batcher(second), batcher(second))
    assert list(outcomes) == [True, False, True, False]
    assert sorted(await applied(pool)) == [0, 1, 2]


async def test_one_failing_event_gets_its_own_error_and_the_rest_of_its_batch_is_applied(
    pool: asyncpg.Pool,
) -> None:
    woken: list[int] = []
    batcher = InboxBatcher(pool, "tests", record, on_applied=lambda: woken.append(1))
    events = [ping(n) for n in range(1, 31)]
    events.insert(15, ping(-7))
    outcomes = await asyncio.gather(*(batcher(event) for event in events), return_exceptions=True)
    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert len(errors) == 1
    assert isinstance(errors[0], ValueError)
    assert "-7" in str(errors[0])
    assert isinstance(outcomes[15], ValueError)
    assert await applied(pool) == list(range(1, 31))  # nothing of the failed event remains, order kept
    # Not recorded in the inbox, so its redelivery will be applied (or parked) normally.
    assert not await pool.fetchval("SELECT count(*) FROM inbox WHERE message_id = $1", events[15].message_id)
    assert woken  # the relay is woken once something was applied


async def test_the_relay_is_woken_unless_every_effect_answers_it_announced_nothing(pool: asyncpg.Pool) -> None:
    """An effect answers ``False`` when it wrote no outbox event (tracking's order.received, mostly):
    a batch of only such effects leaves the relay asleep, a round that would find nothing. Any effect
    that answers ``True`` or nothing wakes it, in a batch, alone, or through a run handler."""
    woken: list[int] = []

    async def quiet_for_even(connection: Any, event: Ping) -> bool | None:
        await record(connection, event)
        return None if event.data.n % 2 else False

    async def quiet_run(connection: Any, events: Sequence[Ping]) -> bool:
        for event in events:
            await record(connection, event)
        return any(event.data.n % 2 for event in events)

    for effect_many in (None, quiet_run):
        batcher = InboxBatcher(
            pool,
            unique("tests-"),
            quiet_for_even,
            max_batch=64,
            effect_many=effect_many,
            on_applied=lambda: woken.append(1),
        )
        woken.clear()
        quiet = [ping(n) for n in (2, 4, 6, 8)]
        assert await asyncio.gather(*(batcher(event) for event in quiet)) == [True] * 4
        assert await batcher(ping(10)) is True
        assert woken == [], "only quiet effects ran"
        batches = batcher.batches
        assert await asyncio.gather(*(batcher(ping(n)) for n in (12, 13, 14))) == [True] * 3
        assert 1 <= len(woken) <= batcher.batches - batches, "the batch holding 13 woke the relay"
        before = len(woken)
        assert await batcher(quiet[0]) is False  # a redelivery: nothing ran, nothing to wake for
        assert await batcher(ping(15)) is True
        assert len(woken) == before + 1
        await pool.execute("TRUNCATE effects")


async def test_a_caller_that_gives_up_does_not_cancel_the_batch_others_wait_on(pool: asyncpg.Pool) -> None:
    gate = asyncio.Event()

    async def slow(connection: Any, event: Ping) -> None:
        if event.data.n == 0:
            await gate.wait()
        await record(connection, event)

    batcher = InboxBatcher(pool, "tests", slow)
    blocker = asyncio.create_task(batcher(ping(0)))
    await asyncio.sleep(0.05)
    waiting = [asyncio.create_task(batcher(ping(n))) for n in range(1, 6)]
    await asyncio.sleep(0.05)
    waiting[0].cancel()  # a consumer stopping while its delivery waits in a batch
    gate.set()
    assert await blocker is True
    assert [await task for task in waiting[1:]] == [True] * 4
    assert sorted(await applied(pool)) == [0, 1, 2, 3, 4, 5]  # the batch still committed for all


async def test_a_run_effect_gets_a_batch_s_fresh_events_at_once_and_a_failing_run_falls_back_to_each(
    pool: asyncpg.Pool,
) -> None:
    runs: list[list[int]] = []

    async def record_run(connection: Any, events: Sequence[Ping]) -> None:
        runs.append([event.data.n for event in events])
        for event in events:
            await record(connection, event)

    batcher = InboxBatcher(pool, "tests", record, max_batch=64, concurrency=1, effect_many=record_run)
    first = [ping(n) for n in range(10)]
    assert await asyncio.gather(*(batcher(event) for event in first)) == [True] * 10
    # Redeliveries of 0-4 with 10-14 new: the run effect is handed only the new ones.
    again = [*first[:5], *(ping(n) for n in range(10, 15))]
    assert await asyncio.gather(*(batcher(event) for event in again)) == [False] * 5 + [True] * 5
    assert await applied(pool) == list(range(15))
    assert [n for run in runs for n in run] == list(range(15))
    assert max(len(run) for run in runs) > 1  # the waiting deliveries came as runs, not one by one
    # A run with a poison event is rolled back and its events applied one per transaction.
    runs.clear()
    mixed = [ping(20), ping(-1), ping(21)]
    outcomes = await asyncio.gather(*(batcher(event) for event in mixed), return_exceptions=True)
    assert outcomes[0] is True and outcomes[2] is True and isinstance(outcomes[1], ValueError)
    assert await applied(pool) == [*range(15), 20, 21]


async def test_through_the_real_broker_every_message_is_applied_once_and_the_poison_is_parked(
    pool: asyncpg.Pool, test_env: SuiteEnvironment
) -> None:
    topology = Topology(test_env.namespace, delivery_limit=3)
    routing_key = unique("test.batch.")
    spec = QueueSpec(unique("test.q"), (), "tests", (routing_key,))
    amqp = await connect(AMQP_URL, name="dropship-tests")
    channel = await amqp.channel(publisher_confirms=True, on_return_raises=True)
    try:
        await declare_queue(channel, topology, spec)
        batcher = InboxBatcher(pool, "tests", record)
        broker = guarded_test_broker(amqp, topology, spec, batcher)
        exchange = await channel.get_exchange(topology.exchange)
        events = [ping(n) for n in range(300)]
        events[150] = ping(-1)
        await asyncio.gather(
            *(
                exchange.publish(
                    aio_pika.Message(e.model_dump_json().encode(), message_id=e.message_id, delivery_mode=2),
                    routing_key,
                    mandatory=True,
                )
                for e in events
            )
        )
        # Published first and consumed afterwards, so that the prefetch fills and batches form.
        await broker.start()
        try:

            async def all_applied() -> bool:
                return len(await applied(pool)) == 299

            await wait_until(all_applied, timeout=60)
            parked_queue = await channel.get_queue(topology.parked_queue(spec))

            async def parked() -> Any:
                return await parked_queue.get(no_ack=True, fail=False)

            poison = await wait_until(parked, timeout=30)
        finally:
            await broker.stop()
        # Whatever the consumer left unacknowledged is back in the queue now: the multiple-acks
        # covered every delivery, the poison's included.
        declared = await channel.declare_queue(topology.queue(spec), passive=True)
        assert declared.declaration_result.message_count == 0
        assert sorted(await applied(pool)) == sorted(n for n in range(300) if n != 150)
        assert poison.message_id == events[150].message_id
        assert "can never be applied" in str((poison.headers or {})["x-error"])
        assert batcher.batches < 299  # deliveries really were applied together
    finally:
        await channel.close()
        await amqp.close()
