"""The broker side of the subscription map (:mod:`shared.messaging.subscriptions`): names, queue
arguments and declarations.

One durable topic exchange carries every event; routing key = event type, with the vendor code as
the last word for vendor-addressed events. Every queue is a quorum queue with a delivery limit and a
dead-letter route, through the ``parked`` exchange, to ``<queue>.parked``. A namespace prefix keeps
installs (and test runs) sharing one broker apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange

from shared.messaging.subscriptions import (
    CHANNELS_STATUS,
    INTAKE_STATUS,
    SERVICE_QUEUES,
    SPLITTER_INVENTORY,
    SPLITTER_ORDERS,
    SPLITTER_VENDOR_EVENTS,
    TRACKING_ORDERS,
    TRACKING_SHIPMENTS,
    QueueSpec,
    is_valid_vendor_code,
    vendor_queue,
)

__all__ = [  # the subscription map's names, re-exported for the modules that declare and consume queues
    "CHANNELS_STATUS",
    "INTAKE_STATUS",
    "SERVICE_QUEUES",
    "SPLITTER_INVENTORY",
    "SPLITTER_ORDERS",
    "SPLITTER_VENDOR_EVENTS",
    "TRACKING_ORDERS",
    "TRACKING_SHIPMENTS",
    "QueueSpec",
    "Topology",
    "declare_exchanges",
    "declare_queue",
    "declare_topology",
    "delete_namespace",
    "is_valid_vendor_code",
    "vendor_queue",
]

EVENTS_EXCHANGE = "dropship.events"
PARKED_EXCHANGE = "dropship.parked"
RETRY_DELAYS_SECONDS = (1, 5, 30, 120, 300)
"""Delay queues for transient failures: growing waits, each a queue whose TTL sends the message back."""


@dataclass(frozen=True)
class Topology:
    """Names with the namespace applied, and the queue arguments every queue gets."""

    namespace: str = ""
    delivery_limit: int = 10
    retry_delays: tuple[int, ...] = RETRY_DELAYS_SECONDS

    def name(self, base: str) -> str:
        return f"{self.namespace}.{base}" if self.namespace else base

    @property
    def exchange(self) -> str:
        return self.name(EVENTS_EXCHANGE)

    @property
    def parked_exchange(self) -> str:
        return self.name(PARKED_EXCHANGE)

    def queue(self, spec: QueueSpec) -> str:
        return self.name(spec.name)

    def parked_queue(self, spec: QueueSpec) -> str:
        return self.name(f"{spec.name}.parked")

    def retry_queue(self, spec: QueueSpec, delay_seconds: int) -> str:
        return self.name(f"{spec.name}.retry.{delay_seconds}s")

    def queue_arguments(self, spec: QueueSpec) -> dict[str, Any]:
        return {
            "x-queue-type": "quorum",
            # A message nacked this many times is dead-lettered instead of spinning forever.
            "x-delivery-limit": self.delivery_limit,
            "x-dead-letter-exchange": self.parked_exchange,
            "x-dead-letter-routing-key": self.parked_queue(spec),
            # Broker dead-lettering is only the backstop (a consumer that dies on every delivery):
            # the consumer guard parks failing messages itself, with publisher confirms, before it
            # acknowledges them. at-least-once broker dead-lettering is left off on purpose: on
            # RabbitMQ 3.10 it wedged the broker here while quorum queues were being deleted.
        }


async def declare_exchanges(channel: AbstractChannel, topology: Topology) -> AbstractExchange:
    await channel.declare_exchange(topology.parked_exchange, aio_pika.ExchangeType.DIRECT, durable=True)
    return await channel.declare_exchange(topology.exchange, aio_pika.ExchangeType.TOPIC, durable=True)


async def declare_queue(channel: AbstractChannel, topology: Topology, spec: QueueSpec) -> None:
    """Declare ``spec`` with its parked queue and bindings. Idempotent."""
    events = await declare_exchanges(channel, topology)
    parked_exchange = await channel.get_exchange(topology.parked_exchange)
    parked = await channel.declare_queue(
        topology.parked_queue(spec), durable=True, arguments={"x-queue-type": "quorum"}
    )
    await parked.bind(parked_exchange, routing_key=topology.parked_queue(spec))
    queue = await channel.declare_queue(topology.queue(spec), durable=True, arguments=topology.queue_arguments(spec))
    for binding in spec.bindings:
        await queue.bind(events, routing_key=binding)
    for delay in topology.retry_delays:
        # Expired messages go back, through the default exchange, to the queue they came from.
        await channel.declare_queue(
            topology.retry_queue(spec, delay),
            durable=True,
            arguments={
                "x-message-ttl": delay * 1000,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": topology.queue(spec),
            },
        )


async def declare_topology(channel: AbstractChannel, topology: Topology, extra: tuple[QueueSpec, ...] = ()) -> None:
    for spec in (*SERVICE_QUEUES, *extra):
        await declare_queue(channel, topology, spec)


async def delete_queues(channel: AbstractChannel, topology: Topology, specs: tuple[QueueSpec, ...]) -> None:
    """Remove ``specs``' queues with their parked and delay queues."""
    for spec in specs:
        retries = [topology.retry_queue(spec, delay) for delay in topology.retry_delays]
        for name in (topology.queue(spec), topology.parked_queue(spec), *retries):
            await channel.queue_delete(name, if_unused=False, if_empty=False)


async def delete_namespace(channel: AbstractChannel, topology: Topology, specs: tuple[QueueSpec, ...]) -> None:
    """Remove a namespace's queues and exchanges (test runs clean up after themselves)."""
    await delete_queues(channel, topology, specs)
    await channel.exchange_delete(topology.exchange)
    await channel.exchange_delete(topology.parked_exchange)
