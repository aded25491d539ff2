"""How every consumer treats a delivery: validate, apply, and decide what a failure means.

- The body does not match the contract: it never will; park it at once.
- A transient failure (database or network away, an event that overtook the one it depends on):
  retry later through a delay queue, without using up the poison budget.
- Any other failure: requeue; on the last allowed delivery, park it with the error recorded.

Parking and delaying publish a copy with publisher confirms before acknowledging the original, so a
crash in between duplicates (the inbox absorbs that) but never loses a message. Acknowledgements go
out by the batch (:mod:`shared.messaging.acks`): the deliveries one inbox transaction applied are
acknowledged by one multiple-ack once it committed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import aio_pika
import asyncpg
import structlog
from aio_pika.abc import AbstractChannel, AbstractRobustConnection
from faststream import AckPolicy
from faststream.rabbit import QueueType, RabbitBroker, RabbitMessage, RabbitQueue
from prometheus_client import CollectorRegistry, Counter, Histogram
from pydantic import TypeAdapter, ValidationError

from shared.db import DATABASE_UNAVAILABLE, database_unavailable
from shared.messaging.acks import BatchAcks
from shared.messaging.headers import (
    DELIVERIES,
    DELIVERY_COUNT,
    ERROR,
    ERROR_TYPE,
    LAST_ERROR,
    ORIGINAL_EXCHANGE,
    ORIGINAL_QUEUE,
    ORIGINAL_ROUTING_KEY,
    PARKED_AT,
    RETRIES,
    message_copy,
    without_broker_deaths,
)
from shared.messaging.topology import QueueSpec, Topology

log = structlog.get_logger(__name__)

MAX_TRANSIENT_RETRIES = 60
"""About five hours at the longest delay: past that, a person should look at it."""


BATCH_ACKS = BatchAcks()
"""Every guard's acknowledgements: one reckoning per channel, which the subscribers of a service share."""

DELIVERY_HEADERS: ContextVar[Mapping[str, Any]] = ContextVar("delivery_headers")
"""The AMQP headers of the delivery being handled (retry and delivery counts), for handlers that care:
``DELIVERY_HEADERS.get({})``."""


class RetryLater(Exception):
    """Raised by a handler when the message cannot be applied yet but will be later."""


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    RetryLater,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    *DATABASE_UNAVAILABLE,
)


def header_int(headers: Any, name: str) -> int:
    """An integer header (delivery counts, retry counts); absent or malformed counts as 0."""
    value = (headers or {}).get(name, 0)
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def is_transient(error: BaseException) -> bool:
    return isinstance(error, TRANSIENT_ERRORS) or database_unavailable(error)


class ConsumerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.handled = Counter("messages_handled", "Messages consumed", ["queue", "outcome"], registry=registry)
        self.batch_size = Histogram(
            "inbox_batch_size",
            "Messages applied per inbox transaction",
            ["consumer"],
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=registry,
        )


