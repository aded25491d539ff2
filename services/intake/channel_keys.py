"""Which channel a channel key belongs to, remembered for a few seconds.

Every order a channel posts carries its key, and looking the key up was one of the two round trips of
taking an order (as much database time as storing it). A key that was found is remembered, by its
hash, for :data:`KEY_MEMORY_SECONDS`. A key rotated through this instance is forgotten at once; one
rotated through another instance is still taken here for at most that long. A key that was not found is
never remembered: each try is looked up and counts as a failed sign-in.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from cachetools import TTLCache

from services.intake.domain import hash_api_key

KEY_MEMORY_SECONDS = 5.0
KEYS_REMEMBERED = 10_000


class ChannelKeys:
    def __init__(
        self,
        lookup: Callable[[str], Awaitable[str | None]],
        *,
        seconds: float = KEY_MEMORY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``lookup(api_key)``: the channel the key belongs to, from the database."""
        self._lookup = lookup
        self._found: TTLCache[str, str] = TTLCache(maxsize=KEYS_REMEMBERED, ttl=seconds, timer=clock)

    async def channel_for(self, api_key: str) -> str | None:
        key_hash = hash_api_key(api_key)
        channel = self._found.get(key_hash)
        if channel is None:
            channel = await self._lookup(api_key)
            if channel is not None:
                self._found[key_hash] = channel
        return channel

    def forget(self) -> None:
        """Forget every key: one has been rotated."""
        self._found.clear()
