"""What one hop could do at best here: raw aio-pika publish-then-consume of persistent, confirmed
messages on one quorum queue, and raw asyncpg single-row transactions, measured in the same run."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aio_pika
import asyncpg
from aio_pika.abc import AbstractIncomingMessage

from bench.environment import BenchEnvironment


async def broker_baseline(environment: BenchEnvironment, body: bytes, messages: int, window: int) -> dict[str, Any]:
    """Messages/s through one quorum queue: publish confirmed, then consume (prefetch 64, one ack each).

    Three numbers: publishing alone, consuming a full queue alone, and both at once (a steady hop).
    """
    queue_name = f"{environment.namespace}.bench.baseline"
    environment.extra_queues.append(queue_name)
    publisher = await aio_pika.connect(
        environment.amqp_url, client_properties={"connection_name": "bench-pub"}, timeout=30
    )
    consumer = await aio_pika.connect(
        environment.amqp_url, client_properties={"connection_name": "bench-sub"}, timeout=30
    )
    try:
        pub_channel = await publisher.channel(publisher_confirms=True, on_return_raises=True)
        await pub_channel.declare_queue(queue_name, durable=True, arguments={"x-queue-type": "quorum"})
        sub_channel = await consumer.channel()
        await sub_channel.set_qos(prefetch_count=64)
        sub_queue = await sub_channel.get_queue(queue_name)

        async def publish(count: int) -> float:
            gate = asyncio.Semaphore(window)
            started = time.perf_counter()

            async def one(index: int) -> None:
                try:
                    message = aio_pika.Message(
                        body,
                        content_type="application/json",
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        message_id=f"bench-{index}",
                    )
                    await pub_channel.default_exchange.publish(
                        message, routing_key=queue_name, mandatory=True, timeout=60
                    )
                finally:
                    gate.release()

            tasks = []
            for index in range(count):
                await gate.acquire()
                tasks.append(asyncio.create_task(one(index)))
            await asyncio.gather(*tasks)
            return time.perf_counter() - started

        async def consume(count: int, within: float = 120) -> tuple[float, float]:
            """Consume ``count`` messages; answers (start, end) perf_counter times."""
            done = asyncio.Event()
            seen = 0
            first = 0.0

            async def on_message(message: AbstractIncomingMessage) -> None:
                nonlocal seen, first
                if seen == 0:
                    first = time.perf_counter()
                await message.ack()
                seen += 1
                if seen >= count:
                    done.set()

            started = time.perf_counter()
            tag = await sub_queue.consume(on_message)
            try:
                await asyncio.wait_for(done.wait(), within)
            finally:
                await sub_queue.cancel(tag)
            return started, time.perf_counter()

        # Alone: publish everything, then drain the full queue.
        publish_seconds = await publish(messages)
        start, end = await consume(messages)
        consume_seconds = end - start
        # Together: a steady hop, the way a service publishes while the next one consumes.
        consuming = asyncio.create_task(consume(messages))
        await asyncio.sleep(0.05)
        hop_started = time.perf_counter()
        await publish(messages)
        _, hop_end = await consuming
        hop_seconds = hop_end - hop_started
        await pub_channel.queue_delete(queue_name)
    finally:
        await publisher.close()
        await consumer.close()
    return {
        "messages": messages,
        "message_bytes": len(body),
        "queue_type": "quorum",
        "publish_per_s": round(messages / publish_seconds, 1),
        "consume_per_s": round(messages / consume_seconds, 1),
        "hop_per_s": round(messages / hop_seconds, 1),
    }


async def database_baseline(
    environment: BenchEnvironment, body: bytes, transactions: int, concurrency: int
) -> dict[str, Any]:
    """Commits/s of single-row INSERT transactions (BEGIN; INSERT; COMMIT), with ``concurrency``
    connections and with one."""
    pool: asyncpg.Pool | None = None
    for attempt in range(10):  # PostgreSQL may be full (other suites share max_connections) or restarting
        try:
            pool = await asyncpg.create_pool(environment.database_url, min_size=concurrency, max_size=concurrency)
            break
        except (asyncpg.TooManyConnectionsError, asyncpg.CannotConnectNowError, OSError):
            if attempt == 9:
                raise
            await asyncio.sleep(3)
    assert pool is not None
    try:
        await pool.execute(
            "CREATE TABLE IF NOT EXISTS public.bench_baseline (id bigserial PRIMARY KEY, body bytea NOT NULL,"
            " created_at timestamptz NOT NULL DEFAULT now())"
        )

        async def run(count: int, workers: int) -> float:
            remaining = count

            async def worker() -> None:
                nonlocal remaining
                async with pool.acquire() as connection:
                    while remaining > 0:
                        remaining -= 1
                        async with connection.transaction():
                            await connection.execute("INSERT INTO public.bench_baseline (body) VALUES ($1)", body)

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(workers)))
            return time.perf_counter() - started

        await run(min(200, transactions), concurrency)  # warm the connections and the table
        concurrent_seconds = await run(transactions, concurrency)
        single_count = max(50, transactions // 10)
        single_seconds = await run(single_count, 1)
        await pool.execute("DROP TABLE public.bench_baseline")
    finally:
        await pool.close()
    return {
        "transactions": transactions,
        "row_bytes": len(body),
        "concurrency": concurrency,
        "commits_per_s": round(transactions / concurrent_seconds, 1),
        "commits_per_s_one_connection": round(single_count / single_seconds, 1),
    }
