"""Batches that form under load, on the real database and broker: the linger stays bounded, a crash
between a batch's commit and its multiple-ack redelivers the batch and the inbox applies nothing twice,
and intake's group commit answers every order on its own when one among them is refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import pytest
from prometheus_client import CollectorRegistry
from pydantic import TypeAdapter

import services.intake
from services.intake import use_cases
from services.intake.domain import ADMIN, OrderRequest, UnknownChannel
from services.intake.repository import PostgresDatabase
from shared.db import create_pool, migrate, migration_files
from shared.messaging.acks import BatchAcks
from shared.messaging.batching import Batcher
from shared.messaging.broker import connect, make_broker
from shared.messaging.consumer import ConsumerMetrics, DeliveryGuard, subscribe_guarded
from shared.messaging.inbox import InboxBatcher
from shared.messaging.topology import QueueSpec, Topology, declare_queue
from tests.conftest import SuiteEnvironment
from tests.support import AMQP_URL, Ping, PingData, effects_pool, unique, wait_until


@pytest.fixture
async def pool(test_env: SuiteEnvironment) -> AsyncIterator[asyncpg.Pool]:
    async with effects_pool(
        test_env.database_url, "forming_", "CREATE TABLE effects (seq bigserial PRIMARY KEY, n int NOT NULL)"
    ) as pool:
        yield pool


def ping(n: int) -> Ping:
    return Ping(correlation_id=f"ord_{n}", data=PingData(n=n))


async def record(connection: Any, event: Ping) -> None:
    await connection.execute("INSERT INTO effects (n) VALUES ($1)", event.data.n)


async def applied(pool: asyncpg.Pool) -> list[int]:
    return [row["n"] for row in await pool.fetch("SELECT n FROM effects ORDER BY seq")]


async def test_a_lone_item_goes_at_once_and_a_stream_fills_batches_up_to_the_bound() -> None:
    taken: list[list[int]] = []

    async def together(items: Sequence[int]) -> list[int]:
        taken.append(list(items))
        return list(items)

    async def alone(item: int) -> int:
        taken.append([item])
        return item

    # A linger of a minute: only the policy keeps a lone item from waiting for it.
    batcher: Batcher[int, int] = Batcher("tests", together, alone, max_batch=8, concurrency=1, linger_seconds=60)
    assert await asyncio.wait_for(batcher(0), timeout=5) == 0
    assert taken == [[0]]

    # Items arriving one after another, much faster than the linger: batches fill and go when full.
    async def stream() -> list[int]:
        calls = []
        for n in range(1, 41):
            calls.append(asyncio.create_task(batcher(n)))
            await asyncio.sleep(0.0005)
        return list(await asyncio.gather(*calls))

    assert await asyncio.wait_for(stream(), timeout=30) == list(range(1, 41))
    sizes = batcher.sizes[1:]
    assert max(sizes) == 8  # never past the bound
    assert sum(sizes) == 40
    assert sum(size == 8 for size in sizes) >= 3  # they lingered to fill rather than going one by one
    assert [n for batch in taken[1:] for n in batch] == list(range(1, 41))  # in arrival order


class LostAcks(BatchAcks):
    """The process dies after its transactions committed and before any acknowledgement went out."""

    def ack(self, message: Any) -> None:
        pass


async def consume_all(
    pool: asyncpg.Pool,
    amqp: Any,
    topology: Topology,
    spec: QueueSpec,
    acks: BatchAcks,
    until: Any,
    *,
    sizes: list[int] | None = None,
) -> InboxBatcher:
    batcher = InboxBatcher(pool, "tests", record, on_batch=None if sizes is None else sizes.append)
    # A prefetch above the message count: without acknowledgements the broker hands over no more than it.
    broker = make_broker(AMQP_URL, service="tests", prefetch_count=256)
    guard = DeliveryGuard(
        amqp=amqp,
        topology=topology,
        spec=spec,
        adapter=TypeAdapter(Ping),
        handler=batcher,
        metrics=ConsumerMetrics(CollectorRegistry()),
        acks=acks,
    )
    subscribe_guarded(broker, topology.queue(spec), guard)
    await broker.start()
    try:
        await wait_until(until, timeout=60)
    finally:
        await broker.stop()
    return batcher


async def test_a_crash_between_commit_and_ack_redelivers_the_batch_and_the_inbox_applies_each_once(
    pool: asyncpg.Pool, test_env: SuiteEnvironment
) -> None:
    topology = Topology(test_env.namespace, delivery_limit=3)
    routing_key = unique("test.forming.")
    spec = QueueSpec(unique("test.q"), (), "tests", (routing_key,))
    amqp = await connect(AMQP_URL, name="dropship-tests")
    channel = await amqp.channel(publisher_confirms=True, on_return_raises=True)
    try:
        await declare_queue(channel, topology, spec)
        exchange = await channel.get_exchange(topology.exchange)
        events = [ping(n) for n in range(120)]
        for event in events:
            await exchange.publish(
                aio_pika.Message(event.model_dump_json().encode(), message_id=event.message_id, delivery_mode=2),
                routing_key,
                mandatory=True,
            )

        async def all_applied() -> bool:
            return len(await applied(pool)) == 120

        first = await consume_all(pool, amqp, topology, spec, LostAcks(), all_applied)
        assert max(first.sizes) > 1  # batches formed, so whole batches went unacknowledged
        assert sorted(await applied(pool)) == list(range(120))

        # Every delivery comes again (none was acknowledged); the inbox knows each one.
        acks = BatchAcks()

        async def drained() -> bool:
            declared = await channel.declare_queue(topology.queue(spec), passive=True)
            return sum(second_sizes) >= 120 and declared.declaration_result.message_count == 0

        second_sizes: list[int] = []
        second = await consume_all(pool, amqp, topology, spec, acks, drained, sizes=second_sizes)
        declared = await channel.declare_queue(topology.queue(spec), passive=True)
        assert declared.declaration_result.message_count == 0  # all acknowledged: none came back on stop
        assert second.applied == 0
        assert sum(second.sizes) >= 120
        assert sorted(await applied(pool)) == list(range(120))  # nothing applied twice
        # Fewer acknowledgements than deliveries: runs of them went out as one multiple-ack.
        assert acks.acks_sent < 120
    finally:
        await channel.close()
        await amqp.close()


@pytest.fixture
async def intake_pool(test_env: SuiteEnvironment) -> AsyncIterator[asyncpg.Pool]:
    schema = unique("intake_gc_")
    await migrate(test_env.database_url, schema, migration_files(Path(services.intake.__file__).parent))
    pool = await create_pool(test_env.database_url, schema)
    await pool.execute(
        "INSERT INTO channels (code, name, webhook_url, webhook_secret, api_key_hash)"
        " VALUES ('shop', 'Shop', NULL, 'x', 'h')"
    )
    try:
        yield pool
    finally:
        await pool.close()


def order_request(channel: str, external_id: str) -> OrderRequest:
    return OrderRequest.model_validate(
        {
            "channel": channel,
            "external_id": external_id,
            "order_number": f"N{external_id}",
            "ordered_at": "2026-11-26T23:41:00-06:00",
            "currency": "USD",
            "ship_to": {
                "name": "Jo",
                "address1": "1 Main St",
                "city": "Springfield",
                "state": "IL",
                "postal_code": "62701",
                "country": "US",
            },
            "lines": [{"line_id": "L1", "sku": "MUG", "name": "Mug", "quantity": 2, "unit_price": "9.50"}],
        }
    )


async def test_group_commit_answers_each_order_and_one_refused_order_costs_the_others_nothing(
    intake_pool: asyncpg.Pool,
) -> None:
    db = PostgresDatabase(intake_pool)
    requests = [order_request("shop", f"E{n}") for n in range(30)]
    requests[12] = order_request("ghost", "E12")  # an unknown channel fails its statement
    requests[20] = order_request("shop", "E3")  # the same order twice in one batch

    async def post(request: OrderRequest) -> Any:
        return await use_cases.create_order(db, request, ADMIN, outbox_written=lambda: None)

    answers = await asyncio.gather(*(post(request) for request in requests), return_exceptions=True)
    assert isinstance(answers[12], UnknownChannel)
    fine = [answer for index, answer in enumerate(answers) if index != 12]
    assert all(isinstance(answer, use_cases.Answer) for answer in fine)
    assert sum(answer.changed for answer in fine if isinstance(answer, use_cases.Answer)) == 28  # once each
    same, first = answers[20], answers[3]
    assert isinstance(same, use_cases.Answer) and isinstance(first, use_cases.Answer)
    assert same.body["id"] == first.body["id"]
    assert max(db.orders_together.sizes) > 1  # they really went together first

    stored = await intake_pool.fetch("SELECT id, external_id FROM orders ORDER BY external_id")
    assert len(stored) == 28
    events = await intake_pool.fetch("SELECT correlation_id, message_type FROM outbox")
    assert sorted(row["correlation_id"] for row in events) == sorted(row["id"] for row in stored)
    assert {row["message_type"] for row in events} == {"order.received"}
    history = await intake_pool.fetchval("SELECT count(*) FROM order_status_history WHERE status = 'received'")
    assert history == 28
