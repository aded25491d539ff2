"""Queue figures from the broker, by passive declare: messages and consumers of every queue and of its
parked queue. Works on a broker with no management plugin.

A passive declare of a queue that does not exist closes the channel it was made on; the next figure is
taken on a fresh channel, and the queue is shown as missing rather than failing the page.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from aio_pika.abc import AbstractChannel, AbstractConnection
from aiormq.exceptions import ChannelClosed

from shared.messaging.parking import parked_queue_name
from shared.messaging.topology import Topology


@dataclass(frozen=True)
class QueueFigures:
    queue: str
    """The queue's name without the namespace (``splitter.orders``, ``vendor.east``)."""
    messages: int | None
    """``None``: the queue does not exist."""
    consumers: int | None
    parked: int | None
    """Messages in ``<queue>.parked``; ``None``: the parked queue does not exist."""


async def _declared(
    connection: AbstractConnection, channel: AbstractChannel, name: str
) -> tuple[AbstractChannel, tuple[int, int] | None]:
    try:
        queue = await channel.declare_queue(name, passive=True)
    except ChannelClosed:
        return await connection.channel(), None
    result = queue.declaration_result
    return channel, (result.message_count or 0, result.consumer_count or 0)


async def queue_figures(
    connection: AbstractConnection, topology: Topology, queues: Sequence[str]
) -> list[QueueFigures]:
    """Figures of ``queues`` (base names), in the order given."""
    found: list[QueueFigures] = []
    channel = await connection.channel()
    try:
        for queue in queues:
            channel, own = await _declared(connection, channel, topology.name(queue))
            channel, parked = await _declared(connection, channel, parked_queue_name(topology, queue))
            found.append(
                QueueFigures(
                    queue,
                    own[0] if own else None,
                    own[1] if own else None,
                    parked[0] if parked else None,
                )
            )
    finally:
        with contextlib.suppress(Exception):
            if not channel.is_closed:
                await channel.close()
    return found
