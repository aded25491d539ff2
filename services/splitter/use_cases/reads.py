"""What routing a newly arrived order reads: the routing settings, an earlier order it may duplicate,
each SKU's sources with the units open vendor orders reserve, the vendors' profiles and the vendor
order numbers taken. Read for one order (:class:`ReadForOne`), or once for a run of orders applied in
one transaction (:class:`ReadForRun`).

The orders of a run are routed one after another, each as if it had a transaction of its own after
the ones before it: what an earlier order of the run reserved counts against the stock the next one
sees, an earlier order of the run is a duplicate candidate for the next, and the vendor order numbers
it took are taken. ``ReadForRun`` keeps those in memory (:meth:`NewOrderReads.note_stored`) instead
of reading everything again per order, which leaves an order one round trip of its own (its one
write) instead of eight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from services.splitter.routing.holds import DuplicateMatch, duplicate_fingerprint
from services.splitter.routing.model import (
    LineRouting,
    LineToRoute,
    RoutingInput,
    RoutingSettings,
    Source,
    VendorProfile,
)
from services.splitter.routing.split import vendor_order_base
from services.splitter.routing.strategies import route_lines
from services.splitter.store import catalog as catalog_store
from services.splitter.store import orders as order_store
from services.splitter.store import settings as settings_store
from services.splitter.store import vendor_orders as vendor_order_store
from services.splitter.store import vendors as vendor_store
from services.splitter.store.orders import NewVendorOrder
from services.splitter.use_cases import rounds
from shared.contracts.orders import OrderReceivedData
from shared.db import Connection


class NewOrderReads(Protocol):
    """What :func:`services.splitter.use_cases.orders.route_new` reads, and what it tells back."""

    @property
    def settings(self) -> RoutingSettings: ...

    async def duplicate_of(self, order: OrderReceivedData, fingerprint: str, since: datetime) -> DuplicateMatch | None:
        """The latest order since ``since`` with ``fingerprint`` under another external id."""

    async def plan(
        self, lines: Sequence[LineToRoute], country: str, now: datetime
    ) -> tuple[LineRouting, dict[str, VendorProfile]]:
        """The router's decision for ``lines``, with the profiles of the vendors it considered."""

    async def next_free_sequence(self, base: str, vendors: Sequence[str]) -> int:
        """One more than the highest ``<base>-<n>`` these vendors have (:data:`rounds.NextFreeSequence`)."""

    def note_stored(
        self, order: OrderReceivedData, fingerprint: str, vendor_orders: Sequence[NewVendorOrder], at: datetime
    ) -> None:
        """``order`` was stored (routed to ``vendor_orders``, or held when there are none)."""


@dataclass
class ReadForOne:
    """Each read a query of its own, as an order alone in its transaction needs."""

    connection: Connection
    settings: RoutingSettings

    @classmethod
    async def start(cls, connection: Connection) -> ReadForOne:
        return cls(connection, await settings_store.routing_settings(connection))

    async def duplicate_of(self, order: OrderReceivedData, fingerprint: str, since: datetime) -> DuplicateMatch | None:
        return await order_store.find_duplicate(self.connection, fingerprint, order, since)

    async def plan(
        self, lines: Sequence[LineToRoute], country: str, now: datetime
    ) -> tuple[LineRouting, dict[str, VendorProfile]]:
        return await rounds.plan(self.connection, lines, country, self.settings, now)

    async def next_free_sequence(self, base: str, vendors: Sequence[str]) -> int:
        return await vendor_order_store.next_free_sequence(self.connection, base, vendors)

    def note_stored(
        self, order: OrderReceivedData, fingerprint: str, vendor_orders: Sequence[NewVendorOrder], at: datetime
    ) -> None:
        return  # the next order's queries see what this one stored


@dataclass
class ReadForRun:
    """Read once for ``orders``: settings, every SKU's sources and vendor, each order's latest duplicate
    in the database; then kept up to date in memory as the run's orders are stored."""

    settings: RoutingSettings
    sources: dict[str, tuple[Source, ...]]
    vendors: dict[str, VendorProfile]
    stored_duplicates: dict[str, DuplicateMatch]
    highest_sequences: dict[tuple[str, str], int]
    """``(order number base, vendor)`` → the highest ``<base>-<n>`` that vendor has."""
    run_so_far: list[tuple[str, DuplicateMatch]] = field(default_factory=list)

    @classmethod
    async def start(cls, connection: Connection, orders: Sequence[OrderReceivedData], now: datetime) -> ReadForRun:
        settings = await settings_store.routing_settings(connection)
        sources = await catalog_store.sources_for(connection, sorted({line.sku for o in orders for line in o.lines}))
        vendors = await vendor_store.profiles(
            connection, sorted({s.vendor for group in sources.values() for s in group})
        )
        window = settings.holds.duplicate_window_minutes
        duplicates = (
            await order_store.find_duplicates(
                connection, [(duplicate_fingerprint(o), o) for o in orders], now - timedelta(minutes=window)
            )
            if window
            else {}
        )
        bases = sorted({vendor_order_base(o.order_number) for o in orders})
        highest = await vendor_order_store.highest_sequences(connection, bases)
        return cls(settings, sources, vendors, duplicates, highest)

    async def duplicate_of(self, order: OrderReceivedData, fingerprint: str, since: datetime) -> DuplicateMatch | None:
        # An earlier order of this run is later than anything stored before it; the latest one wins.
        for earlier_fingerprint, earlier in reversed(self.run_so_far):
            if (
                earlier_fingerprint == fingerprint
                and earlier.order_id != order.order_id
                and earlier.external_id != order.external_id
                and earlier.received_at >= since
            ):
                return earlier
        return self.stored_duplicates.get(order.order_id)

    async def plan(
        self, lines: Sequence[LineToRoute], country: str, now: datetime
    ) -> tuple[LineRouting, dict[str, VendorProfile]]:
        return route_lines(
            RoutingInput(tuple(lines), country, self.sources, self.vendors, self.settings, now)
        ), self.vendors

    async def next_free_sequence(self, base: str, vendors: Sequence[str]) -> int:
        return max((self.highest_sequences.get((base, vendor), 0) for vendor in vendors), default=0) + 1

    def note_stored(
        self, order: OrderReceivedData, fingerprint: str, vendor_orders: Sequence[NewVendorOrder], at: datetime
    ) -> None:
        self.run_so_far.append((fingerprint, DuplicateMatch(order.order_id, order.order_number, order.external_id, at)))
        base = vendor_order_base(order.order_number)
        for vendor_order in vendor_orders:
            for line in vendor_order.data.lines:
                self._reserve(line.sku, vendor_order.data.vendor, line.quantity)
            sequence = int(vendor_order.data.vendor_order_number.rsplit("-", 1)[1])
            key = (base, vendor_order.data.vendor)
            self.highest_sequences[key] = max(self.highest_sequences.get(key, 0), sequence)

    def _reserve(self, sku: str, vendor: str, units: int) -> None:
        # As catalog_store.sources_for counts them: reservations on sources whose stock is tracked only.
        self.sources[sku] = tuple(
            replace(source, reserved=source.reserved + units)
            if source.vendor == vendor and source.stock is not None
            else source
            for source in self.sources.get(sku, ())
        )
