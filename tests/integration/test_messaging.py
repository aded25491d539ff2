"""The messaging building blocks on the real broker and database: outbox relay, inbox, delivery guard."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import pytest

from shared.contracts.envelope import Envelope
from shared.db import create_pool, migrate, migration_files
from shared.messaging.broker import connect
from shared.messaging.consumer import DELIVERY_HEADERS
from shared.messaging.inbox import apply_once
from shared.messaging.outbox import CLAIM_SQL, OutboxRelay, enqueue, enqueue_many
from shared.messaging.topology import QueueSpec, Topology, declare_queue
from tests.conftest import SuiteEnvironment
from tests.support import AMQP_URL, Ping, PingData, guarded_test_broker, unique, wait_until


@pytest.fixture
async def schema_pool(test_env: SuiteEnvironment) -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    schema = unique("msg_")
    await migrate(test_env.database_url, schema, migration_files(Path("/nonexistent")))
    pool = await create_pool(test_env.database_url, schema)
    try:
        yield schema, pool
    finally:
        await pool.close()


@pytest.fixture
async def amqp() -> AsyncIterator[aio_pika.abc.AbstractRobustConnection]:
    connection = await connect(AMQP_URL, name="dropship-tests")
    try:
        yield connection
    finally:
        await connection.close()


async def _bound_queue(amqp: Any, topology: Topology, routing_key: str) -> tuple[QueueSpec, Any]:
    spec = QueueSpec(unique("test.q"), (), "tests", (routing_key,))
    channel = await amqp.channel()
    await declare_queue(channel, topology, spec)
    return spec, await channel.get_queue(topology.queue(spec))


async def _drain(queue: Any, expected: int, timeout: float = 30) -> list[aio_pika.abc.AbstractIncomingMessage]:
    received: list[aio_pika.abc.AbstractIncomingMessage] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(received) < expected and loop.time() < deadline:
        message = await queue.get(no_ack=True, fail=False)
        if message is None:
            await asyncio.sleep(0.05)
            continue
        received.append(message)
    # Anything beyond what we expected is a duplicate: look for it briefly.
    await asyncio.sleep(0.3)
    while (message := await queue.get(no_ack=True, fail=False)) is not None:
        received.append(message)
    return received


def _relay(
    pool: asyncpg.Pool, schema: str, amqp: Any, topology: Topology, test_env: SuiteEnvironment, **kw: Any
) -> OutboxRelay:
    return OutboxRelay(
        pool=pool, dsn=test_env.database_url, schema=schema, connection=amqp, topology=topology, app_id="tests", **kw
    )


async def test_relay_publishes_every_row_once_in_order_and_marks_it(
    schema_pool: tuple[str, asyncpg.Pool], amqp: Any, test_env: SuiteEnvironment
) -> None:
    schema, pool = schema_pool
    topology = Topology(test_env.namespace)
    routing_key = unique("test.ping.")
    _, queue = await _bound_queue(amqp, topology, routing_key)
    events = [Ping(correlation_id="ord_1", data=PingData(n=i)) for i in range(500)]
    async with pool.acquire() as connection, connection.transaction():
        for event in events:
            await connection.execute(
                "INSERT INTO outbox (message_id, routing_key, message_type, correlation_id, body)"
                " VALUES ($1, $2, $3, $4, $5)",
                event.message_id,
                routing_key,
                event.type,
                event.correlation_id,
                event.model_dump_json().encode(),
            )
    relay = _relay(pool, schema, amqp, topology, test_env)
    task = asyncio.create_task(relay.run())
    try:
        received = await _drain(queue, 500)
    finally:
        await relay.stop()
        await task
    assert [json.loads(m.body)["data"]["n"] for m in received] == list(range(500))
    assert all(m.delivery_mode == aio_pika.DeliveryMode.PERSISTENT for m in received)
    assert [m.message_id for m in received] == [e.message_id for e in events]
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0


async def test_two_relays_side_by_side_publish_each_row_exactly_once(
    schema_pool: tuple[str, asyncpg.Pool], amqp: Any, test_env: SuiteEnvironment
) -> None:
    schema, pool = schema_pool
    topology = Topology(test_env.namespace)
    routing_key = unique("test.ping.")
    _, queue = await _bound_queue(amqp, topology, routing_key)
    first, second = (_relay(pool, schema, amqp, topology, test_env, batch_size=50) for _ in range(2))
    tasks = [asyncio.create_task(first.run()), asyncio.create_task(second.run())]
    try:
        for batch in range(20):
            async with pool.acquire() as connection, connection.transaction():
                await enqueue_many(
                    connection,
                    [_ping_to(routing_key, batch * 100 + i) for i in range(100)],
                )
        received = await _drain(queue, 2000)
    finally:
        for relay in (first, second):
            await relay.stop()
        await asyncio.gather(*tasks)
    ids = [m.message_id for m in received]
    assert len(ids) == 2000 and len(set(ids)) == 2000
    assert first.published > 0 and second.published > 0, "both relays should have taken part"


async def test_rows_locked_by_a_relay_that_dies_mid_batch_are_published_by_another(
    schema_pool: tuple[str, asyncpg.Pool], amqp: Any, test_env: SuiteEnvironment
) -> None:
    schema, pool = schema_pool
    topology = Topology(test_env.namespace)
    routing_key = unique("test.ping.")
    _, queue = await _bound_queue(amqp, topology, routing_key)
    async with pool.acquire() as connection, connection.transaction():
        await enqueue_many(connection, [_ping_to(routing_key, i) for i in range(10)])
    # A relay has claimed the rows (its transaction holds their locks) and is killed before it
    # publishes or marks anything.
    dying = await asyncpg.connect(test_env.database_url, server_settings={"search_path": schema})
    dying_transaction = dying.transaction()
    await dying_transaction.start()
    claimed = await dying.fetch(CLAIM_SQL, 100)
    assert len(claimed) == 10
    survivor = _relay(pool, schema, amqp, topology, test_env, idle_poll_seconds=0.2)
    task = asyncio.create_task(survivor.run())
    try:
        await asyncio.sleep(1.0)
        assert survivor.published == 0, "rows another relay holds must be left alone"
        dying.terminate()  # the connection goes without a commit, as with a crashed process
        survivor.wake()
        received = await _drain(queue, 10, timeout=10)
    finally:
        await survivor.stop()
        await task
    assert sorted(json.loads(m.body)["data"]["n"] for m in received) == list(range(10))
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0


def _ping_to(routing_key: str, n: int) -> Envelope:
    class Routed(Ping):
        def routing_key(self) -> str:
            return routing_key

    return Routed(correlation_id="ord_x", data=PingData(n=n))


async def test_unroutable_event_stays_in_outbox_with_the_error(
    schema_pool: tuple[str, asyncpg.Pool], amqp: Any, test_env: SuiteEnvironment
) -> None:
    schema, pool = schema_pool
    topology = Topology(test_env.namespace)
    channel = await amqp.channel()
    await declare_queue(channel, topology, QueueSpec(unique("test.q"), (), "tests", ("bound.elsewhere",)))
    async with pool.acquire() as connection, connection.transaction():
        await enqueue(connection, _ping_to("nobody.listens.here", 1))
    relay = _relay(pool, schema, amqp, topology, test_env)
    task = asyncio.create_task(relay.run())
    try:
        row = await wait_until(
            lambda: pool.fetchrow("SELECT published_at, last_error FROM outbox WHERE last_error IS NOT NULL")
        )
    finally:
        await relay.stop()
        await task
    assert row["published_at"] is None
    assert row["last_error"]


async def test_relay_wakes_on_notify_rather_than_polling(
    schema_pool: tuple[str, asyncpg.Pool], amqp: Any, test_env: SuiteEnvironment
) -> None:
    schema, pool = schema_pool
    topology = Topology(test_env.namespace)
    routing_key = unique("test.ping.")
    _, queue = await _bound_queue(amqp, topology, routing_key)
    relay = _relay(pool, schema, amqp, topology, test_env, idle_poll_seconds=600)
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.5)  # the relay is idle now, waiting up to 10 minutes unless notified
        async with pool.acquire() as connection, connection.transaction():
            await enqueue(connection, _ping_to(routing_key, 7))
        received = await _drain(queue, 1, timeout=5)
    finally:
        await relay.stop()
        await task
    assert len(received) == 1


async def test_a_service_pool_wakes_its_relay_in_process_instead_of_notifying(
    schema_pool: tuple[str, asyncpg.Pool], amqp: Any, test_env: SuiteEnvironment
) -> None:
    """The runtime's own pool (``relay_in_process``) leaves the outbox's NOTIFY out: its writes wake
    the relay of the same process directly, and a NOTIFY would only cost a second, empty round and a
    database-wide lock over the commit's flush. Any other writer still notifies."""
    schema, other_writer = schema_pool
    topology = Topology(test_env.namespace)
    routing_key = unique("test.ping.")
    _, queue = await _bound_queue(amqp, topology, routing_key)
    notified: list[str] = []
    listener = await asyncpg.connect(test_env.database_url)
    await listener.add_listener(f"outbox_{schema}", lambda *_args: notified.append("outbox"))
    own = await create_pool(test_env.database_url, schema, max_size=2, relay_in_process=True)
    relay = _relay(own, schema, amqp, topology, test_env, idle_poll_seconds=600)
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.5)  # the relay is idle, waiting up to 10 minutes unless woken
        async with own.acquire() as connection, connection.transaction():
            await enqueue(connection, _ping_to(routing_key, 1))
        await asyncio.sleep(0.5)
        assert notified == [], "the service's own insert must not NOTIFY"
        assert await queue.get(no_ack=True, fail=False) is None, "nothing woke the relay yet"
        relay.wake()  # what the service does after the commit
        first = await _drain(queue, 1, timeout=5)

        async with other_writer.acquire() as connection, connection.transaction():
            await enqueue(connection, _ping_to(routing_key, 2))
        second = await _drain(queue, 1, timeout=5)  # woken by the NOTIFY alone
    finally:
        await relay.stop()
        await task
        await own.close()
        await listener.close()
    assert [json.loads(m.body)["data"]["n"] for m in first + second] == [1, 2]
    assert notified == ["outbox"]


