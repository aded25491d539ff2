"""Chaos: each fault injected mid-flow, in its own test, while thousands of orders go through intake,
the splitter, the ShipStation adapter, tracking and the gateway (real processes, real broker and
database), ShipStation's ship notices come back to the channel, and the gateway delivers the webhook
vendor's part of every order (and, in one scenario, an SFTP vendor's).

After each fault: every accepted order has exactly one vendor order per vendor; every ShipStation
vendor order appears exactly once in a full export walk; every shipment reaches the channel under one
``webhook-id``; every vendor order the gateway serves reached its vendor at least once and never under
a second identity (one ``webhook-id``, one ``<number>.csv``); nothing is left unacknowledged, and
nothing is parked but the one message poisoned on purpose; the services came back by themselves.
``CHAOS_ORDERS`` scales the long scenarios (default 2000); the gateway's own two are a few hundred.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pathlib
import re
from datetime import datetime

import aiohttp
import asyncpg
import pytest

from tests.chaos.faults import restart_postgres, restart_rabbitmq, terminate_backends
from tests.chaos.flow import OrderLoad, Verdict, World, run_scenario
from tests.chaos.vendors import SftpVendor, open_tap
from tests.e2e.harness import SERVICE_NAMES
from tests.gateway_servers import SftpServer
from tests.support import unique

ORDERS = int(os.environ.get("CHAOS_ORDERS", "2000"))
GATEWAY_ORDERS = 400
SFTP_ORDERS = 300
SFTP_ORDERS_PER_SECOND = 4.0
"""75 s of orders: they keep coming all through the vendor's minute away."""
SFTP_DOWN_SECONDS = 60.0
STOP_SECONDS = 4.0
"""The longest a graceful stop may take under load, from "service stopping" to "service stopped"."""

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(720)]


def record(ledger: list[Verdict], verdict: Verdict) -> None:
    """Figures first, verdict second: a failing scenario still counts in the summary."""
    ledger.append(verdict)
    assert not (verdict.total_lost or verdict.total_duplicated or verdict.problems), verdict.report()


async def test_rabbitmq_restart(chaos_world: World, chaos_ledger: list[Verdict]) -> None:
    async def fault(load: OrderLoad) -> int:
        await load.reached(0.35)
        await restart_rabbitmq(down_seconds=3)
        return 1

    verdict = (await run_scenario(chaos_world, "rabbitmq restart", orders=ORDERS, fault=fault)).verdict
    record(chaos_ledger, verdict)


async def test_postgres_restart(chaos_world: World, chaos_ledger: list[Verdict]) -> None:
    async def fault(load: OrderLoad) -> int:
        await load.reached(0.35)
        await restart_postgres()
        return 1

    verdict = (await run_scenario(chaos_world, "postgres restart", orders=ORDERS, fault=fault)).verdict
    record(chaos_ledger, verdict)


async def test_postgres_connections_terminated(chaos_world: World, chaos_ledger: list[Verdict]) -> None:
    killed: list[int] = []

    async def fault(load: OrderLoad) -> int:
        for at in (0.3, 0.6):
            await load.reached(at)
            killed.append(await terminate_backends(chaos_world.database_url))
        return len(killed)

    verdict = (await run_scenario(chaos_world, "pg_terminate_backend x2", orders=ORDERS, fault=fault)).verdict
    verdict.notes["backends terminated"] = killed
    if min(killed, default=0) < len(SERVICE_NAMES):
        verdict.problem(f"expected every service's connections to be cut, terminated only {killed}")
    record(chaos_ledger, verdict)


async def test_each_service_killed(chaos_world: World, chaos_ledger: list[Verdict]) -> None:
    processes = chaos_world.processes

    async def fault(load: OrderLoad) -> int:
        # Spread over the flow from 15 % to 75 % of its orders, one service after another.
        step = 0.6 / max(len(SERVICE_NAMES) - 1, 1)
        for index, name in enumerate(SERVICE_NAMES):
            at = 0.15 + index * step
            await load.reached(at)
            await asyncio.to_thread(processes.restart, name, kill=True)
        return len(SERVICE_NAMES)

    verdict = (await run_scenario(chaos_world, "SIGKILL each service", orders=ORDERS, fault=fault)).verdict
    record(chaos_ledger, verdict)


