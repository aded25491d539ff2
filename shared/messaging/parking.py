"""Parked messages, for people: list the parked queues, show their messages, replay or discard them.

A consumer parks a message (:mod:`shared.messaging.consumer`) by publishing a copy to
``<queue>.parked`` with headers saying why (:mod:`shared.messaging.headers`); when the broker
dead-letters one itself (delivery limit reached outside the guard) it carries ``x-death`` instead.
Both kinds are understood here.

Reading without losing anything: messages are fetched with ``basic.get`` and not acknowledged; what
is not replayed or discarded is handed back with ``nack(requeue=True)``, in the order it was fetched.
A parked queue has no delivery limit, so handing back never dead-letters anything, and a quorum queue
delivers returned messages again before the others, in the order they came back: the queue keeps its
order. If the process dies midway, the broker takes the unacknowledged messages back by itself.
Nothing is ever copied to peek, so a peek can neither lose nor duplicate a message; consuming and
republishing to keep the order would put a second copy in flight whenever it died between the
publish and the ack.

Replaying publishes the message to the events exchange with its original routing key, message id,
body and properties (headers minus the parking and redelivery bookkeeping, so it starts with a fresh
retry budget), mandatory and with publisher confirms, and only then acknowledges the parked copy. A
crash in between leaves both, and the consumers' inbox absorbs the duplicate. Every queue bound to the
routing key receives the message again (``order.received`` goes to the splitter and to tracking);
those that applied it already drop it by its message id.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage, AbstractQueue
from aiormq.exceptions import ChannelClosed

from shared.messaging.headers import (
    BROKER_DEATH_PREFIXES,
    DELIVERIES,
    ERROR,
    ERROR_TYPE,
    ORIGINAL_QUEUE,
    ORIGINAL_ROUTING_KEY,
    PARKED_AT,
    message_copy,
    replay_headers,
)
from shared.messaging.topology import SERVICE_QUEUES, QueueSpec, Topology, vendor_queue

PARKED_SUFFIX = ".parked"
GET_TIMEOUT_SECONDS = 10.0


class ParkingError(Exception):
    """What a person can act on: the queue does not exist, a message cannot be routed, …"""


@dataclass(frozen=True)
class ParkedQueue:
    queue: str
    """The queue the messages were parked from, without namespace (``splitter.orders``)."""
    parked_queue: str
    """The parked queue's full name, with namespace."""
    messages: int | None
    """Messages waiting; ``None`` when the parked queue does not exist (nothing declared it yet)."""


@dataclass(frozen=True)
class ParkedMessage:
    message_id: str | None
    type: str | None
    correlation_id: str | None
    routing_key: str | None
    """The routing key it was first published with: where a replay sends it."""
    original_queue: str | None
    error: str | None
    error_type: str | None
    parked_at: str | None
    deliveries: int | None
    body: bytes
    headers: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly: the body as text when it is UTF-8, else base64."""
        try:
            body: Any = self.body.decode("utf-8")
            body_encoding = "utf-8"
        except UnicodeDecodeError:
            body, body_encoding = base64.b64encode(self.body).decode(), "base64"
        return {
            "message_id": self.message_id,
            "type": self.type,
            "correlation_id": self.correlation_id,
            "routing_key": self.routing_key,
            "original_queue": self.original_queue,
            "error": self.error,
            "error_type": self.error_type,
            "parked_at": self.parked_at,
            "deliveries": self.deliveries,
            "body": body,
            "body_encoding": body_encoding,
            "headers": json.loads(json.dumps(self.headers, default=str)),
        }


def known_queues(vendor_codes: Iterable[str] = ()) -> list[QueueSpec]:
    """The services' own queues and the ``vendor.<code>`` queue of each vendor given."""
    return [*SERVICE_QUEUES, *(vendor_queue(code) for code in sorted(set(vendor_codes)))]


