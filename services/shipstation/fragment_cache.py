"""The most recently exported ``<Order>`` fragments, keyed by everything a fragment depends on."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from cachetools import LRUCache

from shared.contracts.vendors import ShipStationStatus

FragmentKey = tuple[str, str, datetime, str, tuple[tuple[str, str], ...]]


def fragment_key(
    vendor_order_id: str,
    state: str,
    last_modified: datetime,
    zone: ZoneInfo,
    status_names: Mapping[ShipStationStatus, str],
) -> FragmentKey:
    """Everything an ``<Order>`` fragment depends on besides the vendor order's payload, which changes
    only with ``last_modified`` (a change ShipStation should see, a new ship-to included, bumps it)."""
    return vendor_order_id, state, last_modified, zone.key, tuple(sorted(status_names.items()))


class FragmentCache:
    """The most recently exported ``<Order>`` fragments, so that ShipStation's routine polls, which
    ask for the same recent orders again and again, are answered without validating and rendering
    them anew. Bounded: at about 2 kB a fragment, the default holds some 8 MB."""

    def __init__(self, max_entries: int = 4000) -> None:
        self._entries: LRUCache[FragmentKey, bytes] = LRUCache(maxsize=max_entries)
        self.hits = 0
        self.misses = 0

    def get(self, key: FragmentKey) -> bytes | None:
        fragment = self._entries.get(key)  # a hit counts as a use: the least recently used go first
        if fragment is None:
            self.misses += 1
            return None
        self.hits += 1
        return fragment

    def put(self, key: FragmentKey, fragment: bytes) -> None:
        self._entries[key] = fragment

    def __len__(self) -> int:
        return len(self._entries)
