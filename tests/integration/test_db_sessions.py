"""Connections on a URL that asks for a writable server (``target_session_attrs=read-write``): the pool
drops a session whose server stopped taking writes instead of handing it out again, and a LISTEN
connection that was cut is opened again and looks for work. (The failover itself, a replica promoted
while the services run, is in ``tests/cluster/test_postgres_failover.py``.)"""

from __future__ import annotations

import asyncio

import asyncpg

from shared.db import create_pool, listen_forever
from tests.conftest import SuiteEnvironment
from tests.support import wait_until


def _writable(test_env: SuiteEnvironment) -> str:
    return f"{test_env.database_url}?target_session_attrs=read-write"


async def test_the_pool_drops_a_session_that_no_longer_takes_writes(test_env: SuiteEnvironment) -> None:
    pool = await create_pool(_writable(test_env), "public", max_size=1)
    try:
        async with pool.acquire() as connection:
            first = await connection.fetchval("SELECT pg_backend_pid()")
            # What a server told to refuse writes reports to its sessions (PostgreSQL 14+).
            await connection.execute("SET default_transaction_read_only = on")
        async with pool.acquire() as connection:
            second = await connection.fetchval("SELECT pg_backend_pid()")
            assert await connection.fetchval("SHOW default_transaction_read_only") == "off"
            await connection.execute("CREATE TEMP TABLE written (x int)")
        assert second != first
        async with pool.acquire() as connection:
            assert await connection.fetchval("SELECT pg_backend_pid()") == second  # a good one is kept
    finally:
        await pool.close()


async def test_a_cut_listen_connection_is_opened_again(test_env: SuiteEnvironment) -> None:
    dsn = _writable(test_env)
    channel = "dstest_listen_again"
    woken = 0

    def on_notify() -> None:
        nonlocal woken
        woken += 1

    stopping = asyncio.Event()
    listener = asyncio.create_task(listen_forever(dsn, channel, on_notify, stopping, check_seconds=0.5))
    admin = await asyncpg.connect(dsn)
    try:

        async def listening_pids() -> list[int]:
            rows = await admin.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = $1",
                f'LISTEN "{channel}"',
            )
            return [row["pid"] for row in rows]

        async def listening() -> bool:
            return bool(await listening_pids())

        async def woken_past(count: int) -> bool:
            return woken > count

        await wait_until(listening, timeout=10)
        assert woken == 1  # looked for work once connected
        (first,) = await listening_pids()
        await admin.execute("SELECT pg_terminate_backend($1)", first)

        async def listening_again() -> bool:
            return any(pid != first for pid in await listening_pids())

        await wait_until(listening_again, timeout=10)
        await wait_until(lambda: woken_past(1), timeout=5)  # looks for work again: NOTIFYs may have been missed
        before = woken
        await admin.execute(f"NOTIFY {channel}")
        await wait_until(lambda: woken_past(before), timeout=5)
    finally:
        stopping.set()
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await admin.close()
