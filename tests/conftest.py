"""Test infrastructure: every run gets its own PostgreSQL database and RabbitMQ namespace, so a
running install (or another test run) is never touched, and removes both when it ends.

Tiers (markers registered in pyproject.toml, ``--strict-markers``): ``unit``, ``integration`` and
``e2e`` and ``cluster`` are given by folder here; ``chaos`` and ``reference`` tests mark themselves. Reference tests
cross-check against the reference folder, which is not part of the project: without
``DROPSHIP_REFERENCE_DIR`` they are deselected (not skipped), so a fresh clone runs everything it
collects.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from services.intake.app import SERVICE as INTAKE
from services.shipstation.app import SERVICE as SHIPSTATION
from services.splitter.app import SERVICE as SPLITTER
from services.tracking.app import SERVICE as TRACKING
from shared.db import drop_database, ensure_database
from shared.logging import configure_logging
from shared.messaging.broker import connect
from shared.messaging.topology import delete_queues, vendor_queue
from shared.processes import free_port
from shared.secrets import new_secret_key
from shared.service import Runtime, ServiceDefinition, running_service
from shared.settings import Settings
from tests.reference.support import REFERENCE_ENV
from tests.support import AMQP_URL, Api, wait_until

TESTS_ROOT = Path(__file__).resolve().parent
TIER_BY_FOLDER = {
    "unit": "unit",
    "integration": "integration",
    "e2e": "e2e",
    "reference": "reference",
    "cluster": "cluster",
}


def _tier_folder(item: pytest.Item) -> str | None:
    try:
        relative = item.path.resolve().relative_to(TESTS_ROOT)
    except ValueError:
        return None
    return relative.parts[0] if len(relative.parts) > 1 else None


@pytest.hookimpl(tryfirst=True)  # before ``-m`` selects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        tier = TIER_BY_FOLDER.get(_tier_folder(item) or "")
        if tier is not None and item.get_closest_marker(tier) is None:
            item.add_marker(tier)
    if os.environ.get(REFERENCE_ENV):
        return
    deselected = [item for item in items if item.get_closest_marker("reference") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item.get_closest_marker("reference") is None]


RUN_ID = f"{os.getpid()}x{uuid.uuid4().hex[:6]}"
"""Names this run's database and namespace; the process id in it lets a later run on this machine
remove what a killed run left behind (quorum queues hold file descriptors on the broker)."""
RUN_NAMESPACE = re.compile(r"^test(?P<pid>[0-9]+)x[0-9a-f]+$")
BASE_DATABASE_URL = os.environ.get("DROPSHIP_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432")


@dataclass(frozen=True)
class SuiteEnvironment:
    database_url: str
    namespace: str
    admin_token: str
    secret_key: str = field(default_factory=new_secret_key)
    """Seals the secrets the services store (``DROPSHIP_SECRET_KEY``)."""

    def settings(self, settings_type: type[Settings] = Settings, **overrides: object) -> Settings:
        """Settings of ``settings_type`` for this run; overrides a type does not have are ignored."""
        values: dict[str, object] = {
            "database_url": self.database_url,
            "amqp_url": AMQP_URL,
            "namespace": self.namespace,
            "admin_token": self.admin_token,
            "secret_key": self.secret_key,
            "log_format": "json",
            "delivery_limit": 5,
        }
        values.update(overrides)
        return settings_type(**values)  # type: ignore[arg-type]

    def env(self) -> dict[str, str]:
        """Environment variables for a service started as its own process."""
        return {
            "DROPSHIP_DATABASE_URL": self.database_url,
            "DROPSHIP_AMQP_URL": AMQP_URL,
            "DROPSHIP_NAMESPACE": self.namespace,
            "DROPSHIP_ADMIN_TOKEN": self.admin_token,
            "DROPSHIP_SECRET_KEY": self.secret_key,
            "DROPSHIP_LOG_FORMAT": "json",
            "DROPSHIP_DELIVERY_LIMIT": "5",
        }


def _broker_queues() -> list[str]:
    try:
        listed = subprocess.run(
            ["rabbitmqctl", "list_queues", "-q", "--no-table-headers", "name"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [name.strip() for name in listed.stdout.splitlines() if name.strip()]


def _namespaces_of_dead_runs(queues: list[str]) -> set[str]:
    """Namespaces of test runs on this machine whose process is gone (killed before its cleanup)."""
    dead: set[str] = set()
    for queue in queues:
        namespace = queue.split(".", 1)[0]
        run = RUN_NAMESPACE.match(namespace)
        if run is not None and int(run["pid"]) != os.getpid() and not Path(f"/proc/{run['pid']}").exists():
            dead.add(namespace)
    return dead


async def _remove_namespaces(namespaces: set[str], queues: list[str]) -> None:
    connection = await connect(AMQP_URL, name="dropship-tests-cleanup")
    try:
        channel = await connection.channel()
        for queue in queues:
            if queue.split(".", 1)[0] in namespaces:
                await channel.queue_delete(queue, if_unused=False, if_empty=False)
        for namespace in namespaces:
            for exchange in ("dropship.events", "dropship.parked"):
                await channel.exchange_delete(f"{namespace}.{exchange}")
    finally:
        await connection.close()


async def _remove_dead_runs() -> None:
    queues = _broker_queues()
    namespaces = _namespaces_of_dead_runs(queues)
    if namespaces:
        await _remove_namespaces(namespaces, queues)
    for namespace in namespaces:
        await drop_database(f"{BASE_DATABASE_URL}/dropship_{namespace.replace('test', 'test_', 1)}")


@pytest.fixture(scope="session")
async def test_env() -> AsyncIterator[SuiteEnvironment]:
    configure_logging("tests", "json", os.environ.get("DROPSHIP_TEST_LOG_LEVEL", "WARNING"))
    await _remove_dead_runs()
    environment = SuiteEnvironment(
        database_url=f"{BASE_DATABASE_URL}/dropship_test_{RUN_ID}",
        namespace=f"test{RUN_ID}",
        admin_token=f"admin-{uuid.uuid4().hex}",
    )
    await ensure_database(environment.database_url)
    try:
        yield environment
    finally:
        await drop_database(environment.database_url)
        await _remove_namespaces({environment.namespace}, _broker_queues())


@dataclass
class RunningSystem:
    intake: Runtime
    splitter: Runtime
    shipstation: Runtime
    tracking: Runtime
    api: Api
    env: SuiteEnvironment

    def url(self, service: str) -> str:
        return self.api.urls[service]


@pytest.fixture(scope="session")
async def system(test_env: SuiteEnvironment) -> AsyncIterator[RunningSystem]:
    """All four services in this process, on free loopback ports, against the real broker and database."""
    ports = {name: free_port() for name in ("intake", "splitter", "shipstation", "tracking")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    overrides = {
        "intake_port": ports["intake"],
        "splitter_port": ports["splitter"],
        "shipstation_port": ports["shipstation"],
        "tracking_port": ports["tracking"],
        "webhook_max_backoff_seconds": 2.0,
    }
    definitions: tuple[ServiceDefinition[Any], ...] = (SPLITTER, TRACKING, SHIPSTATION, INTAKE)
    async with AsyncExitStack() as stack:
        runtimes = {}
        for definition in definitions:
            settings = test_env.settings(definition.settings_type, **overrides)
            runtimes[definition.name] = await stack.enter_async_context(running_service(definition, settings))
        session = await stack.enter_async_context(aiohttp.ClientSession())
        yield RunningSystem(
            runtimes["intake"],
            runtimes["splitter"],
            runtimes["shipstation"],
            runtimes["tracking"],
            Api(session, urls, test_env.admin_token),
            test_env,
        )


async def remove_vendor_queues(system: RunningSystem, codes: list[str]) -> None:
    """These tests make many vendors, each with a quorum queue, a parked queue and delay queues; the
    broker of a whole run should not carry them all (RabbitMQ 3.10 has been seen to stall under a
    thousand quorum queues). Once the splitter has published everything, nothing more goes to them."""
    splitter = system.splitter

    async def drained() -> bool:
        waiting: int = await splitter.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        return waiting == 0

    await wait_until(drained, timeout=20)
    channel = await splitter.amqp.channel()
    try:
        await delete_queues(channel, splitter.topology, tuple(vendor_queue(code) for code in codes))
    finally:
        await channel.close()