async def test_inbox_applies_a_message_once(schema_pool: tuple[str, asyncpg.Pool]) -> None:
    _, pool = schema_pool
    await pool.execute("CREATE TABLE effects (n int)")
    event = Ping(correlation_id="ord_1", data=PingData(n=1))

    async def effect(connection: Any) -> None:
        await connection.execute("INSERT INTO effects VALUES (1)")

    results = [await apply_once(pool, "tests", event, effect) for _ in range(3)]
    assert results == [True, False, False]
    assert await pool.fetchval("SELECT count(*) FROM effects") == 1

    async def failing(connection: Any) -> None:
        await connection.execute("INSERT INTO effects VALUES (2)")
        raise RuntimeError("boom")

    other = Ping(correlation_id="ord_1", data=PingData(n=2))
    with pytest.raises(RuntimeError):
        await apply_once(pool, "tests", other, failing)
    # Nothing of the failed attempt remains, so the redelivery applies it.
    assert await apply_once(pool, "tests", other, effect)
    assert await pool.fetchval("SELECT count(*) FROM effects") == 2


class GuardedConsumer:
    """A real FastStream consumer behind the delivery guard, on its own test queue."""

    def __init__(self, amqp: Any, topology: Topology, spec: QueueSpec) -> None:
        self.calls: list[tuple[int, dict[str, Any]]] = []
        self.behaviour: Any = None
        self.broker = guarded_test_broker(amqp, topology, spec, self._handle)

    async def _handle(self, event: Ping) -> None:
        self.calls.append((event.data.n, dict(DELIVERY_HEADERS.get({}))))
        if self.behaviour is not None:
            self.behaviour(len(self.calls))


