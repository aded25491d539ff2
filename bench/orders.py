"""Orders through the whole system: an open-loop load of ``POST /v1/orders`` at a fixed rate, and a
read-only watcher of the adapter's ``vendor_orders`` table that notes when each order became exportable
(both of its vendor orders stored, so ShipStation's next export includes them).

Open loop: every order is sent at its scheduled time whether or not earlier ones were answered, and
latency counts from the scheduled time, so a slow system cannot hide its queueing (no coordinated
omission).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import asyncpg

from bench.environment import connect_database
from bench.machine import UsageMeter
from bench.scenario import PlannedOrder
from bench.stats import summary
from bench.system import BenchSystem


@dataclass
class OrderSample:
    planned: PlannedOrder
    scheduled: float
    status: int | None = None
    accepted: float | None = None
    exportable: float | None = None
    error: str | None = None
    sent_at: float | None = None
    """Wall-clock time the POST was sent (to compare with the database's timestamps)."""
    vendor_orders: dict[str, tuple[str, str]] = field(default_factory=dict)
    """vendor → (vendor order id, vendor order number), as the adapter stored them."""


class ExportWatcher:
    """Polls ``shipstation.vendor_orders`` (read-only) for the vendor orders of orders still pending.

    Reads only rows modified since the oldest pending order was sent (the adapter's ``last_modified``
    is its transaction's start, always later), through the export index, so one poll reads about
    ``rate * latency`` rows however many orders the run has sent.
    """

    def __init__(self, dsn: str, vendors: list[str], parts: int = 2, interval: float = 0.01) -> None:
        self._dsn = dsn
        self._vendors = vendors
        self._parts = parts
        self._interval = interval
        self._pending: dict[str, OrderSample] = {}
        self._missing: dict[str, set[str]] = {}
        self._task: asyncio.Task[None] | None = None
        self._connection: asyncpg.Connection | None = None
        self.polls = 0

    async def start(self) -> None:
        self._connection = await connect_database(self._dsn, "bench-watcher")
        await self._connection.execute("SET default_transaction_read_only = on")
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._connection is not None:
            await self._connection.close()

    def expect(self, sample: OrderSample) -> None:
        number = sample.planned.number
        self._pending[number] = sample
        self._missing[number] = {f"{number}-{part}" for part in range(1, self._parts + 1)}

    def forget(self, sample: OrderSample) -> None:
        self._pending.pop(sample.planned.number, None)
        self._missing.pop(sample.planned.number, None)

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def _run(self) -> None:
        assert self._connection is not None
        while True:
            sent = [s.sent_at for s in self._pending.values() if s.sent_at is not None]
            if sent:
                since = datetime.fromtimestamp(min(sent) - 1.0, UTC)
                rows = await self._connection.fetch(
                    "SELECT id, vendor, number FROM shipstation.vendor_orders"
                    " WHERE vendor = ANY($1::text[]) AND last_modified >= $2",
                    self._vendors,
                    since,
                )
                seen = time.monotonic()
                self.polls += 1
                for row in rows:
                    order_number = row["number"].rsplit("-", 1)[0]
                    sample = self._pending.get(order_number)
                    if sample is None:
                        continue
                    sample.vendor_orders[row["vendor"]] = (row["id"], row["number"])
                    missing = self._missing[order_number]
                    missing.discard(row["number"])
                    if not missing:
                        sample.exportable = seen
                        self.forget(sample)
            await asyncio.sleep(self._interval)


async def _post(
    session: aiohttp.ClientSession, url: str, key: str, sample: OrderSample, watcher: ExportWatcher
) -> None:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    sample.sent_at = time.time()
    try:
        async with session.post(url, data=sample.planned.body, headers=headers) as response:
            await response.read()
            sample.status = response.status
            sample.accepted = time.monotonic()
            if response.status != 201:
                sample.error = f"HTTP {response.status}"
                watcher.forget(sample)
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        sample.error = f"{type(error).__name__}: {error}"
        watcher.forget(sample)


async def open_loop(
    session: aiohttp.ClientSession,
    system: BenchSystem,
    watcher: ExportWatcher,
    key: str,
    plan: Callable[[], PlannedOrder],
    rate: float,
    seconds: float,
    drain_seconds: float,
    on_tick: Callable[[], None] | None = None,
) -> list[OrderSample]:
    """Send ``rate`` orders per second for ``seconds``, then wait up to ``drain_seconds`` for the last
    ones to become exportable. Bodies are made before the clock starts."""
    count = max(1, round(rate * seconds))
    url = f"{system.urls['intake']}/v1/orders"
    planned = [plan() for _ in range(count)]
    start = time.monotonic() + 0.05
    samples = [OrderSample(p, start + i / rate) for i, p in enumerate(planned)]
    for sample in samples:
        watcher.expect(sample)
    tasks: list[asyncio.Task[None]] = []
    next_tick = start + 1.0
    for sample in samples:
        delay = sample.scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_post(session, url, key, sample, watcher)))
        if on_tick is not None and time.monotonic() >= next_tick:
            on_tick()
            next_tick += 1.0
    await asyncio.gather(*tasks)
    deadline = time.monotonic() + drain_seconds
    # The watcher fills ``exportable`` in by polling the database; waiting here is polling as well.
    while any(s.exportable is None and s.error is None for s in samples) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    for sample in samples:
        if sample.exportable is None:
            watcher.forget(sample)
    system.check_alive()
    return samples


