"""The one map of exchanges, queues and bindings (ARCHITECTURE §3).

One durable topic exchange carries every event; routing key = event type, with the vendor code as
the last word for vendor-addressed events. Every queue is a quorum queue with a delivery limit and a
dead-letter route, through the ``parked`` exchange, to ``<queue>.parked``. A namespace prefix keeps
installs (and test runs) sharing one broker apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange

EVENTS_EXCHANGE = "dropship.events"
PARKED_EXCHANGE = "dropship.parked"
VENDOR_CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
RETRY_DELAYS_SECONDS = (1, 5, 30, 120, 300)
"""Delay queues for transient failures: growing waits, each a queue whose TTL sends the message back."""


@dataclass(frozen=True)
class QueueSpec:
    name: str
    bindings: tuple[str, ...]
    consumer: str


SPLITTER_ORDERS = QueueSpec("splitter.orders", ("order.received", "order.cancelled"), "splitter")
SPLITTER_INVENTORY = QueueSpec("splitter.inventory", ("inventory.updated",), "splitter")
TRACKING_SHIPMENTS = QueueSpec("tracking.shipments", ("shipment.reported",), "tracking")
TRACKING_ORDERS = QueueSpec("tracking.orders", ("order.received", "order.cancelled"), "tracking")
INTAKE_STATUS = QueueSpec("intake.status", ("order.status_changed",), "intake")

SERVICE_QUEUES: tuple[QueueSpec, ...] = (
    SPLITTER_ORDERS,
    SPLITTER_INVENTORY,
    TRACKING_SHIPMENTS,
    TRACKING_ORDERS,
    INTAKE_STATUS,
)


def is_valid_vendor_code(code: str) -> bool:
    return bool(VENDOR_CODE_PATTERN.match(code))


def vendor_queue(vendor_code: str) -> QueueSpec:
    """``vendor.<code>``: every vendor-addressed event for that vendor. A public API."""
    if not is_valid_vendor_code(vendor_code):
        raise ValueError(f"invalid vendor code {vendor_code!r}")
    return QueueSpec(f"vendor.{vendor_code}", (f"vendor_order.*.{vendor_code}",), "vendor adapter")


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


async def delete_namespace(channel: AbstractChannel, topology: Topology, specs: tuple[QueueSpec, ...]) -> None:
    """Remove a namespace's queues and exchanges (test runs clean up after themselves)."""
    for spec in specs:
        retries = [topology.retry_queue(spec, delay) for delay in topology.retry_delays]
        for name in (topology.queue(spec), topology.parked_queue(spec), *retries):
            await channel.queue_delete(name, if_unused=False, if_empty=False)
    await channel.exchange_delete(topology.exchange)
    await channel.exchange_delete(topology.parked_exchange)
