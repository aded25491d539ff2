"""The bench's own database and namespace, so a running install (or a test run) is never touched,
and their removal when the run ends."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import time
import uuid
from dataclasses import dataclass, field

import asyncpg
from pydantic import SecretStr

from shared.db import drop_database, ensure_database
from shared.messaging.broker import connect
from shared.messaging.topology import SERVICE_QUEUES, QueueSpec, Topology, delete_namespace, vendor_queue
from shared.secrets import new_secret_key
from shared.settings import Settings

BASE_DATABASE_URL = os.environ.get("DROPSHIP_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432")
AMQP_URL = os.environ.get("DROPSHIP_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


async def connect_database(dsn: str, application_name: str = "bench-reader", within: float = 60) -> asyncpg.Connection:
    """A connection of the bench's own; retried while PostgreSQL is full (other suites share its
    ``max_connections``) or restarting (the chaos suite)."""
    deadline = time.monotonic() + within
    while True:
        try:
            return await asyncpg.connect(dsn, server_settings={"application_name": application_name})
        except (asyncpg.TooManyConnectionsError, asyncpg.CannotConnectNowError, OSError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(1)


@dataclass
class BenchEnvironment:
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    admin_token: str = field(default_factory=lambda: f"bench-{secrets.token_urlsafe(24)}")
    secret_key: str = field(default_factory=new_secret_key)
    """Seals the secrets the services store (the gateway's vendor connections): the run's own."""
    amqp_url: str = AMQP_URL
    vendors: list[str] = field(default_factory=list)
    """Vendor codes the run created: their queues are removed with the namespace."""
    extra_queues: list[str] = field(default_factory=list)

    @property
    def database_url(self) -> str:
        return f"{BASE_DATABASE_URL.rstrip('/')}/dropship_bench_{self.run_id}"

    @property
    def namespace(self) -> str:
        return f"bench{self.run_id}"

    @property
    def topology(self) -> Topology:
        return Topology(self.namespace, 10)

    def settings(self) -> Settings:
        return Settings(
            database_url=self.database_url,
            amqp_url=self.amqp_url,
            namespace=self.namespace,
            admin_token=self.admin_token,
            secret_key=SecretStr(self.secret_key),
            log_format="json",
        )

    def env(self) -> dict[str, str]:
        """What a service process gets, on top of the bench's own environment."""
        return {
            "DROPSHIP_DATABASE_URL": self.database_url,
            "DROPSHIP_AMQP_URL": self.amqp_url,
            "DROPSHIP_NAMESPACE": self.namespace,
            "DROPSHIP_ADMIN_TOKEN": self.admin_token,
            "DROPSHIP_SECRET_KEY": self.secret_key,
            "DROPSHIP_LOG_FORMAT": "json",
        }

    async def create(self) -> None:
        await ensure_database(self.database_url)

    async def remove(self, attempts: int = 10) -> list[str]:
        """Drop the database and delete every queue and exchange of the namespace; never raises.

        Retries for a while: the chaos suite may be restarting PostgreSQL or RabbitMQ right now.
        Answers what could not be removed.
        """
        database_left, queues_left = True, True
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(3)
            if database_left:
                with contextlib.suppress(Exception):
                    await drop_database(self.database_url)
                    database_left = False
            if queues_left:
                with contextlib.suppress(Exception):
                    await self._remove_queues()
                    queues_left = False
            if not database_left and not queues_left:
                return []
        return [what for what, left in (("database", database_left), ("queues", queues_left)) if left]

    async def _remove_queues(self) -> None:
        connection = await connect(self.amqp_url, name="dropship-bench-cleanup")
        try:
            specs: tuple[QueueSpec, ...] = (*SERVICE_QUEUES, *(vendor_queue(v) for v in self.vendors))
            channel = await connection.channel()
            await delete_namespace(channel, self.topology, specs)
            for name in self.extra_queues:
                await channel.queue_delete(name, if_unused=False, if_empty=False)
        finally:
            await connection.close()
