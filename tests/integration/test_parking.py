"""Parked messages for people, on the real broker in the test namespace: a poison message is parked by a
real consumer, listed and shown without being lost, replayed once its cause is fixed (applied once),
replayed when already applied (the inbox drops it), and discarded. Both through ``dropship parked``
and through :mod:`shared.messaging.parking` directly."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

import aio_pika
import asyncpg
import pytest
from click.testing import CliRunner, Result

from shared.cli import cli
from shared.db import Connection, create_pool, migrate, migration_files
from shared.messaging.broker import connect
from shared.messaging.headers import replay_headers
from shared.messaging.inbox import apply_once
from shared.messaging.parking import (
    ParkingError,
    discard_parked,
    list_parked,
    replay_parked,
    show_parked,
)
from shared.messaging.topology import QueueSpec, Topology, vendor_queue
from tests.conftest import RunningSystem, SuiteEnvironment
from tests.support import AMQP_URL, Ping, PingData, guarded_test_broker, unique, wait_until

Failure = Literal["none", "before_effect", "after_effect"]


class InboxConsumer:
    """A real FastStream consumer behind the delivery guard that applies each message once through the
    inbox (an ``effects`` row per message), and can be told to fail before or after that effect."""

    def __init__(self, amqp: Any, topology: Topology, spec: QueueSpec, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.failure: Failure = "none"
        self.handled: list[str] = []
        self.broker = guarded_test_broker(amqp, topology, spec, self._handle)

    async def _handle(self, event: Ping) -> None:
        self.handled.append(event.message_id)
        failure = self.failure

        async def effect(connection: Connection) -> None:
            await connection.execute("INSERT INTO effects (message_id) VALUES ($1)", event.message_id)
            if failure == "before_effect":
                raise ValueError(f"ping {event.data.n} cannot be applied (yet)")

        await apply_once(self.pool, "tests.parking", event, effect)
        if failure == "after_effect":
            raise RuntimeError(f"ping {event.data.n} failed after it was applied")

    async def effects(self, message_id: str) -> int:
        count: int = await self.pool.fetchval("SELECT count(*) FROM effects WHERE message_id = $1", message_id)
        return count


@pytest.fixture
async def amqp() -> AsyncIterator[aio_pika.abc.AbstractRobustConnection]:
    connection = await connect(AMQP_URL, name="dropship-tests-parking")
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def pool(test_env: SuiteEnvironment) -> AsyncIterator[asyncpg.Pool]:
    schema = unique("parking_")
    await migrate(test_env.database_url, schema, migration_files(Path("/nonexistent")))
    pool = await create_pool(test_env.database_url, schema, max_size=2)
    await pool.execute("CREATE TABLE effects (message_id text NOT NULL)")
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def topology(test_env: SuiteEnvironment) -> Topology:
    # The same delivery limit as the services': they declare vendor queues too, with their arguments.
    return Topology(test_env.namespace, test_env.settings().delivery_limit)


@pytest.fixture
async def vendor(system: RunningSystem) -> str:
    """A vendor the splitter knows (so ``dropship parked list`` finds its queue); the splitter declared
    ``vendor.<code>`` and its parked queue. No adapter consumes it but the tests' own consumer."""
    code = unique("parkv-")
    await system.api.ok("PUT", "splitter", f"/v1/vendors/{code}", {"name": "Parking", "kind": "webhook"})
    return code


@pytest.fixture
async def consumer(amqp: Any, topology: Topology, vendor: str, pool: asyncpg.Pool) -> AsyncIterator[InboxConsumer]:
    running = InboxConsumer(amqp, topology, vendor_queue(vendor), pool)
    await running.broker.start()
    try:
        yield running
    finally:
        await running.broker.stop()


