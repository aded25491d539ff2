"""``make run``'s preparation step: idempotent set-up, and one clear line when infrastructure is away."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from shared.processes import free_port
from tests.conftest import SuiteEnvironment

REPO_ROOT = Path(__file__).resolve().parents[2]


def _prepare(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.runner", "prepare"],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_prepare_creates_schemas_and_token_and_can_run_twice(test_env: SuiteEnvironment, tmp_path: Path) -> None:
    database_url = test_env.database_url + "_prep"
    env = {
        "DROPSHIP_DATABASE_URL": database_url,
        "DROPSHIP_NAMESPACE": test_env.namespace,
        # The suite's services declared this namespace's queues with its delivery limit; declaring them
        # again with other arguments is refused by RabbitMQ, as it would be for a misconfigured install.
        "DROPSHIP_DELIVERY_LIMIT": str(test_env.settings().delivery_limit),
        "DROPSHIP_ADMIN_TOKEN_FILE": str(tmp_path / ".dropship" / "admin-token"),
    }
    try:
        for _ in range(2):
            result = await asyncio.to_thread(_prepare, env, tmp_path)
            assert result.returncode == 0, result.stderr
        token_file = tmp_path / ".dropship" / "admin-token"
        assert token_file.stat().st_mode & 0o777 == 0o600
        assert len(token_file.read_text().strip()) >= 32
        connection = await asyncpg.connect(database_url)
        try:
            schemas = {r["nspname"] for r in await connection.fetch("SELECT nspname FROM pg_namespace")}
            applied = await connection.fetchval("SELECT count(*) FROM splitter.schema_migrations")
        finally:
            await connection.close()
        assert {"intake", "splitter", "shipstation", "tracking"} <= schemas
        assert applied >= 2
    finally:
        from shared.db import drop_database

        await drop_database(database_url)


async def test_unreachable_broker_gives_one_line_naming_the_url(test_env: SuiteEnvironment, tmp_path: Path) -> None:
    port = free_port()
    result = await asyncio.to_thread(
        _prepare,
        {
            "DROPSHIP_DATABASE_URL": test_env.database_url,
            "DROPSHIP_AMQP_URL": f"amqp://guest:secret-pw@127.0.0.1:{port}/",
            "PATH": "/usr/bin:/bin",  # no docker on the path: no attempt to start containers
        },
        tmp_path,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert f"127.0.0.1:{port}" in lines[0] and "rabbitmq-server" in lines[0]
    assert "secret-pw" not in result.stderr


async def test_unreachable_database_gives_one_line_naming_the_url(tmp_path: Path) -> None:
    port = free_port()
    result = await asyncio.to_thread(
        _prepare,
        {"DROPSHIP_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/dropship", "PATH": "/usr/bin:/bin"},
        tmp_path,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert f"127.0.0.1:{port}" in lines[0] and "pg_ctlcluster" in lines[0]
