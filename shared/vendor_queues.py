"""Consuming ``vendor.<code>`` queues that come and go while a service runs: the one way a vendor
adapter (the ShipStation adapter, the gateway) picks up the queues of the vendors it serves.

A vendor is subscribed once, through :meth:`shared.service.Runtime.consume` (inbox, parking, retries
as every queue); :meth:`VendorQueues.follow` looks for vendors to serve every ``every`` seconds, so a
vendor created or connected through another instance is served by this one within seconds too.

The splitter declares a vendor's queue when the vendor is created. An adapter that serves vendors it
only finds in a list (``declare_missing=False``, the gateway) consumes a queue only once it exists: it
never brings back a queue someone removed, and looks again for it every :data:`MISSING_RECHECK_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from typing import Any

import aio_pika

from shared.contracts.envelope import Envelope
from shared.logging import get_logger
from shared.messaging.inbox import EventEffect, EventsEffect
from shared.messaging.topology import QueueSpec, vendor_queue
from shared.service import Runtime

log = get_logger(__name__)

MISSING_RECHECK_SECONDS = 30.0

VendorCodes = Callable[[], Awaitable[Iterable[str]]]
"""The vendors the service serves now (from its own table, or from the splitter)."""


class VendorQueues:
    def __init__(
        self,
        runtime: Runtime,
        handlers: Mapping[type[Envelope], EventEffect],
        *,
        run_handlers: Mapping[type[Envelope], EventsEffect] | None = None,
        consumer: str,
        adapter: str,
        description: str,
        publishes: bool = False,
        declare_missing: bool = True,
    ) -> None:
        self._runtime = runtime
        self._handlers = handlers
        self._run_handlers = run_handlers
        self._consumer = consumer
        self._adapter = adapter
        self._description = description
        self._publishes = publishes
        self._declare_missing = declare_missing
        self._subscribed: set[str] = set()
        self._missing_since: dict[str, float] = {}
        self._stopping = asyncio.Event()

    @property
    def subscribed(self) -> frozenset[str]:
        return frozenset(self._subscribed)

    async def subscribe(self, vendor: str) -> None:
        """Consume ``vendor.<vendor>`` from now on (declared first; a second call does nothing)."""
        if vendor in self._subscribed:
            return
        spec = vendor_queue(vendor)
        if self._declare_missing:
            await self._runtime.declare(spec)
        elif not await self._queue_exists(vendor, spec):
            return
        subscriber = self._runtime.consume(
            spec,
            self._handlers,
            run_handlers=self._run_handlers,
            consumer=self._consumer,
            description=self._description,
            publishes=self._publishes,
            title=f"vendor.{vendor} ({self._adapter})",
        )
        self._subscribed.add(vendor)
        if self._runtime.broker.running:
            await subscriber.start()
        log.info("consuming vendor queue", vendor=vendor, adapter=self._adapter)

    async def _queue_exists(self, vendor: str, spec: QueueSpec) -> bool:
        checked = self._missing_since.get(vendor)
        if checked is not None and time.monotonic() - checked < MISSING_RECHECK_SECONDS:
            return False
        channel = await self._runtime.amqp.channel()
        try:
            await channel.declare_queue(self._runtime.topology.queue(spec), passive=True)
        except aio_pika.exceptions.ChannelClosed:
            self._missing_since[vendor] = time.monotonic()
            log.info("vendor queue not there (yet): not consumed", vendor=vendor, adapter=self._adapter)
            return False
        finally:
            if not channel.is_closed:
                await channel.close()
        self._missing_since.pop(vendor, None)
        return True

    async def subscribe_all(self, vendors: VendorCodes) -> None:
        for vendor in await vendors():
            await self.subscribe(vendor)

    def follow(self, vendors: VendorCodes, every: float) -> Callable[[], Coroutine[Any, Any, None]]:
        """A background job for :meth:`Runtime.add_background`: subscribe what ``vendors`` answers,
        every ``every`` seconds, until :meth:`stop`."""

        async def following() -> None:
            while not self._stopping.is_set():
                try:
                    await self.subscribe_all(vendors)
                except Exception as error:  # the database, the splitter or the broker is away: next round
                    log.warning("could not look for vendors to serve", adapter=self._adapter, error=str(error))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=every)

        return following

    async def stop(self) -> None:
        """End :meth:`follow` now rather than hold up the graceful stop."""
        self._stopping.set()
