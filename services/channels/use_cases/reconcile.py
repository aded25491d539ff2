"""Missed webhooks: each shop is asked, on start and then every ``reconcile_interval_seconds``, for
the orders changed since the last one the reconciler saw; each comes in as a webhook would (queued
under a key of its own), so what a webhook brought already changes nothing. A shop whose webhooks
could not be registered when it was added is registered here too."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from services.channels.ports import PlatformError
from services.channels.store import shops as shop_store
from services.channels.store import tasks
from services.channels.use_cases.context import ChannelsPorts
from services.channels.use_cases.shops import register_webhooks
from shared.logging import get_logger

log = get_logger(__name__)

OVERLAP = timedelta(minutes=5)
"""Asked again from a little before the last order seen: clocks and a platform's indexing lag."""
CHECK_SECONDS = 30.0


async def reconcile_due(ports: ChannelsPorts) -> int:
    """Every shop whose reconcile is due, one at a time; answers how many orders were queued."""
    queued = 0
    while (
        stored := await shop_store.claim_reconcile(ports.pool, ports.settings.reconcile_interval_seconds)
    ) is not None:
        queued += await reconcile_shop(ports, stored.code)
    return queued


async def reconcile_shop(ports: ChannelsPorts, code: str) -> int:
    shop = await ports.shop(code)
    if shop.stored.webhooks_registered_at is None:
        await register_webhooks(ports, shop)
    platform = ports.platform(shop)
    latest: datetime | None = None
    queued = 0
    try:
        rows: list[tuple[str, str, str, object]] = []
        async for change in platform.orders_changed_since(shop.stored.seen_through - OVERLAP):
            decision = shop.kind.decide(change.topic, change.payload)
            updated = decision.updated_at
            if updated is not None and (latest is None or updated > latest):
                latest = updated
            stamp = updated.isoformat() if updated else "unknown"
            key = f"reconcile:{decision.platform_order_id}:{stamp}"
            rows.append((key, decision.platform_order_id, change.topic, {"payload": change.payload}))
            if len(rows) >= 100:
                queued += await tasks.add_many(ports.pool, code, "webhook", rows)
                rows = []
        queued += await tasks.add_many(ports.pool, code, "webhook", rows)
    except PlatformError as error:
        await shop_store.record_reconciled(ports.pool, code, latest, error.message)
        log.warning("reconcile failed, next interval tries again", shop=code, error=error.message)
        return queued
    await shop_store.record_reconciled(ports.pool, code, latest, None)
    if queued:
        log.info("reconcile found orders webhooks had not brought", shop=code, queued=queued)
        ports.wake_worker()
    return queued


class Reconciler:
    def __init__(self, ports: ChannelsPorts) -> None:
        self._ports = ports
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._finished = asyncio.Event()
        ports.wake_reconciler = self._wake.set

    async def run(self) -> None:
        try:
            await self._run()
        finally:
            self._finished.set()

    async def _run(self) -> None:
        await shop_store.reconcile_now(self._ports.pool)  # on start: webhooks may have been missed while down
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                await reconcile_due(self._ports)
            except Exception:  # the database away: the next check tries again
                log.exception("reconcile round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=CHECK_SECONDS)

    async def stop(self, within: float) -> None:
        """Finish the reconcile under way (within ``within`` seconds), then stop."""
        self._stopping.set()
        self._wake.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._finished.wait(), timeout=within)
