"""Acknowledgements by the batch: one ``basic.ack`` with ``multiple`` for a run of settled deliveries.

A batch of deliveries commits together, so its acknowledgements are due together. ``multiple`` means
"every delivery on this channel up to and including this tag", so it is sent only for a tag below which
every delivery is settled (acknowledged here, or already nacked one by one): one still being applied
must not be acknowledged by another's ack. A delivery that stays blocked behind an unsettled one (a
slow handler, a tag no guard saw) is acknowledged alone after ``BLOCKED_ACK_SECONDS``, so a slow
message never holds the others' prefetch slots for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from typing import Any

from shared.logging import get_logger

log = get_logger(__name__)

BLOCKED_ACK_SECONDS = 0.25


class _ChannelAcks:
    """One channel's deliveries (delivery tags count from 1 per channel)."""

    def __init__(self, channel: Any) -> None:
        self._channel = weakref.ref(channel)
        self._frontier = 0
        """Every delivery tag up to this one is settled and its ack sent."""
        self._to_ack: set[int] = set()
        self._settled: set[int] = set()
        """Settled without an ack of ours (nacked one by one), or acknowledged alone."""
        self._flush_scheduled = False
        self._blocked_check: asyncio.TimerHandle | None = None
        self.acks_sent = 0

    def ack(self, tag: int) -> None:
        self._to_ack.add(tag)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            # After the other deliveries of the batch, woken in the same round, have settled too.
            asyncio.get_running_loop().call_soon(self._flush)

    def settled(self, tag: int) -> None:
        self._settled.add(tag)
        if self._to_ack and not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        highest_ack = 0
        while True:
            tag = self._frontier + 1
            if tag in self._to_ack:
                self._to_ack.discard(tag)
                highest_ack = tag
            elif tag in self._settled:
                self._settled.discard(tag)
            else:
                break
            self._frontier = tag
        if highest_ack:
            self._send(highest_ack, multiple=True)
        if self._to_ack and self._blocked_check is None:
            self._blocked_check = asyncio.get_running_loop().call_later(BLOCKED_ACK_SECONDS, self._ack_blocked)

    def _ack_blocked(self) -> None:
        self._blocked_check = None
        blocked, self._to_ack = self._to_ack, set()
        for tag in sorted(blocked):
            self._send(tag, multiple=False)
            self._settled.add(tag)
        self._flush()

    def _send(self, tag: int, *, multiple: bool) -> None:
        channel = self._channel()
        if channel is None:
            return
        self.acks_sent += 1
        asyncio.get_running_loop().create_task(_basic_ack(channel, tag, multiple))


async def _basic_ack(channel: Any, tag: int, multiple: bool) -> None:
    # A channel closed meanwhile: its unacknowledged deliveries come again, and the inbox absorbs them.
    with contextlib.suppress(Exception):
        await channel.basic_ack(delivery_tag=tag, multiple=multiple)


class BatchAcks:
    """Acknowledges deliveries (aio-pika's incoming messages) of any number of channels."""

    def __init__(self) -> None:
        self._channels: weakref.WeakKeyDictionary[Any, _ChannelAcks] = weakref.WeakKeyDictionary()

    def _of(self, message: Any) -> _ChannelAcks:
        channel = message.channel
        acks = self._channels.get(channel)
        if acks is None:
            acks = self._channels[channel] = _ChannelAcks(channel)
        return acks

    def ack(self, message: Any) -> None:
        """Acknowledge ``message`` with the next multiple-ack that may cover it."""
        if message.delivery_tag is not None:
            self._of(message).ack(message.delivery_tag)

    def settled(self, message: Any) -> None:
        """``message`` was settled otherwise (nacked): later acks may reach past it."""
        if message.delivery_tag is not None:
            self._of(message).settled(message.delivery_tag)

    @property
    def acks_sent(self) -> int:
        return sum(acks.acks_sent for acks in self._channels.values())