async def publish_ping(amqp: Any, topology: Topology, vendor: str, n: int) -> Ping:
    event = Ping(correlation_id=f"ord_{n}", data=PingData(n=n))
    channel = await amqp.channel(publisher_confirms=True, on_return_raises=True)
    exchange = await channel.get_exchange(topology.exchange)
    message = aio_pika.Message(
        event.model_dump_json().encode(),
        message_id=event.message_id,
        correlation_id=event.correlation_id,
        type=event.type,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )
    await exchange.publish(message, f"vendor_order.created.{vendor}", mandatory=True)
    await channel.close()
    return event


async def parked_count(amqp: Any, topology: Topology, queue: str) -> int:
    [found] = await list_parked(amqp, topology, [queue])
    return found.messages or 0


async def wait_parked(amqp: Any, topology: Topology, queue: str, expected: int) -> None:
    async def reached() -> bool:
        return await parked_count(amqp, topology, queue) == expected

    await wait_until(reached, timeout=30)


async def dropship(system: RunningSystem, *args: str) -> Result:
    """The CLI as a person runs it, against the test namespace (in a thread: it runs its own loop)."""
    env = {
        "DROPSHIP_AMQP_URL": AMQP_URL,
        "DROPSHIP_NAMESPACE": system.env.namespace,
        "DROPSHIP_ADMIN_TOKEN": system.env.admin_token,
        "DROPSHIP_SPLITTER_URL": system.url("splitter"),
        "DROPSHIP_DELIVERY_LIMIT": str(system.env.settings().delivery_limit),
    }
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=env, catch_exceptions=False)


async def test_poison_is_parked_listed_shown_and_replayed_once_fixed(
    system: RunningSystem, amqp: Any, topology: Topology, vendor: str, consumer: InboxConsumer
) -> None:
    queue = f"vendor.{vendor}"
    consumer.failure = "before_effect"
    first = await publish_ping(amqp, topology, vendor, 1)
    second = await publish_ping(amqp, topology, vendor, 2)
    await wait_parked(amqp, topology, queue, 2)
    assert await consumer.effects(first.message_id) == 0

    # list: the vendor's queue is found through the splitter's vendor list, with its count.
    listed = await dropship(system, "--json", "parked", "list")
    assert listed.exit_code == 0, listed.output
    rows = {row["queue"]: row for row in json.loads(listed.stdout)}
    assert rows[queue]["messages"] == 2
    assert rows[queue]["parked_queue"] == f"{system.env.namespace}.{queue}.parked"
    assert {"splitter.orders", "tracking.shipments", "intake.status"} <= set(rows)
    human = await dropship(system, "parked", "list")
    assert queue in human.stdout and "message(s) parked" in human.stdout

    # show, twice: the same messages in the same (parking) order, nothing lost.
    orders = []
    for _ in range(2):
        shown = await dropship(system, "--json", "parked", "show", queue)
        assert shown.exit_code == 0, shown.output
        messages = {m["message_id"]: m for m in json.loads(shown.stdout)}
        orders.append(list(messages))
    assert orders[0] == orders[1] and sorted(orders[0]) == sorted([first.message_id, second.message_id])
    parked_first = messages[first.message_id]
    assert parked_first["routing_key"] == f"vendor_order.created.{vendor}"
    assert parked_first["error_type"] == "ValueError"
    assert "ping 1 cannot be applied" in parked_first["error"]
    assert parked_first["original_queue"] == topology.queue(vendor_queue(vendor))
    assert parked_first["deliveries"] == topology.delivery_limit
    assert json.loads(parked_first["body"])["data"] == {"n": 1}
    readable = await dropship(system, "parked", "show", queue, "--limit", "1")
    assert orders[0][0] in readable.stdout and orders[0][1] not in readable.stdout
    assert "cannot be applied" in readable.stdout
    assert await parked_count(amqp, topology, queue) == 2

    # The cause is fixed: replay one by id, then the rest; each is applied exactly once.
    consumer.failure = "none"
    replayed = await dropship(system, "parked", "replay", queue, "--message-id", first.message_id)
    assert replayed.exit_code == 0, replayed.output
    assert "Replayed 1 message(s)" in replayed.stdout
    await wait_until(lambda: consumer.effects(first.message_id), timeout=20)
    remaining = await show_parked(amqp, topology, queue)
    assert [m.message_id for m in remaining] == [second.message_id]
    replayed = await dropship(system, "parked", "replay", queue)
    assert "Replayed 1 message(s)" in replayed.stdout
    await wait_until(lambda: consumer.effects(second.message_id), timeout=20)
    await asyncio.sleep(0.5)  # room for a duplicate to show up
    assert [await consumer.effects(e.message_id) for e in (first, second)] == [1, 1]
    assert await parked_count(amqp, topology, queue) == 0