def judge(samples: list[OrderSample], rate: float, seconds: float, p99_limit: float) -> dict[str, Any]:
    """What a step achieved. Sustained means every order accepted (201) and exportable, and the p99
    from its scheduled send time to exportable under ``p99_limit``."""
    accepted = [s for s in samples if s.status == 201 and s.accepted is not None]
    exported = [s for s in accepted if s.exportable is not None]
    errors: dict[str, int] = {}
    for sample in samples:
        if sample.error is not None:
            errors[sample.error] = errors.get(sample.error, 0) + 1
    to_201 = [s.accepted - s.scheduled for s in accepted if s.accepted is not None]
    to_export = [s.exportable - s.accepted for s in exported if s.exportable is not None and s.accepted is not None]
    total = [s.exportable - s.scheduled for s in exported if s.exportable is not None]
    total_summary = summary(total)
    first = min((s.scheduled for s in samples), default=0.0)
    last_export = max((s.exportable for s in exported if s.exportable is not None), default=first)
    p99 = total_summary["p99"]
    sustained = len(exported) == len(samples) and not errors and p99 is not None and float(p99) < p99_limit
    return {
        "offered_per_s": rate,
        "seconds": seconds,
        "orders": len(samples),
        "accepted": len(accepted),
        "exportable": len(exported),
        "errors": errors,
        "completed_per_s": round(len(exported) / max(last_export - first, 1e-9), 1),
        "send_to_201_s": summary(to_201),
        "201_to_exportable_s": summary(to_export),
        "send_to_exportable_s": total_summary,
        "sustained": sustained,
    }


async def measured_step(
    session: aiohttp.ClientSession,
    system: BenchSystem,
    watcher: ExportWatcher,
    key: str,
    plan: Callable[[], PlannedOrder],
    rate: float,
    seconds: float,
    drain_seconds: float,
    p99_limit: float,
) -> tuple[dict[str, Any], list[OrderSample]]:
    """One open-loop step with CPU use and each service's resident memory sampled while it runs."""
    meter = UsageMeter(await system.process_groups()).start()
    rss_peak: dict[str, float] = {}
    rss_last: dict[str, float | None] = {}

    def tick() -> None:
        meter.check()
        nonlocal rss_last
        rss_last = system.rss()
        for name, value in rss_last.items():
            if value is not None:
                rss_peak[name] = max(rss_peak.get(name, 0.0), value)

    samples = await open_loop(session, system, watcher, key, plan, rate, seconds, drain_seconds, tick)
    usage = meter.stop(await system.process_groups())
    if not rss_last:
        tick()
    result = judge(samples, rate, seconds, p99_limit)
    result["usage"] = usage
    done = max(result["exportable"], 1)
    result["cpu_ms_per_order"] = {
        name: round(cores * usage["seconds"] / done * 1000, 2) for name, cores in usage["process_cores"].items()
    }
    result["rss_mb"] = {"last": rss_last, "peak": rss_peak}
    return result, samples
