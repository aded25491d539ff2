"""The chaos suite's fixtures: each scenario gets its own database, namespace and five fresh service
processes (a fault in one scenario must not leak into the next), and the figures of every scenario
are printed at the end of the run, whatever ``-s`` or ``-q`` say."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from shared.db import drop_database, ensure_database
from shared.messaging.broker import connect
from shared.secrets import new_secret_key
from tests.chaos.faults import list_queues
from tests.chaos.flow import SlowChannel, Verdict, World, set_up_shop
from tests.chaos.vendors import VendorWebhooks, open_tap, webhook_secret
from tests.conftest import BASE_DATABASE_URL, RUN_ID
from tests.e2e.harness import ProcessSystem
from tests.support import AMQP_URL, Api

LEDGER = pytest.StashKey[list[Verdict]]()


@pytest.fixture
def chaos_ledger(request: pytest.FixtureRequest) -> list[Verdict]:
    """Where scenarios record their figures for the summary at the end of the run."""
    return request.config.stash.setdefault(LEDGER, [])


async def _remove_namespace(namespace: str) -> None:
    connection = await connect(AMQP_URL, name="dropship-chaos-cleanup")
    try:
        channel = await connection.channel()
        for queue in await list_queues(namespace):
            await channel.queue_delete(queue, if_unused=False, if_empty=False)
        for exchange in ("dropship.events", "dropship.parked"):
            await channel.exchange_delete(f"{namespace}.{exchange}")
    finally:
        await connection.close()


@pytest.fixture
async def chaos_world(tmp_path: Path) -> AsyncIterator[World]:
    """The five services as processes on a database and namespace of their own, a channel that
    receives webhooks, a webhook vendor the gateway delivers to, and a shop set up through the admin API."""
    suffix = uuid.uuid4().hex[:6]
    database_url = f"{BASE_DATABASE_URL}/dropship_chaos_{RUN_ID}_{suffix}"
    namespace = f"chaos{RUN_ID}{suffix}"
    admin_token = f"admin-{uuid.uuid4().hex}"
    await ensure_database(database_url)
    env = {
        "DROPSHIP_DATABASE_URL": database_url,
        "DROPSHIP_AMQP_URL": AMQP_URL,
        "DROPSHIP_NAMESPACE": namespace,
        "DROPSHIP_ADMIN_TOKEN": admin_token,
        "DROPSHIP_SECRET_KEY": new_secret_key(),
        "DROPSHIP_LOG_FORMAT": "json",
        "DROPSHIP_LOG_LEVEL": "INFO",
        "DROPSHIP_DELIVERY_LIMIT": "5",
        "DROPSHIP_WEBHOOK_MAX_BACKOFF_SECONDS": "2",
        # The gateway keeps trying through every outage here (a give-up would reroute the order) and
        # retries soon after a vendor is back; a hung send is given up after a few seconds.
        "DROPSHIP_DELIVERY_ATTEMPTS": "1000",
        "DROPSHIP_DELIVERY_FIRST_RETRY_SECONDS": "0.5",
        "DROPSHIP_DELIVERY_MAX_BACKOFF_SECONDS": "3",
        "DROPSHIP_DELIVERY_TIMEOUT_SECONDS": "10",
        "DROPSHIP_VENDOR_DISCOVERY_SECONDS": "1",
        # Eight processes share PostgreSQL's 100 connections with everyone else's test runs here.
        "DROPSHIP_DB_POOL_SIZE": "6",
    }
    logs = tmp_path / "service-logs"
    logs.mkdir()
    processes = ProcessSystem(env, logs)
    receiver = SlowChannel()
    west_hooks = VendorWebhooks(webhook_secret())
    await receiver.start()
    await west_hooks.start()
    try:
        processes.start()
        await processes.wait_ready()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session:
            api = Api(session, processes.urls, admin_token)
            shop = await set_up_shop(api, receiver, west_hooks)
            tap = await open_tap(AMQP_URL, namespace, [shop.west])
            yield World(processes, api, receiver, shop, database_url, AMQP_URL, namespace, west_hooks, tap)
    finally:
        processes.stop_all()
        await west_hooks.stop()
        await receiver.stop()
        try:
            await drop_database(database_url)
        finally:
            await _remove_namespace(namespace)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    verdicts = config.stash.get(LEDGER, [])
    if not verdicts:
        return
    write = terminalreporter.write_line
    terminalreporter.write_sep("=", "chaos figures")
    write(f"{'scenario':<34} {'orders':>7} {'faults':>6} {'lost':>5} {'dup':>5} {'seconds':>8}")
    for v in verdicts:
        write(
            f"{v.scenario:<34} {v.orders:>7} {v.faults:>6} {v.total_lost:>5} {v.total_duplicated:>5} {v.seconds:>8.1f}"
        )
    write(
        f"{'total':<34} {sum(v.orders for v in verdicts):>7} {sum(v.faults for v in verdicts):>6}"
        f" {sum(v.total_lost for v in verdicts):>5} {sum(v.total_duplicated for v in verdicts):>5}"
        f" {sum(v.seconds for v in verdicts):>8.1f}"
    )
    for v in verdicts:
        write(v.report())