def base_queue_name(topology: Topology, queue: str) -> str:
    """``splitter.orders`` from any spelling a person may use: with or without the namespace, with or
    without ``.parked``."""
    name = queue.strip()
    if topology.namespace and name.startswith(f"{topology.namespace}."):
        name = name[len(topology.namespace) + 1 :]
    name = name.removesuffix(PARKED_SUFFIX)
    if not name or any(char.isspace() for char in name):
        raise ParkingError(f"{queue!r} is not a queue name such as splitter.orders or vendor.east")
    return name


def parked_queue_name(topology: Topology, queue: str) -> str:
    return topology.name(base_queue_name(topology, queue) + PARKED_SUFFIX)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _oldest_death(headers: dict[str, Any]) -> dict[str, Any]:
    """The broker's record of the first dead-lettering (``x-death`` lists the newest first)."""
    deaths = headers.get(BROKER_DEATH_PREFIXES[0])
    if isinstance(deaths, list) and deaths and isinstance(deaths[-1], dict):
        return deaths[-1]
    return {}


def describe(message: AbstractIncomingMessage) -> ParkedMessage:
    headers = dict(message.headers or {})
    death = _oldest_death(headers)
    routing_keys = death.get("routing-keys")
    death_routing_key = routing_keys[0] if isinstance(routing_keys, list) and routing_keys else None
    parked_at = headers.get(PARKED_AT)
    if parked_at is None and isinstance(death.get("time"), datetime):
        parked_at = death["time"].isoformat()
    return ParkedMessage(
        message_id=message.message_id,
        type=message.type,
        correlation_id=message.correlation_id,
        routing_key=_text(headers.get(ORIGINAL_ROUTING_KEY, death_routing_key)),
        original_queue=_text(headers.get(ORIGINAL_QUEUE, death.get("queue"))),
        error=_text(headers.get(ERROR)) or (f"dead-lettered by the broker: {death['reason']}" if death else None),
        error_type=_text(headers.get(ERROR_TYPE, death.get("reason"))),
        parked_at=_text(parked_at),
        deliveries=_int(headers.get(DELIVERIES, death.get("count"))),
        body=message.body,
        headers=headers,
    )


async def list_parked(connection: AbstractConnection, topology: Topology, queues: Sequence[str]) -> list[ParkedQueue]:
    """How many messages wait in the parked queue of each of ``queues`` (base names)."""
    found: list[ParkedQueue] = []
    channel = await connection.channel()
    try:
        for queue in queues:
            name = parked_queue_name(topology, queue)
            try:
                declared = await channel.declare_queue(name, passive=True)
                count: int | None = declared.declaration_result.message_count
            except ChannelClosed:
                # A passive declare of a missing queue closes the channel: note it and carry on.
                count = None
                channel = await connection.channel()
            found.append(ParkedQueue(base_queue_name(topology, queue), name, count))
    finally:
        await _close_quietly(channel)
    return found


@dataclass
class _Fetched:
    """Messages fetched and not yet settled; handed back in fetch order when the work is done."""

    held: list[AbstractIncomingMessage] = field(default_factory=list)

    async def hand_back(self) -> None:
        for message in self.held:
            await message.nack(requeue=True)
        self.held.clear()


@dataclass
class _ParkedReader:
    """Fetches the messages that were parked when it opened, and no more: a replayed message that
    fails again and is parked anew is not fetched a second time, so a replay always ends."""

    channel: AbstractChannel
    queue: AbstractQueue
    remaining: int

    async def next(self) -> AbstractIncomingMessage | None:
        if self.remaining <= 0:
            return None
        self.remaining -= 1
        return await self.queue.get(no_ack=False, fail=False, timeout=GET_TIMEOUT_SECONDS)


async def _open_parked(connection: AbstractConnection, topology: Topology, queue: str) -> _ParkedReader:
    name = parked_queue_name(topology, queue)
    channel = await connection.channel()
    try:
        parked = await channel.declare_queue(name, passive=True)
    except ChannelClosed:
        raise ParkingError(f"there is no parked queue {name}") from None
    return _ParkedReader(channel, parked, parked.declaration_result.message_count or 0)