async def _in_flight(world: World, within: float = 20.0) -> int:
    """Wait until the webhook vendor is answering at least one delivery; answers how many."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(world.west_hooks.answering.wait(), timeout=within)
    return world.west_hooks.in_flight


async def test_gateway_killed_mid_delivery(chaos_world: World, chaos_ledger: list[Verdict]) -> None:
    """SIGKILL while the vendor is still answering: what was sent and not recorded goes again after
    the lease, under the same ``webhook-id``; nothing goes under a new one and nothing is lost."""
    processes = chaos_world.processes
    # A vendor that takes its time: a kill lands while requests wait for their answer.
    chaos_world.west_hooks.delay = 0.3
    caught: list[int] = []

    async def fault(load: OrderLoad) -> int:
        for at in (0.3, 0.7):
            await load.reached(at)
            caught.append(await _in_flight(chaos_world))
            await asyncio.to_thread(processes.restart, "gateway", kill=True)
        return len(caught)

    verdict = (
        await run_scenario(chaos_world, "SIGKILL gateway mid-delivery", orders=GATEWAY_ORDERS, fault=fault)
    ).verdict
    verdict.notes["webhooks in flight at each kill"] = caught
    west = chaos_world.shop.west
    if min(caught) == 0:
        verdict.problem(f"a kill did not land mid-delivery (requests in flight: {caught})")
    elif verdict.notes[f"{west} re-sent under the same webhook-id"] == 0:
        verdict.problem("deliveries were cut mid-request, yet none was sent again: the audit would not see a loss")
    record(chaos_ledger, verdict)


async def test_sftp_vendor_down_for_a_minute(
    chaos_world: World, chaos_ledger: list[Verdict], tmp_path: pathlib.Path
) -> None:
    """An SFTP vendor's server goes away for a minute while orders keep coming; every order file is
    there afterwards, once, under its own name."""
    server = SftpServer(tmp_path / "sftp")
    await server.start()
    try:
        north = await SftpVendor.set_up(chaos_world.api, server, unique("north-"), unique("BOX-"))
        chaos_world.north = north
        await open_tap(chaos_world.amqp_url, chaos_world.namespace, [north.code])
        accepted_during: list[int] = []

        async def fault(load: OrderLoad) -> int:
            await load.reached(0.15)
            before = len(load.accepted)
            await server.stop()
            try:
                await asyncio.sleep(SFTP_DOWN_SECONDS)
            finally:
                await server.restart()
            accepted_during.append(len(load.accepted) - before)
            return 1

        run = await run_scenario(
            chaos_world,
            "SFTP vendor down 60 s",
            orders=SFTP_ORDERS,
            fault=fault,
            rate=SFTP_ORDERS_PER_SECOND,
        )
        verdict = run.verdict
        connection = await asyncpg.connect(chaos_world.database_url, timeout=10)
        try:
            refused = await connection.fetchval(
                "SELECT count(*) FROM gateway.delivery_attempts a JOIN gateway.deliveries d USING (delivery_id)"
                " WHERE d.vendor = $1 AND NOT a.ok",
                north.code,
            )
        finally:
            await connection.close()
        verdict.notes["orders accepted while the SFTP server was down"] = accepted_during
        verdict.notes["SFTP uploads refused while it was down"] = refused
        if not accepted_during or accepted_during[0] < SFTP_ORDERS_PER_SECOND * SFTP_DOWN_SECONDS / 2:
            verdict.problem(f"orders did not keep coming while the SFTP server was down: {accepted_during}")
        if not refused:
            verdict.problem("no upload failed while the SFTP server was down: the fault did not bite")
        record(chaos_ledger, verdict)
    finally:
        await server.stop()


async def _handled(session: aiohttp.ClientSession, url: str) -> int:
    """Messages this process consumed successfully, from its ``/metrics``."""
    async with session.get(f"{url}/metrics") as response:
        text = await response.text()
    pattern = re.compile(r'^messages_handled_total\{[^}]*outcome="ok"[^}]*\} ([0-9.e+]+)$', re.MULTILINE)
    return int(sum(float(value) for value in pattern.findall(text)))


async def test_two_instances_side_by_side(chaos_world: World, chaos_ledger: list[Verdict]) -> None:
    processes = chaos_world.processes
    extra = [processes.add_instance(name) for name in ("splitter", "shipstation", "tracking")]
    await processes.wait_ready()
    store_urls = [chaos_world.store_url(processes.urls["shipstation"]), chaos_world.store_url(extra[1].url)]

    async def fault(load: OrderLoad) -> int:
        return 0

    verdict = (
        await run_scenario(chaos_world, "two instances side by side", orders=ORDERS, fault=fault, store_urls=store_urls)
    ).verdict
    verdict.faults = len(extra)
    session = chaos_world.api.session
    for second in extra:
        first = processes.processes[second.name]
        shares = (await _handled(session, first.url), await _handled(session, second.url))
        verdict.notes[f"{second.name} messages handled"] = shares
        if min(shares) == 0:
            verdict.problem(f"{second.name}: one instance consumed nothing ({shares})")
    record(chaos_ledger, verdict)


def _stop_seconds(logs: str) -> float | None:
    """How long the last graceful stop in a service's log took, from "service stopping" to "stopped"."""
    stamps: dict[str, datetime] = {}
    for line in logs.splitlines():
        if '"service stopping"' in line or '"service stopped"' in line:
            entry = json.loads(line)
            stamps[entry["event"]] = datetime.fromisoformat(entry["timestamp"])
    if "service stopping" not in stamps or "service stopped" not in stamps:
        return None
    return round((stamps["service stopped"] - stamps["service stopping"]).total_seconds(), 2)


