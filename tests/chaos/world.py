"""The system a chaos scenario runs: every service as processes (one each, or more instances of
each) on a database and namespace of their own, a channel that receives webhooks, a webhook vendor
the gateway delivers to, and a shop set up through the admin API; removed afterwards."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp

from shared.db import drop_database, ensure_database
from shared.messaging.broker import connect
from shared.secrets import new_secret_key
from tests.chaos.faults import list_queues
from tests.chaos.flow import QueueDepths, SlowChannel, World, set_up_shop
from tests.chaos.vendors import VendorWebhooks, open_tap, webhook_secret
from tests.conftest import BASE_DATABASE_URL, RUN_ID
from tests.e2e.harness import SERVICE_NAMES, ProcessSystem
from tests.support import Api


async def remove_namespace(amqp_url: str, namespace: str, queue_depths: QueueDepths = list_queues) -> None:
    connection = await connect(amqp_url, name="dropship-chaos-cleanup")
    try:
        channel = await connection.channel()
        for queue in await queue_depths(namespace):
            await channel.queue_delete(queue, if_unused=False, if_empty=False)
        for exchange in ("dropship.events", "dropship.parked"):
            await channel.exchange_delete(f"{namespace}.{exchange}")
    finally:
        await connection.close()


def chaos_env(database_url: str, amqp_url: str, namespace: str, admin_token: str) -> dict[str, str]:
    return {
        "DROPSHIP_DATABASE_URL": database_url,
        "DROPSHIP_AMQP_URL": amqp_url,
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


@contextlib.asynccontextmanager
async def chaos_system(
    tmp_path: Path,
    amqp_url: str,
    *,
    instances: int = 1,
    queue_depths: QueueDepths = list_queues,
    env_overrides: dict[str, str] | None = None,
    cleanup: Callable[[str], Awaitable[None]] | None = None,
) -> AsyncIterator[World]:
    """The system on ``amqp_url`` with ``instances`` processes of every service; ``cleanup`` removes
    the namespace afterwards (the default deletes its queues and exchanges)."""
    suffix = uuid.uuid4().hex[:6]
    database_url = f"{BASE_DATABASE_URL}/dropship_chaos_{RUN_ID}_{suffix}"
    namespace = f"chaos{RUN_ID}{suffix}"
    admin_token = f"admin-{uuid.uuid4().hex}"
    await ensure_database(database_url)
    env = {**chaos_env(database_url, amqp_url, namespace, admin_token), **(env_overrides or {})}
    logs = tmp_path / "service-logs"
    logs.mkdir()
    processes = ProcessSystem(env, logs)
    receiver = SlowChannel()
    west_hooks = VendorWebhooks(webhook_secret())
    await receiver.start()
    await west_hooks.start()
    try:
        processes.start()
        for _ in range(instances - 1):
            for name in SERVICE_NAMES:
                processes.add_instance(name)
        await processes.wait_ready()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session:
            api = Api(session, processes.urls, admin_token)
            shop = await set_up_shop(api, receiver, west_hooks)
            tap = await open_tap(amqp_url, namespace, [shop.west])
            yield World(
                processes,
                api,
                receiver,
                shop,
                database_url,
                amqp_url,
                namespace,
                west_hooks,
                tap,
                queue_depths=queue_depths,
            )
    finally:
        processes.stop_all()
        await west_hooks.stop()
        await receiver.stop()
        try:
            await drop_database(database_url)
        finally:
            if cleanup is not None:
                await cleanup(namespace)
            else:
                await remove_namespace(amqp_url, namespace, queue_depths)