class DeliveryGuard:
    """Wraps a handler of typed events into a FastStream handler with explicit acknowledgement."""

    def __init__(
        self,
        *,
        amqp: AbstractRobustConnection,
        topology: Topology,
        spec: QueueSpec,
        adapter: TypeAdapter[Any],
        handler: Callable[[Any], Awaitable[object]],
        metrics: ConsumerMetrics,
        acks: BatchAcks = BATCH_ACKS,
    ) -> None:
        self._amqp = amqp
        self._acks = acks
        self._topology = topology
        self._spec = spec
        self._adapter = adapter
        self._handler = handler
        self.description = handler.__doc__
        self._metrics = metrics
        self._channel: AbstractChannel | None = None
        self._lock = asyncio.Lock()

    async def _publish_channel(self) -> AbstractChannel:
        async with self._lock:
            if self._channel is None or self._channel.is_closed:
                self._channel = await self._amqp.channel(publisher_confirms=True, on_return_raises=True)
            return self._channel

    async def __call__(self, body: bytes, message: RabbitMessage) -> None:
        try:
            await self._guard(body, message)
        except (aio_pika.exceptions.AMQPError, ConnectionError) as error:
            # The retry or parked copy was not taken (on a cluster, a classic delay queue whose node
            # is away answers NO_ROUTE), so the original was not acknowledged either: left as it is,
            # it would stay unacknowledged for as long as the channel lives. Back into its queue.
            log.warning("could not hand the message on, requeued", queue=self._spec.name, error=str(error))
            with contextlib.suppress(aio_pika.exceptions.AMQPError, ConnectionError, RuntimeError):
                await message.nack(requeue=True)
            # Settled for the batch acknowledgements too: the multiple-acks may now reach past it.
            self._acks.settled(message.raw_message)

    async def _guard(self, body: bytes, message: RabbitMessage) -> None:
        raw = message.raw_message
        headers = dict(raw.headers or {})
        DELIVERY_HEADERS.set(headers)
        structlog.contextvars.bind_contextvars(message_id=raw.message_id, order_id=raw.correlation_id)
        queue = self._spec.name
        try:
            event = self._adapter.validate_json(body)
        except ValidationError as error:
            await self._park(message, f"invalid message: {error}", "ValidationError")
            self._metrics.handled.labels(queue, "invalid").inc()
            return
        try:
            await self._handler(event)
        except Exception as error:
            if is_transient(error):
                await self._retry_later(message, error)
                self._metrics.handled.labels(queue, "retry").inc()
                return
            deliveries = header_int(headers, DELIVERY_COUNT) + 1
            if deliveries >= self._topology.delivery_limit:
                await self._park(message, f"{type(error).__name__}: {error}", type(error).__name__)
                self._metrics.handled.labels(queue, "parked").inc()
                return
            log.warning("handler failed, requeued", queue=queue, deliveries=deliveries, error=str(error))
            self._metrics.handled.labels(queue, "failed").inc()
            await message.nack(requeue=True)
            self._acks.settled(raw)
            return
        self._acks.ack(raw)
        self._metrics.handled.labels(queue, "ok").inc()

    def _copy(self, message: RabbitMessage, extra_headers: dict[str, Any]) -> aio_pika.Message:
        raw = message.raw_message
        headers = {**without_broker_deaths(raw.headers), **extra_headers}
        headers.setdefault(ORIGINAL_ROUTING_KEY, raw.routing_key or "")
        headers.setdefault(ORIGINAL_EXCHANGE, raw.exchange or "")
        headers.setdefault(ORIGINAL_QUEUE, self._topology.queue(self._spec))
        return message_copy(raw, headers)

    async def _park(self, message: RabbitMessage, error: str, error_type: str) -> None:
        log.error("message parked", queue=self._spec.name, error=error[:500])
        copy = self._copy(
            message,
            {
                ERROR: error[:2000],
                ERROR_TYPE: error_type,
                PARKED_AT: datetime.now(UTC).isoformat(),
                DELIVERIES: header_int(message.raw_message.headers, DELIVERY_COUNT) + 1,
            },
        )
        channel = await self._publish_channel()
        exchange = await channel.get_exchange(self._topology.parked_exchange, ensure=False)
        await exchange.publish(copy, routing_key=self._topology.parked_queue(self._spec), mandatory=True)
        self._acks.ack(message.raw_message)

    async def _retry_later(self, message: RabbitMessage, error: BaseException) -> None:
        retries = header_int(message.raw_message.headers, RETRIES) + 1
        if retries > MAX_TRANSIENT_RETRIES:
            await self._park(message, f"gave up after {retries - 1} retries: {error}", type(error).__name__)
            return
        tiers = self._topology.retry_delays
        delay = tiers[min(retries - 1, len(tiers) - 1)]
        log.info(
            "transient failure, retrying later", queue=self._spec.name, retry=retries, delay=delay, error=str(error)
        )
        copy = self._copy(message, {RETRIES: retries, LAST_ERROR: str(error)[:500]})
        channel = await self._publish_channel()
        await channel.default_exchange.publish(
            copy, routing_key=self._topology.retry_queue(self._spec, delay), mandatory=True
        )
        self._acks.ack(message.raw_message)


async def whole_message(message: Any) -> Any:
    """FastStream decoder: hand the handler the whole message (body, headers, ack and nack)."""
    return message


def subscribe_guarded(broker: RabbitBroker, queue: str, guard: DeliveryGuard, **subscriber_options: Any) -> Any:
    """Consume the (already declared) quorum queue ``queue`` through ``guard``, acknowledging explicitly."""

    # The decoder hands over the whole message as the one argument: a parameter annotated as the
    # message would be injected by fast-depends through a worker thread on every delivery
    # (measured: about 100 µs more CPU per message, and a thread hand-off in its latency).
    async def consume(message: Any) -> None:
        delivered: RabbitMessage = message
        await guard(delivered.body, delivered)

    consume.__doc__ = guard.description
    subscriber = broker.subscriber(
        RabbitQueue(queue, queue_type=QueueType.QUORUM, declare=False),
        ack_policy=AckPolicy.MANUAL,
        decoder=whole_message,
        **subscriber_options,
    )
    subscriber(consume)
    return subscriber