async def _publish(amqp: Any, topology: Topology, routing_key: str, body: bytes, message_id: str) -> None:
    channel = await amqp.channel(publisher_confirms=True, on_return_raises=True)
    exchange = await channel.get_exchange(topology.exchange)
    await exchange.publish(aio_pika.Message(body, message_id=message_id, delivery_mode=2), routing_key, mandatory=True)
    await channel.close()


async def _parked(amqp: Any, topology: Topology, spec: QueueSpec) -> aio_pika.abc.AbstractIncomingMessage | None:
    channel = await amqp.channel()
    queue = await channel.get_queue(topology.parked_queue(spec))
    message: aio_pika.abc.AbstractIncomingMessage | None = await queue.get(no_ack=True, fail=False)
    await channel.close()
    return message


async def test_poison_message_is_parked_after_the_delivery_limit_with_its_error(
    amqp: Any, test_env: SuiteEnvironment
) -> None:
    topology = Topology(test_env.namespace, delivery_limit=3)
    routing_key = unique("test.poison.")
    spec, _ = await _bound_queue(amqp, topology, routing_key)
    consumer = GuardedConsumer(amqp, topology, spec)

    def always_fail(_: int) -> None:
        raise ValueError("this order can never be applied")

    consumer.behaviour = always_fail
    await consumer.broker.start()
    try:
        event = Ping(correlation_id="ord_p", data=PingData(n=1))
        await _publish(amqp, topology, routing_key, event.model_dump_json().encode(), event.message_id)
        parked = await wait_until(lambda: _parked(amqp, topology, spec))
    finally:
        await consumer.broker.stop()
    assert len(consumer.calls) == 3
    assert parked.message_id == event.message_id
    headers = parked.headers or {}
    assert "never be applied" in str(headers["x-error"])
    assert headers["x-original-routing-key"] == routing_key
    assert headers["x-original-queue"] == topology.queue(spec)