async def test_replaying_a_message_already_applied_changes_nothing(
    amqp: Any, topology: Topology, vendor: str, consumer: InboxConsumer
) -> None:
    queue = f"vendor.{vendor}"
    consumer.failure = "after_effect"  # applied, then failed: parked although its effect is in
    event = await publish_ping(amqp, topology, vendor, 7)
    await wait_parked(amqp, topology, queue, 1)
    assert await consumer.effects(event.message_id) == 1
    handled_before = consumer.handled.count(event.message_id)

    consumer.failure = "none"
    replayed = await replay_parked(amqp, topology, queue)
    assert [m.message_id for m in replayed] == [event.message_id]

    async def handled_again() -> bool:
        return consumer.handled.count(event.message_id) > handled_before

    await wait_until(handled_again, timeout=20)
    await asyncio.sleep(0.3)
    assert await consumer.effects(event.message_id) == 1
    assert await parked_count(amqp, topology, queue) == 0


async def test_replay_without_fixing_parks_it_again_and_ends(
    amqp: Any, topology: Topology, vendor: str, consumer: InboxConsumer
) -> None:
    queue = f"vendor.{vendor}"
    consumer.failure = "before_effect"
    event = await publish_ping(amqp, topology, vendor, 3)
    await wait_parked(amqp, topology, queue, 1)
    handled_before = consumer.handled.count(event.message_id)
    # Still broken: the replayed message fails and is parked anew; the replay itself does not loop.
    replayed = await asyncio.wait_for(replay_parked(amqp, topology, queue), timeout=30)
    assert [m.message_id for m in replayed] == [event.message_id]
    await wait_parked(amqp, topology, queue, 1)
    [again] = await show_parked(amqp, topology, queue)
    assert again.message_id == event.message_id
    # A fresh budget: as many tries as the first time, not the old count carried over.
    assert consumer.handled.count(event.message_id) - handled_before == topology.delivery_limit
    assert await consumer.effects(event.message_id) == 0


async def test_discard_one_by_id_keeps_the_order_of_the_rest_then_discard_all(
    system: RunningSystem, amqp: Any, topology: Topology, vendor: str, consumer: InboxConsumer
) -> None:
    queue = f"vendor.{vendor}"
    consumer.failure = "before_effect"
    events = [await publish_ping(amqp, topology, vendor, n) for n in (1, 2, 3)]
    await wait_parked(amqp, topology, queue, 3)

    usage = await dropship(system, "parked", "discard", queue)
    assert usage.exit_code == 2 and "exactly one of --message-id ID or --all" in usage.output
    missing = await dropship(system, "parked", "discard", queue, "--message-id", "msg_nowhere")
    assert missing.exit_code == 1 and "no message msg_nowhere" in missing.output

    discarded = await dropship(system, "parked", "discard", queue, "--message-id", events[1].message_id)
    assert discarded.exit_code == 0, discarded.output
    assert events[1].message_id in discarded.stdout
    remaining = await show_parked(amqp, topology, queue)
    assert [m.message_id for m in remaining] == [events[0].message_id, events[2].message_id]

    discarded = await dropship(system, "--json", "parked", "discard", queue, "--all")
    assert [m["message_id"] for m in json.loads(discarded.stdout)["discarded"]] == [
        events[0].message_id,
        events[2].message_id,
    ]
    assert await parked_count(amqp, topology, queue) == 0
    assert all([await consumer.effects(e.message_id) == 0 for e in events])


