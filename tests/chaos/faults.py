"""The faults the chaos suite injects into shared infrastructure: RabbitMQ and PostgreSQL restarts and
killed database connections.

RabbitMQ and PostgreSQL on this machine are shared with everyone else's test runs, so every outage is
a few seconds long, is always undone in a ``finally``, and is announced in ``/tmp/dropship-infra-restart``
while it lasts, so that someone whose run failed at that moment can tell why.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

INFRA_MARKER = Path("/tmp/dropship-infra-restart")


@contextlib.contextmanager
def announced(what: str) -> Iterator[None]:
    """Leave a note in :data:`INFRA_MARKER` while ``what`` is under way, and remove it afterwards."""
    INFRA_MARKER.write_text(f"{what}: chaos suite (pid {os.getpid()}), started {time.strftime('%H:%M:%S')}\n")
    try:
        yield
    finally:
        INFRA_MARKER.unlink(missing_ok=True)


async def _run(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    def call() -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(argv, -1, "", f"timed out after {timeout:.0f}s")

    return await asyncio.to_thread(call)


async def _checked(*argv: str, timeout: float = 120) -> None:
    result = await _run(*argv, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()[-500:]}")


async def restart_rabbitmq(down_seconds: float = 3.0) -> None:
    """``rabbitmqctl stop_app``, a short outage, ``start_app``; the broker is always started again."""
    with announced("RabbitMQ restart (rabbitmqctl stop_app / start_app)"):
        try:
            await _checked("rabbitmqctl", "-q", "stop_app")
            await asyncio.sleep(down_seconds)
        finally:
            await _checked("rabbitmqctl", "-q", "start_app")
            await _checked("rabbitmqctl", "-q", "await_startup", "--timeout", "120", timeout=150)


def postgres_version() -> str:
    versions = sorted(os.listdir("/etc/postgresql"), key=lambda v: [int(p) for p in v.split(".") if p.isdigit()])
    return versions[-1]


async def restart_postgres() -> None:
    """``pg_ctlcluster … main restart`` (fast mode: every connection is cut); started again if it failed."""
    version = postgres_version()
    with announced(f"PostgreSQL {version} restart (pg_ctlcluster restart)"):
        try:
            await _checked("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart")
        finally:
            if (await _run("pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432")).returncode != 0:
                await _run("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start")
            for _ in range(60):
                if (await _run("pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432")).returncode == 0:
                    break
                await asyncio.sleep(0.5)


def admin_dsn(database_url: str) -> tuple[str, str]:
    """A DSN to the ``postgres`` database on the same server, and the name of the database in ``database_url``."""
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


async def terminate_backends(database_url: str) -> int:
    """``pg_terminate_backend`` every connection to this test's database (only this one). Answers how many."""
    dsn, database = admin_dsn(database_url)
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        killed: int = await connection.fetchval(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await connection.close()
    return killed


async def list_queues(namespace: str) -> dict[str, tuple[int, int]]:
    """``rabbitmqctl list_queues name messages messages_unacknowledged`` for this namespace's queues."""
    result = await _run(
        "rabbitmqctl",
        "list_queues",
        "-q",
        "--no-table-headers",
        "name",
        "messages",
        "messages_unacknowledged",
        timeout=60,
    )
    if result.returncode != 0:
        raise RuntimeError(f"rabbitmqctl list_queues failed: {result.stderr.strip()[-500:]}")
    queues: dict[str, tuple[int, int]] = {}
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].startswith(f"{namespace}."):
            queues[parts[0]] = (int(parts[1]), int(parts[2]))
    return queues
