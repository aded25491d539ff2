"""Signed webhooks to the channel (Standard Webhooks), delivered from intake's own table.

A delivery is written in the same transaction as the status change that causes it, sent in order per
order, retried with :func:`shared.backoff.backoff_seconds` until the channel answers 2xx, and survives
restarts because it lives in the database. ``webhook-id`` is the delivery id: a receiver dedupes on it.
The channel's secret is stored sealed and opened here, only to sign.

Rounds run in a :class:`shared.messaging.relay.RelayLoop`, like the outbox relay, and hold no
transaction open while a channel answers: a round leases what it sends (one statement), sends, then
stamps the delivered (one statement) and reschedules the failed (one round trip). Deliverers side by
side lease different rows; one that dies mid-round leaves its rows to be sent again once the lease
ends, which a receiver that dedupes on ``webhook-id`` absorbs.
"""

from __future__ import annotations

import asyncio
import json
import random
import time

import aiohttp
import asyncpg
from prometheus_client import CollectorRegistry, Counter, Gauge

from services.intake.repository import DueDelivery, FailedDelivery, IntakeRepository
from shared.backoff import backoff_seconds
from shared.logging import get_logger
from shared.messaging.relay import RelayLoop
from shared.secrets import SecretBox, is_sealed
from shared.webhooks import webhook_headers

log = get_logger(__name__)

FIRST_RETRY_SECONDS = 1.0
IDLE_SECONDS = 1.0
"""Retries fall due with time, not with an insert (which NOTIFYs): the loop looks again this often."""


class UpstreamDeliverer:
    def __init__(
        self,
        pool: asyncpg.Pool,
        dsn: str,
        registry: CollectorRegistry,
        secrets: SecretBox,
        *,
        timeout_seconds: float,
        max_backoff_seconds: float,
        batch_size: int = 32,
        lease_seconds: float | None = None,
    ) -> None:
        self._tables = IntakeRepository(pool)
        self._secrets = secrets
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._max_backoff = max_backoff_seconds
        self._batch_size = batch_size
        # The sends of a round run side by side, each within the timeout: a lease of several timeouts
        # outlasts the round, so no other deliverer sends the same rows while this one still may.
        self._lease_seconds = lease_seconds if lease_seconds is not None else max(30.0, 3 * timeout_seconds)
        self._session: aiohttp.ClientSession | None = None
        self._next_gauge_update = 0.0
        self._loop = RelayLoop(
            name="upstream-intake",
            dsn=dsn,
            channel="upstream_intake",
            run_round=self._round,
            batch_size=batch_size,
            idle_seconds=IDLE_SECONDS,
        )
        self.sent = Counter("webhook_deliveries", "Channel webhook attempts", ["outcome"], registry=registry)
        self.oldest_age = Gauge(
            "webhook_oldest_undelivered_age_seconds", "Age of the oldest undelivered channel update", registry=registry
        )

    async def run(self) -> None:
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            await self._loop.run()
        finally:
            await self._session.close()

    def wake(self) -> None:
        self._loop.wake()

    async def stop(self) -> None:
        """Finish the round under way (record what was sent), then stop."""
        await self._loop.stop()

    async def _round(self) -> int:
        handled = await self.deliver_due()
        if time.monotonic() >= self._next_gauge_update:  # a gauge, not worth a query per round
            self.oldest_age.set(await self._tables.oldest_undelivered_age_seconds())
            self._next_gauge_update = time.monotonic() + 1.0
        return handled

    async def deliver_due(self) -> int:
        """Send up to one batch of due deliveries; answers how many were attempted."""
        due = await self._tables.claim_due_deliveries(self._batch_size, self._lease_seconds)
        if not due:
            return 0
        results = await asyncio.gather(*(self._send(delivery) for delivery in due))
        delivered: list[tuple[int, int]] = []
        failed: list[FailedDelivery] = []
        for delivery, (status, error) in zip(due, results, strict=True):
            if error is None and status is not None:
                delivered.append((delivery.seq, status))
                continue
            retry_in = backoff_seconds(
                delivery.attempts + 1,
                first=FIRST_RETRY_SECONDS,
                cap=self._max_backoff,
                jitter=random.random(),  # noqa: S311 - spreading retries, not a secret
            )
            failed.append(FailedDelivery(delivery.seq, status, error or "failed", retry_in))
            log.info(
                "channel webhook not accepted, will retry",
                order_id=delivery.order_id,
                delivery_id=delivery.delivery_id,
                status=status,
                error=error,
                retry_in=round(retry_in, 1),
            )
        await self._tables.mark_delivered(delivered)
        await self._tables.reschedule_failed(failed)
        self.sent.labels("delivered").inc(len(delivered))
        self.sent.labels("failed").inc(len(failed))
        return len(due)

    async def _send(self, delivery: DueDelivery) -> tuple[int | None, str | None]:
        if not delivery.webhook_url:
            return None, "channel has no webhook_url"
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        secret = delivery.webhook_secret
        try:
            # A value in clear was written by an instance from before sealing (while both run during an
            # upgrade); the next start seals it.
            secret = self._secrets.open(secret) if is_sealed(secret) else secret
        except ValueError as unopenable:
            return None, str(unopenable)
        body = json.dumps(delivery.body, separators=(",", ":"), ensure_ascii=False).encode()
        headers = webhook_headers(secret, delivery.delivery_id, int(time.time()), body)
        try:
            async with self._session.post(delivery.webhook_url, data=body, headers=headers) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return response.status, None
                return response.status, f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            return None, f"{type(error).__name__}: {error}"