async def test_sigterm_each_service_under_load(chaos_world: World, chaos_ledger: list[Verdict]) -> None:
    processes = chaos_world.processes
    stops: dict[str, tuple[int | None, float | None]] = {}
    # A channel that takes its time: webhooks are in flight when intake is told to stop.
    chaos_world.receiver.latency = 0.5

    async def fault(load: OrderLoad) -> int:
        # Intake last, when the webhooks to the channel are in full flow.
        order = ("splitter", "shipstation", "tracking", "gateway", "intake")
        for name, at in zip(order, (0.15, 0.3, 0.45, 0.6, 0.8), strict=True):
            await load.reached(at)
            proc = processes.processes[name]
            code = await asyncio.to_thread(proc.stop, 40)
            stops[name] = (code, _stop_seconds(proc.logs()))
            proc.start()
        return len(stops)

    run = await run_scenario(chaos_world, "SIGTERM each service", orders=ORDERS, fault=fault)
    verdict = run.verdict
    verdict.notes["stops (exit code, seconds)"] = stops
    for name, (code, seconds) in stops.items():
        # In-flight work is a few dozen messages and one round of webhooks: seconds, not more.
        if code != 0 or seconds is None or seconds > STOP_SECONDS:
            verdict.problem(f"{name} did not stop gracefully on SIGTERM: exit code {code}, stop took {seconds}s")
    # A graceful stop answers the requests it took: no 5xx (nothing else is wrong in this scenario).
    failures = [kind for kind in run.failed_requests() if "HTTP 5" in kind]
    if failures:
        verdict.problem(f"requests failed while services stopped gracefully: {failures}")
    # A graceful stop finishes and records what it started: nothing is done a second time.
    if verdict.notes["repeated webhook-ids"]:
        verdict.problem(f"{verdict.notes['repeated webhook-ids']} channel webhooks were sent again after a stop")
    resent = verdict.notes[f"{chaos_world.shop.west} re-sent under the same webhook-id"]
    if resent:
        verdict.problem(f"{resent} vendor webhooks were sent again after a stop")
    if verdict.notes["republished copies"]:
        verdict.problem(f"{verdict.notes['republished copies']} vendor messages were published again after a stop")
    record(chaos_ledger, verdict)
