"""Batches that form under load: the one way concurrent callers share a unit of work (a consumer's inbox
transaction, intake's statement for the orders posted at the same moment).

Each call of a :class:`Batcher` hands over one item and waits for that item's own result. Items that
arrive while earlier batches are being applied wait together and go in the next batch; a batch that is
forming while items keep arriving lingers a little for more (:class:`~shared.messaging.linger.LingerPolicy`:
never past ``linger_seconds`` after its first item, never when arrivals are sparse, never once full).
A batch of one is applied alone; a larger batch is applied together, and if that fails it is applied
again one item at a time, so one bad item costs the others nothing but a second try and every caller
sees its own outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from shared.logging import get_logger
from shared.messaging.linger import DEFAULT_LINGER_SECONDS, LingerPolicy

log = get_logger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class _Pending(Generic[Item, Result]):
    item: Item
    arrived_at: float
    outcome: asyncio.Future[Result] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class Batcher(Generic[Item, Result]):
    """Applies items in batches of up to ``max_batch``, up to ``concurrency`` batches at once.

    ``apply_batch(items)`` answers one result per item, in order, or raises (then each item is given
    to ``apply_one``). ``on_batch(size)`` is told the size of every batch taken.
    """

    def __init__(
        self,
        name: str,
        apply_batch: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]],
        apply_one: Callable[[Item], Awaitable[Result]],
        *,
        max_batch: int = 32,
        concurrency: int = 2,
        linger_seconds: float = DEFAULT_LINGER_SECONDS,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self._name = name
        self._apply_batch = apply_batch
        self._apply_one = apply_one
        self._max_batch = max_batch
        self._concurrency = concurrency
        self._policy = LingerPolicy(linger_seconds, max_batch)
        self._on_batch = on_batch
        self._waiting: list[_Pending[Item, Result]] = []
        self._workers: set[asyncio.Task[None]] = set()
        self._collecting = False
        self._arrival = asyncio.Event()
        self.batches = 0
        self.sizes: list[int] = []
        """The size of each batch taken, most recent last (the last 1,000)."""

    async def __call__(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        pending: _Pending[Item, Result] = _Pending(item, loop.time())
        self._waiting.append(pending)
        self._policy.arrived(pending.arrived_at)
        self._arrival.set()
        self._start_worker_if_needed()
        # shield: a caller cancelled mid-batch (a stopping consumer) must not cancel the batch the
        # other callers wait on; the work is either done for all of them or for none.
        return await asyncio.shield(pending.outcome)

    def _start_worker_if_needed(self) -> None:
        # A worker collecting a batch takes the new arrival; a worker applying one looks at the
        # waiting list again before it ends.
        if self._collecting or not self._waiting:
            return
        if sum(not worker.done() for worker in self._workers) < self._concurrency:
            worker = asyncio.create_task(self._work(), name=f"batch-{self._name}")
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)

    async def _work(self) -> None:
        while self._waiting and not self._collecting:
            self._collecting = True
            try:
                await self._linger()
            finally:
                self._collecting = False
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            # What this batch left behind can start in another worker while this one applies.
            self._start_worker_if_needed()
            try:
                await self._apply(batch)
            except BaseException as error:  # never leave a caller waiting forever
                for pending in batch:
                    if not pending.outcome.done():
                        pending.outcome.set_exception(error)
                if isinstance(error, asyncio.CancelledError):
                    raise

    async def _linger(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting:
            wait = self._policy.wait_for_more(len(self._waiting), self._waiting[0].arrived_at, loop.time())
            if wait <= 0:
                return
            self._arrival.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrival.wait(), timeout=wait)
                continue
            return

    async def _apply(self, batch: Sequence[_Pending[Item, Result]]) -> None:
        self.batches += 1
        self.sizes.append(len(batch))
        del self.sizes[:-1000]
        if self._on_batch is not None:
            self._on_batch(len(batch))
        if len(batch) == 1:
            await self._alone(batch[0])
            return
        try:
            results = await self._apply_batch([pending.item for pending in batch])
        except Exception as error:
            log.warning("batch failed, applying its items one by one", batcher=self._name, error=str(error))
            for pending in batch:
                await self._alone(pending)
            return
        for pending, result in zip(batch, results, strict=True):
            pending.outcome.set_result(result)

    async def _alone(self, pending: _Pending[Item, Result]) -> None:
        try:
            result = await self._apply_one(pending.item)
        except Exception as error:
            pending.outcome.set_exception(error)
            return
        pending.outcome.set_result(result)