async def show_parked(
    connection: AbstractConnection, topology: Topology, queue: str, limit: int = 20
) -> list[ParkedMessage]:
    """The first ``limit`` messages of ``queue``'s parked queue, oldest first; all stay parked."""
    reader = await _open_parked(connection, topology, queue)
    fetched = _Fetched()
    try:
        while len(fetched.held) < limit and (message := await reader.next()) is not None:
            fetched.held.append(message)
        return [describe(message) for message in fetched.held]
    finally:
        await fetched.hand_back()
        await _close_quietly(reader.channel)


async def replay_parked(
    connection: AbstractConnection, topology: Topology, queue: str, message_id: str | None = None
) -> list[ParkedMessage]:
    """Publish parked messages again (every one, or those with ``message_id``); answers those replayed.

    Stops at the first message that cannot be published (it stays parked, as do all after it) and
    raises :class:`ParkingError` naming it and what was replayed before.
    """
    reader = await _open_parked(connection, topology, queue)
    publisher = await connection.channel(publisher_confirms=True, on_return_raises=True)
    fetched = _Fetched()
    replayed: list[ParkedMessage] = []
    try:
        try:
            exchange = await publisher.get_exchange(topology.exchange)
        except ChannelClosed:
            raise ParkingError(f"there is no exchange {topology.exchange} (is DROPSHIP_NAMESPACE right?)") from None
        while (message := await reader.next()) is not None:
            if message_id is not None and message.message_id != message_id:
                fetched.held.append(message)
                continue
            parked_message = describe(message)
            if not parked_message.routing_key:
                fetched.held.append(message)
                raise ParkingError(
                    f"message {message.message_id} carries no original routing key: cannot tell where it goes"
                    f"{_so_far(replayed)}"
                )
            try:
                await exchange.publish(_republished(message), parked_message.routing_key, mandatory=True)
            except (aio_pika.exceptions.DeliveryError, aio_pika.exceptions.PublishError) as error:
                fetched.held.append(message)
                raise ParkingError(
                    f"message {message.message_id} could not be published to {topology.exchange} with routing key"
                    f" {parked_message.routing_key!r} ({type(error).__name__}); it stays parked{_so_far(replayed)}"
                ) from None
            # Confirmed by the broker: only now is the parked copy let go.
            await message.ack()
            replayed.append(parked_message)
    finally:
        await fetched.hand_back()
        await _close_quietly(publisher)
        await _close_quietly(reader.channel)
    if message_id is not None and not replayed:
        raise ParkingError(f"no message {message_id} in {parked_queue_name(topology, queue)}")
    return replayed


async def discard_parked(
    connection: AbstractConnection, topology: Topology, queue: str, message_id: str | None = None
) -> list[ParkedMessage]:
    """Drop parked messages for good (every one, or those with ``message_id``); answers those dropped."""
    reader = await _open_parked(connection, topology, queue)
    fetched = _Fetched()
    discarded: list[ParkedMessage] = []
    try:
        while (message := await reader.next()) is not None:
            if message_id is not None and message.message_id != message_id:
                fetched.held.append(message)
                continue
            await message.ack()
            discarded.append(describe(message))
    finally:
        await fetched.hand_back()
        await _close_quietly(reader.channel)
    if message_id is not None and not discarded:
        raise ParkingError(f"no message {message_id} in {parked_queue_name(topology, queue)}")
    return discarded


def _republished(message: AbstractIncomingMessage) -> aio_pika.Message:
    return message_copy(message, replay_headers(message.headers))


def _so_far(replayed: list[ParkedMessage]) -> str:
    return f" ({len(replayed)} replayed before it)" if replayed else ""


async def _close_quietly(channel: AbstractChannel) -> None:
    with contextlib.suppress(Exception):
        if not channel.is_closed:
            await channel.close()
