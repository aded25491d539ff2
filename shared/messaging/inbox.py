"""The inbox guard: a consumer applies a message's effect and records its ``message_id`` in one
transaction, so a redelivered message changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from shared.contracts.envelope import Envelope
from shared.db import Connection

Effect = Callable[[Connection], Awaitable[None]]


async def apply_once(pool: asyncpg.Pool, consumer: str, event: Envelope, effect: Effect) -> bool:
    """Run ``effect`` in a transaction unless ``consumer`` applied ``event`` before.

    Answers whether the effect ran. If ``effect`` raises, nothing is recorded and the message is
    redelivered by the broker.
    """
    async with pool.acquire() as connection, connection.transaction():
        first_time = await connection.fetchval(
            "INSERT INTO inbox (consumer, message_id, message_type) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING RETURNING true",
            consumer,
            event.message_id,
            event.type,
        )
        if not first_time:
            return False
        await effect(connection)
        return True
