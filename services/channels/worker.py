"""The worker: one loop that runs what is owed (webhooks to intake, shipments and stock to the
platforms), woken by the tables' NOTIFY, and keeps the backlog gauges current. Every instance runs
one; leases keep them from doing the same task twice."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from services.channels.store import stock, tasks
from services.channels.store.tasks import DueTask, TaskResult
from services.channels.use_cases.context import ChannelsPorts, UnknownShop
from services.channels.use_cases.inbound import process_webhook
from services.channels.use_cases.outbound import push_shipment, push_stock_round
from services.channels.use_cases.retries import give_up_or_retry
from shared.logging import get_logger
from shared.messaging.relay import RelayLoop

log = get_logger(__name__)

BATCH = 32
GAUGE_SECONDS = 5.0


class Worker:
    def __init__(self, ports: ChannelsPorts, dsn: str, schema: str) -> None:
        self._ports = ports
        self._lease = ports.settings.platform_timeout_seconds * 3
        self._gauges_at = 0.0
        self._finished = asyncio.Event()
        self.loop = RelayLoop(
            name="channel-work",
            dsn=dsn,
            channel=f"channel_work_{schema}",
            run_round=self.run_round,
            batch_size=BATCH,
            idle_seconds=1.0,  # retries fall due with time, not with a NOTIFY
        )
        ports.wake_worker = self.loop.wake

    async def run(self) -> None:
        try:
            await self.loop.run()
        finally:
            self._finished.set()

    async def stop(self, within: float) -> None:
        """Finish the round under way (a platform answering, within ``within`` seconds), then stop."""
        await self.loop.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._finished.wait(), timeout=within)

    async def run_round(self) -> int:
        due = await tasks.claim(self._ports.pool, BATCH, self._lease)
        results = await asyncio.gather(*(self._run(task) for task in due))
        await tasks.finish(self._ports.pool, results)
        for result in results:
            kind = next(task.kind for task in due if task.seq == result.seq)
            self._ports.metrics.tasks.labels(kind, "retry" if result.state == "pending" else result.state).inc()
        levels = await push_stock_round(self._ports, self._lease)
        await self._refresh_gauges()
        # A full batch of either says there may be more: the loop runs again at once.
        return BATCH if len(due) == BATCH or levels else len(due)

    async def _run(self, task: DueTask) -> TaskResult:
        handlers: dict[str, Callable[..., Awaitable[TaskResult]]] = {
            "webhook": process_webhook,
            "shipment": push_shipment,
        }
        try:
            shop = await self._ports.shop(task.shop)
            return await handlers[task.kind](self._ports, shop, task)
        except UnknownShop:
            return TaskResult(task.seq, "failed", "shop removed", f"no shop {task.shop}")
        except Exception as error:  # a bug or an outage of our own database: kept, retried, visible
            log.exception("task failed", seq=task.seq, kind=task.kind, shop=task.shop)
            return give_up_or_retry(self._ports.settings, task, f"{type(error).__name__}: {error}")

    async def _refresh_gauges(self) -> None:
        now = time.monotonic()
        if now - self._gauges_at < GAUGE_SECONDS:
            return
        self._gauges_at = now
        metrics = self._ports.metrics
        rows = await tasks.backlog(self._ports.pool)
        for row in rows:
            metrics.backlog.labels(row.shop, row.kind).set(row.pending)
            metrics.backlog_oldest.labels(row.shop, row.kind).set(row.oldest_seconds)
            metrics.failed.labels(row.shop, row.kind).set(row.failed)
        pending = await stock.pending(self._ports.pool)
        for shop in {row.shop for row in rows}:
            metrics.stock_pending.labels(shop).set(pending.get(shop, 0))