async def test_a_message_the_broker_dead_lettered_itself_is_shown_and_replayed(
    amqp: Any, topology: Topology, vendor: str, pool: asyncpg.Pool
) -> None:
    """No guard parked this one: a consumer kept rejecting it until the queue's delivery limit made the
    broker dead-letter it, with ``x-death`` headers instead of ours."""
    queue = f"vendor.{vendor}"
    channel = await amqp.channel()
    live = await channel.get_queue(topology.queue(vendor_queue(vendor)))
    event = await publish_ping(amqp, topology, vendor, 9)

    async def reject_until_dead_lettered() -> bool:
        message = await live.get(no_ack=False, fail=False)
        if message is not None:
            await message.nack(requeue=True)
        return await parked_count(amqp, topology, queue) == 1

    await wait_until(reject_until_dead_lettered, timeout=30)
    await channel.close()
    [parked] = await show_parked(amqp, topology, queue)
    assert parked.message_id == event.message_id
    assert parked.routing_key == f"vendor_order.created.{vendor}"
    assert parked.error_type == "delivery_limit"
    assert parked.original_queue == topology.queue(vendor_queue(vendor))
    assert "x-death" not in replay_headers(parked.headers)

    running = InboxConsumer(amqp, topology, vendor_queue(vendor), pool)
    await running.broker.start()
    try:
        replayed = await replay_parked(amqp, topology, queue, event.message_id)
        assert [m.message_id for m in replayed] == [event.message_id]
        await wait_until(lambda: running.effects(event.message_id), timeout=20)
    finally:
        await running.broker.stop()
    assert await parked_count(amqp, topology, queue) == 0


async def test_a_real_service_parks_a_message_that_breaks_the_contract(system: RunningSystem, amqp: Any) -> None:
    """The splitter and tracking both consume ``order.received``: a body that is no order is parked by
    each at once; the message id finds it in both, and discarding it there empties nothing else."""
    topology = system.splitter.topology
    message_id = unique("msg_broken_")
    channel = await amqp.channel(publisher_confirms=True, on_return_raises=True)
    exchange = await channel.get_exchange(topology.exchange)
    await exchange.publish(
        aio_pika.Message(b'{"type": "order.received", "data": "not an order"}', message_id=message_id),
        "order.received",
        mandatory=True,
    )
    await channel.close()
    for queue in ("splitter.orders", "tracking.orders"):

        async def parked_there(queue: str = queue) -> bool:
            return any(m.message_id == message_id for m in await show_parked(amqp, topology, queue, limit=1000))

        await wait_until(parked_there, timeout=20)
        [shown] = [m for m in await show_parked(amqp, topology, queue, limit=1000) if m.message_id == message_id]
        assert shown.error_type == "ValidationError" and shown.routing_key == "order.received"
        [discarded] = await discard_parked(amqp, topology, queue, message_id)
        assert discarded.message_id == message_id
        assert not await parked_there()


async def test_unknown_queues_and_messages_are_clear_errors(amqp: Any, topology: Topology, vendor: str) -> None:
    [listed] = await list_parked(amqp, topology, ["vendor.never-declared-here"])
    assert listed.messages is None
    with pytest.raises(ParkingError, match="no parked queue"):
        await show_parked(amqp, topology, "vendor.never-declared-here")
    with pytest.raises(ParkingError, match="no message msg_x"):
        await replay_parked(amqp, topology, f"vendor.{vendor}", "msg_x")
    with pytest.raises(ParkingError, match="not a queue name"):
        await show_parked(amqp, topology, "  ")
    # The namespace and the .parked suffix may be spelled out.
    [spelled] = await list_parked(amqp, topology, [f"{topology.namespace}.vendor.{vendor}.parked"])
    assert spelled.messages == 0 and spelled.queue == f"vendor.{vendor}"
