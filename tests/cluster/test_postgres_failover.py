"""PostgreSQL failover while orders flow: the seven services (as processes, on the machine's RabbitMQ in
a namespace of their own) hold ``postgresql://…@primary,replica/…?target_session_attrs=read-write``;
mid-flow the primary is stopped at once (``-m immediate``, as a crash) and the replica promoted. Nobody
restarts a service: they find the new primary by themselves (pools, LISTEN connections, relays).

Afterwards, the chaos suite's audit (:func:`tests.chaos.flow.audit`): every order that got a 201 is
there exactly once per vendor, went all the way to the channel, and nothing is parked but the one
poisoned message; and every order committed before the primary died is on the new primary (synchronous
replication, see :mod:`tests.cluster.postgres`). The machine's own cluster on 5432 is not touched: its
postmaster start time is the same before and after.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from shared.db import ensure_database
from tests.chaos.flow import OrderLoad, SlowChannel, World, run_scenario, set_up_shop
from tests.chaos.vendors import VendorWebhooks, open_tap, webhook_secret
from tests.chaos.world import chaos_env
from tests.cluster.postgres import PostgresPair, require_tools
from tests.conftest import BASE_DATABASE_URL, RUN_ID, _broker_queues, _remove_namespaces
from tests.e2e.harness import ProcessSystem
from tests.support import AMQP_URL, Api

ORDERS = int(os.environ.get("FAILOVER_ORDERS", "400"))
DETECTION_SECONDS = 2.0
"""Between the primary's death and the promotion: what an operator (Patroni, CloudNativePG) takes to
decide, kept short here. Orders keep coming meanwhile and are answered 503 until a primary is back."""

pytestmark = pytest.mark.timeout(420)


async def _machine_postmaster_started() -> str:
    """When the machine's own cluster started; asked again while others' runs hold all its connections."""
    for attempt in range(60):
        try:
            connection = await asyncpg.connect(f"{BASE_DATABASE_URL}/postgres", timeout=10)
        except asyncpg.TooManyConnectionsError:
            await asyncio.sleep(min(5.0, 0.5 * (attempt + 1)))
            continue
        try:
            return str(await connection.fetchval("SELECT pg_postmaster_start_time()"))
        finally:
            await connection.close()
    raise AssertionError("the machine's PostgreSQL on 5432 refused a connection for minutes")


@pytest.fixture
async def machine_postmaster_started() -> str:
    """When the machine's own cluster started, read before anything of the test's exists."""
    return await _machine_postmaster_started()


@pytest.fixture
def postgres_pair(machine_postmaster_started: str) -> Iterator[PostgresPair]:
    require_tools()
    pair = PostgresPair.for_this_run()
    try:
        pair.start()
        yield pair
    finally:
        pair.drop()


@pytest.fixture
async def failover_world(postgres_pair: PostgresPair, tmp_path: Path) -> AsyncIterator[World]:
    """The services as processes on the pair (the multi-host URL) and a namespace of their own, with the
    chaos suite's channel, webhook vendor and shop."""
    database_url = postgres_pair.url("dropship_failover")
    namespace = f"test{RUN_ID}{uuid.uuid4().hex[:4]}"
    admin_token = f"admin-{uuid.uuid4().hex}"
    await ensure_database(database_url)
    env = chaos_env(database_url, AMQP_URL, namespace, admin_token)
    logs = tmp_path / "service-logs"
    logs.mkdir()
    processes = ProcessSystem(env, logs)
    receiver = SlowChannel()
    west_hooks = VendorWebhooks(webhook_secret())
    await receiver.start()
    await west_hooks.start()
    try:
        processes.start()
        await processes.wait_ready(timeout=120)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session:
            api = Api(session, processes.urls, admin_token)
            shop = await set_up_shop(api, receiver, west_hooks)
            tap = await open_tap(AMQP_URL, namespace, [shop.west])
            yield World(processes, api, receiver, shop, database_url, AMQP_URL, namespace, west_hooks, tap)
    finally:
        processes.stop_all()
        await west_hooks.stop()
        await receiver.stop()
        await _remove_namespaces({namespace}, _broker_queues())


async def _one_more_accepted(load: OrderLoad, timeout: float) -> None:
    """Until ``load`` has one more order accepted than now (intake committed again)."""
    await asyncio.wait_for(load.reached((len(load.accepted) + 1) / load.total), timeout=timeout)


async def test_replica_promoted_mid_flow(
    failover_world: World, postgres_pair: PostgresPair, machine_postmaster_started: str
) -> None:
    world = failover_world
    committed_before: set[str] = set()
    timings: dict[str, float] = {}

    async def fault(load: OrderLoad) -> int:
        await load.reached(0.35)
        committed_before.update(load.accepted.values())
        stopped_at = time.monotonic()
        await asyncio.to_thread(postgres_pair.stop_primary_immediately)
        await asyncio.sleep(DETECTION_SECONDS)
        await asyncio.to_thread(postgres_pair.promote_replica)
        promoted_at = time.monotonic()
        await _one_more_accepted(load, timeout=120)
        timings["promotion"] = promoted_at - stopped_at
        timings["first 201 after the stop"] = time.monotonic() - stopped_at
        timings["first 201 after the promotion"] = time.monotonic() - promoted_at
        await world.processes.wait_ready(timeout=120)
        timings["every service ready after the promotion"] = time.monotonic() - promoted_at
        return 1

    run = await run_scenario(
        world, "postgres failover", orders=ORDERS, fault=fault, concurrency=12, load_timeout=180, settle_timeout=150
    )
    verdict = run.verdict

    # Every order committed before the primary died is on the promoted replica, which is now the primary.
    connection = await asyncpg.connect(world.database_url, timeout=10)
    try:
        on_new_primary = await connection.fetchval("SELECT inet_server_port()")
        found = {
            row["id"]
            for row in await connection.fetch("SELECT id FROM intake.orders WHERE id = ANY($1)", list(committed_before))
        }
    finally:
        await connection.close()
    if on_new_primary != postgres_pair.replica.port:
        verdict.problem(f"read port {on_new_primary}, not the promoted replica's {postgres_pair.replica.port}")
    for order_id in sorted(committed_before - found):
        verdict.lose("committed order", f"order {order_id} was answered 201 before the failover and is gone")
    verdict.notes["committed before the failover"] = len(committed_before)
    for what, seconds in timings.items():
        verdict.notes[what] = f"{seconds:.1f}s"

    print(
        f"\npostgres failover: {verdict.orders} orders, lost {verdict.total_lost}, duplicated"
        f" {verdict.total_duplicated}, recovered (first 201 after the primary stopped) in"
        f" {timings.get('first 201 after the stop', float('nan')):.1f}s, whole run {verdict.seconds:.0f}s\n"
        + verdict.report()
    )
    machine_now = await _machine_postmaster_started()
    assert machine_now == machine_postmaster_started, "the machine's PostgreSQL on 5432 was restarted"
    assert not (verdict.total_lost or verdict.total_duplicated or verdict.problems), verdict.report()
