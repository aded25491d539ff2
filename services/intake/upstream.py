"""Signed webhooks to the channel (Standard Webhooks), delivered from intake's own table.

A delivery is written in the same transaction as the status change that causes it, sent in order per
order, retried with exponential backoff and jitter until the channel answers 2xx, and survives
restarts because it lives in the database. ``webhook-id`` is the delivery id: a receiver dedupes on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time

import aiohttp
import asyncpg
from prometheus_client import CollectorRegistry, Counter, Gauge

from services.intake import repository
from services.intake.domain import next_backoff_seconds, sign_webhook
from shared.db import listen_forever
from shared.logging import get_logger

log = get_logger(__name__)


class UpstreamDeliverer:
    def __init__(
        self,
        pool: asyncpg.Pool,
        dsn: str,
        registry: CollectorRegistry,
        *,
        timeout_seconds: float,
        max_backoff_seconds: float,
        batch_size: int = 32,
    ) -> None:
        self._pool = pool
        self._dsn = dsn
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._max_backoff = max_backoff_seconds
        self._batch_size = batch_size
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        self.sent = Counter("webhook_deliveries", "Channel webhook attempts", ["outcome"], registry=registry)
        self.oldest_age = Gauge(
            "webhook_oldest_undelivered_age_seconds", "Age of the oldest undelivered channel update", registry=registry
        )

    async def run(self) -> None:
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        listener = asyncio.create_task(self._listen())
        next_gauge_update = 0.0
        try:
            while not self._stopping.is_set():
                # Cleared before the round, not after: a NOTIFY or stop() during the round is kept.
                self._wake.clear()
                try:
                    handled = await self.deliver_due()
                    if time.monotonic() >= next_gauge_update:  # a gauge, not worth a query per round
                        self.oldest_age.set(await repository.oldest_undelivered_age_seconds(self._pool))
                        next_gauge_update = time.monotonic() + 1.0
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    log.warning("webhook delivery round failed", error=str(error))
                    handled = 0
                if handled < self._batch_size:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=1.0)
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            await self._session.close()

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def deliver_due(self) -> int:
        async with self._pool.acquire() as connection, connection.transaction():
            due = await repository.claim_due_deliveries(connection, self._batch_size)
            results = await asyncio.gather(*(self._send(d) for d in due))
            delivered = [
                (delivery.seq, status)
                for delivery, (status, error) in zip(due, results, strict=True)
                if error is None and status is not None
            ]
            await repository.mark_delivered(connection, delivered)
            self.sent.labels("delivered").inc(len(delivered))
            for delivery, (status, error) in zip(due, results, strict=True):
                if error is None and status is not None:
                    continue
                retry_in = next_backoff_seconds(delivery.attempts + 1, random.random(), self._max_backoff)  # noqa: S311
                await repository.mark_failed(connection, delivery.seq, status, error or "failed", retry_in)
                self.sent.labels("failed").inc()
                log.info(
                    "channel webhook not accepted, will retry",
                    order_id=delivery.order_id,
                    delivery_id=delivery.delivery_id,
                    status=status,
                    error=error,
                    retry_in=round(retry_in, 1),
                )
        return len(due)

    async def _send(self, delivery: repository.DueDelivery) -> tuple[int | None, str | None]:
        if not delivery.webhook_url:
            return None, "channel has no webhook_url"
        assert self._session is not None
        body = json.dumps(delivery.body, separators=(",", ":"), ensure_ascii=False).encode()
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": delivery.delivery_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign_webhook(delivery.webhook_secret, delivery.delivery_id, timestamp, body),
        }
        try:
            async with self._session.post(delivery.webhook_url, data=body, headers=headers) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return response.status, None
                return response.status, f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            return None, f"{type(error).__name__}: {error}"

    async def _listen(self) -> None:
        await listen_forever(self._dsn, "upstream_intake", self._wake.set, self._stopping)
