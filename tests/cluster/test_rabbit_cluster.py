"""The system on a three-node RabbitMQ cluster of the test's own, two instances of every service,
each given every node's URL: quorum queues replicated on all three nodes; clients move to another
node when theirs goes away; and about a thousand orders and their shipments per fault go through
with nothing lost or duplicated while

- the node that leads the busiest quorum queues is stopped (``rabbitmqctl stop_app``) and started,
- a node is killed (SIGKILL of its Erlang VM) and restarted,
- one node is cut off from the others (``iptables`` on its distribution traffic) and reconnected:
  ``pause_minority`` pauses it while it is alone.

After each: every order exactly once per vendor, every shipment once to the channel, nothing parked
but the poison, no manual step (the flow's own audit, :func:`tests.chaos.flow.audit`). ``CLUSTER_ORDERS``
scales the flow (default 1000).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable

import aio_pika
import pytest

from shared.messaging.broker import connect, make_broker
from tests.chaos.flow import OrderLoad, World, run_scenario
from tests.cluster.conftest import FaultFigures
from tests.cluster.rabbit import Node, RabbitCluster
from tests.support import wait_until

ORDERS = int(os.environ.get("CLUSTER_ORDERS", "1000"))
DOWN_SECONDS = 8.0
"""How long a stopped or killed node stays away; a cut-off node stays cut until it has paused."""

pytestmark = pytest.mark.timeout(600)


async def test_three_nodes_form_one_cluster(rabbit_cluster: RabbitCluster) -> None:
    names = sorted(node.name for node in rabbit_cluster.nodes)
    for node in rabbit_cluster.nodes:
        assert await rabbit_cluster.running_nodes(node) == names
    status = await rabbit_cluster.ctl(rabbit_cluster.nodes[0], "eval", "rabbit_mnesia:cluster_nodes(all).")
    assert all(name in status for name in names)
    print(f"three nodes started and joined in {rabbit_cluster.started_in:.1f}s")


def _node_of(connection: aio_pika.abc.AbstractRobustConnection, cluster: RabbitCluster) -> Node:
    port = connection.url.port  # type: ignore[attr-defined]
    return next(node for node in cluster.nodes if node.amqp_port == port)


async def test_clients_move_to_the_next_node_and_back(rabbit_cluster: RabbitCluster) -> None:
    """The robust connection and FastStream's broker, both on the node list: the first node stopped,
    both move on to the second and keep publishing; a broker started while the first is down starts
    on the second."""
    first = rabbit_cluster.nodes[0]
    connection = await connect(rabbit_cluster.amqp_url, name="tests-cluster-failover")
    broker = make_broker(rabbit_cluster.amqp_url, service="tests-cluster", prefetch_count=1)
    late = make_broker(rabbit_cluster.amqp_url, service="tests-cluster-late", prefetch_count=1)
    try:
        await broker.connect()
        assert _node_of(connection, rabbit_cluster) is first
        assert broker._connection is not None
        assert _node_of(broker._connection, rabbit_cluster) is first
        await rabbit_cluster.stop_app(first)
        try:

            async def moved() -> bool:
                return (
                    connection.connected.is_set()
                    and _node_of(connection, rabbit_cluster) is not first
                    and broker._connection is not None
                    and broker._connection.connected.is_set()
                    and _node_of(broker._connection, rabbit_cluster) is not first
                )

            await wait_until(moved, timeout=30, every=0.2)
            channel = await connection.channel(publisher_confirms=True)
            queue = await channel.declare_queue(exclusive=True)
            await channel.default_exchange.publish(aio_pika.Message(b"after the move"), routing_key=queue.name)
            await broker.publish("through the broker", queue=queue.name)
            bodies: list[bytes] = []

            async def both_arrived() -> bool:
                message = await queue.get(timeout=10, fail=False)
                if message is not None:
                    await message.ack()
                    bodies.append(message.body)
                return len(bodies) == 2

            await wait_until(both_arrived, timeout=20, every=0.1)
            assert sorted(bodies) == [b"after the move", b"through the broker"]
            await late.connect()
            assert late._connection is not None
            assert _node_of(late._connection, rabbit_cluster) is not first
        finally:
            await rabbit_cluster.start_app(first)
    finally:
        await late.stop()
        await broker.stop()
        await connection.close()


def _busy_queues(queues: dict[str, tuple[str, list[str]]], world: World) -> list[str]:
    """The queues the services consume (not the parked, the delayed retries or the audit's tap)."""
    return [name for name in queues if not name.endswith(".parked") and ".retry." not in name and name != world.tap]


async def _replicated_everywhere(cluster: RabbitCluster, world: World) -> str:
    """Every quorum queue of the run has a member on each of the three nodes."""
    queues = await cluster.quorum_queues(world.namespace)
    names = sorted(node.name for node in cluster.nodes)
    short = {name: members for name, (_, members) in queues.items() if sorted(members) != names}
    assert len(queues) >= 10, f"only {len(queues)} quorum queues on the cluster: {sorted(queues)}"
    assert not short, f"quorum queues not replicated on all three nodes: {short}"
    leaders: dict[str, int] = {}
    for name in _busy_queues(queues, world):
        leaders[queues[name][0]] = leaders.get(queues[name][0], 0) + 1
    return f"{len(queues)} quorum queues, 3 members each; leaders of the busy ones {leaders}"


def _seconds(note: object) -> float:
    return float(str(note).rstrip("s"))


FaultAction = Callable[[RabbitCluster, Node, FaultFigures], Awaitable[None]]


async def _run_fault(
    cluster: RabbitCluster, world: World, figures: list[FaultFigures], name: str, action: FaultAction
) -> None:
    entry = FaultFigures(name)
    entry.notes["topology"] = await _replicated_everywhere(cluster, world)
    started = time.monotonic()
    marks: dict[str, float] = {}

    async def fault(load: OrderLoad) -> int:
        await load.reached(0.3)
        queues = await cluster.quorum_queues(world.namespace)
        node, why = await cluster.busiest_node(world.namespace, _busy_queues(queues, world))
        entry.node = node.name
        entry.notes["struck"] = why
        marks["struck"] = time.monotonic()
        await action(cluster, node, entry)
        await cluster.await_running(len(cluster.nodes))
        marks["whole again"] = time.monotonic()
        return 1

    run = await run_scenario(world, name, orders=ORDERS, fault=fault, settle_timeout=240)
    entry.verdict = run.verdict
    accepted = started + _seconds(run.verdict.notes.get("orders accepted after", "0s"))
    settled = started + _seconds(run.verdict.notes.get("settled after", "0s"))
    if marks:
        entry.outage_seconds = marks["whole again"] - marks["struck"]
        entry.recovery_seconds = max(0.0, settled - max(marks["whole again"], accepted))
        entry.notes["timeline"] = (
            f"fault at {marks['struck'] - started:.1f}s, cluster whole again at {marks['whole again'] - started:.1f}s,"
            f" every order accepted by {accepted - started:.1f}s, everything settled at {settled - started:.1f}s"
        )
    logs = world.processes.all_logs()
    entry.notes["service connections"] = (
        f"{logs.count('rabbitmq node unavailable')} node failures seen,"
        f" {logs.count('rabbitmq connected')} reconnections to another node, in the services' logs"
    )
    figures.append(entry)
    verdict = run.verdict
    assert not (verdict.total_lost or verdict.total_duplicated or verdict.problems), verdict.report()


async def test_busiest_leader_stopped(
    rabbit_cluster: RabbitCluster, cluster_world: World, cluster_figures: list[FaultFigures]
) -> None:
    async def stop_app(cluster: RabbitCluster, node: Node, entry: FaultFigures) -> None:
        await cluster.stop_app(node)
        try:
            await asyncio.sleep(DOWN_SECONDS)
        finally:
            await cluster.start_app(node)

    await _run_fault(rabbit_cluster, cluster_world, cluster_figures, "leader stopped (stop_app / start_app)", stop_app)


async def test_node_killed(
    rabbit_cluster: RabbitCluster, cluster_world: World, cluster_figures: list[FaultFigures]
) -> None:
    async def kill(cluster: RabbitCluster, node: Node, entry: FaultFigures) -> None:
        pid = await cluster.kill(node)
        entry.notes["killed"] = f"beam.smp pid {pid} of {node.name} (SIGKILL)"
        try:
            await asyncio.sleep(DOWN_SECONDS)
        finally:
            await cluster.restart(node)

    await _run_fault(rabbit_cluster, cluster_world, cluster_figures, "node killed (SIGKILL, restarted)", kill)


async def test_node_cut_off(
    rabbit_cluster: RabbitCluster, cluster_world: World, cluster_figures: list[FaultFigures]
) -> None:
    async def cut(cluster: RabbitCluster, node: Node, entry: FaultFigures) -> None:
        cut_at = time.monotonic()
        await cluster.cut(node)
        try:
            await cluster.await_running(len(cluster.nodes) - 1, timeout=90)
            majority_saw = time.monotonic() - cut_at

            async def paused() -> bool:
                return not await asyncio.to_thread(node.accepts_clients)

            await wait_until(paused, timeout=90, every=0.5)
            entry.notes["partition"] = (
                f"the other two saw {node.name} gone after {majority_saw:.1f}s;"
                f" it paused (closed its AMQP port) after {time.monotonic() - cut_at:.1f}s"
            )
            await asyncio.sleep(2)
        finally:
            await cluster.heal(node)

    await _run_fault(rabbit_cluster, cluster_world, cluster_figures, "node cut off (iptables), pause_minority", cut)