async def test_message_that_breaks_the_contract_is_parked_at_once(amqp: Any, test_env: SuiteEnvironment) -> None:
    topology = Topology(test_env.namespace, delivery_limit=5)
    routing_key = unique("test.invalid.")
    spec, _ = await _bound_queue(amqp, topology, routing_key)
    consumer = GuardedConsumer(amqp, topology, spec)
    await consumer.broker.start()
    try:
        await _publish(amqp, topology, routing_key, b"{not json", "msg_invalid")
        parked = await wait_until(lambda: _parked(amqp, topology, spec))
    finally:
        await consumer.broker.stop()
    assert consumer.calls == []
    assert (parked.headers or {})["x-error-type"] == "ValidationError"


async def test_transient_failure_is_retried_later_without_using_the_poison_budget(
    amqp: Any, test_env: SuiteEnvironment
) -> None:
    from shared.messaging.consumer import RetryLater

    topology = Topology(test_env.namespace, delivery_limit=2, retry_delays=(1,))
    routing_key = unique("test.transient.")
    spec, _ = await _bound_queue(amqp, topology, routing_key)
    consumer = GuardedConsumer(amqp, topology, spec)

    def fail_three_times(call: int) -> None:
        if call <= 3:
            raise RetryLater("the order this depends on has not arrived yet")

    consumer.behaviour = fail_three_times
    await consumer.broker.start()
    try:
        event = Ping(correlation_id="ord_t", data=PingData(n=5))
        await _publish(amqp, topology, routing_key, event.model_dump_json().encode(), event.message_id)
        await wait_until(lambda: _succeeded(consumer, 4), timeout=40)
    finally:
        await consumer.broker.stop()
    # Three transient failures with a delivery limit of two: still applied, not parked.
    assert [headers.get("x-retries") for _, headers in consumer.calls] == [None, 1, 2, 3]
    assert await _parked(amqp, topology, spec) is None


async def test_a_retry_the_broker_refuses_puts_the_message_back_instead_of_holding_it(
    amqp: Any, test_env: SuiteEnvironment
) -> None:
    """On a cluster a delay queue may be away with its node: the retry copy comes back NO_ROUTE. The
    original must then go back to its queue (and be handled again), not stay unacknowledged."""
    from shared.messaging.consumer import RetryLater

    topology = Topology(test_env.namespace, delivery_limit=5, retry_delays=(1,))
    routing_key = unique("test.refused-retry.")
    spec, _ = await _bound_queue(amqp, topology, routing_key)
    channel = await amqp.channel()
    await channel.queue_delete(topology.retry_queue(spec, 1))
    await channel.close()
    consumer = GuardedConsumer(amqp, topology, spec)

    def fail_once(call: int) -> None:
        if call == 1:
            raise RetryLater("a moment's contention")

    consumer.behaviour = fail_once
    await consumer.broker.start()
    try:
        event = Ping(correlation_id="ord_r", data=PingData(n=7))
        await _publish(amqp, topology, routing_key, event.model_dump_json().encode(), event.message_id)
        await wait_until(lambda: _succeeded(consumer, 2), timeout=20)
    finally:
        await consumer.broker.stop()
    # The second delivery is the original, put back (no retry copy was ever made).
    assert [headers.get("x-retries") for _, headers in consumer.calls] == [None, None]
    assert await _parked(amqp, topology, spec) is None


async def _succeeded(consumer: GuardedConsumer, calls: int) -> bool:
    return len(consumer.calls) >= calls
