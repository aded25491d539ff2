"""In-memory stand-ins for the splitter's ports: its tables (``SplitterStore``, the way
services/splitter/repository.py keeps them) and the pool a command borrows a connection from."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from services.splitter.repository import Vendor
from services.splitter.routing import LineDecision, RoutedState, Source, VendorOrderRef
from shared.contracts.envelope import Envelope
from shared.contracts.orders import OrderReceivedData
from shared.contracts.vendor_orders import VendorOrderCreatedData
from shared.db import Connection


class FakeConnection:
    """What a use case hands to its store; the fake store never reads it. Counts transactions."""

    def __init__(self) -> None:
        self.transactions: list[dict[str, Any]] = []

    @asynccontextmanager
    async def transaction(self, **options: Any) -> AsyncIterator[None]:
        self.transactions.append(options)
        yield


class FakeDatabase:
    def __init__(self) -> None:
        self.connection = FakeConnection()

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Connection]:
        yield cast("Connection", self.connection)


CONNECTION = cast("Connection", FakeConnection())
"""For calling an event handler directly, as the inbox does with its transaction's connection."""


@dataclass
class RoutedOrder:
    state: RoutedState
    hold_reason: str | None = None
    order: OrderReceivedData | None = None
    decisions: tuple[LineDecision, ...] = ()


@dataclass
class FakeSplitterStore:
    vendors: dict[str, Vendor] = field(default_factory=dict)
    names: dict[str, str | None] = field(default_factory=dict)
    sources: dict[str, list[Source]] = field(default_factory=dict)
    routed: dict[str, RoutedOrder] = field(default_factory=dict)
    vendor_orders: dict[str, tuple[str, VendorOrderRef]] = field(default_factory=dict)
    """By id: the order id and the vendor order."""
    outbox: list[Envelope] = field(default_factory=list)

    def add_vendor(self, code: str) -> None:
        self.vendors[code] = Vendor(code, code.title(), "webhook", {})

    def withdraw(self, number: str) -> None:
        """Cancel vendor order ``number`` on its own, as a reroute would."""
        for vendor_order_id, (order_id, ref) in self.vendor_orders.items():
            if ref.number == number:
                self.vendor_orders[vendor_order_id] = (order_id, dataclasses.replace(ref, status="cancelled"))

    def statuses(self, order_id: str) -> dict[str, str]:
        """Each vendor order of ``order_id`` by number: its status."""
        return {v.number: v.status for oid, v in self.vendor_orders.values() if oid == order_id}

    async def upsert_vendor(self, db: object, vendor: Vendor) -> bool:
        created = vendor.code not in self.vendors
        self.vendors[vendor.code] = vendor
        return created

    async def get_vendor(self, db: object, code: str) -> Vendor | None:
        return self.vendors.get(code)

    async def list_vendors(self, db: object) -> list[Vendor]:
        return [self.vendors[code] for code in sorted(self.vendors)]

    async def existing_vendors(self, connection: object, codes: Sequence[str]) -> set[str]:
        return set(codes) & set(self.vendors)

    async def replace_catalog_entry(
        self, connection: object, sku: str, name: str | None, sources: Sequence[Source]
    ) -> None:
        self.names[sku] = name if name is not None else self.names.get(sku)
        self.sources[sku] = list(sources)

    async def get_catalog_entry(self, db: object, sku: str) -> dict[str, Any] | None:
        if sku not in self.names:
            return None
        return {"sku": sku, "name": self.names[sku], "sources": [dataclasses.asdict(s) for s in self.sources[sku]]}

    async def sources_for(self, connection: object, skus: Sequence[str]) -> dict[str, list[Source]]:
        return {sku: list(self.sources[sku]) for sku in skus if self.sources.get(sku)}

    async def set_stock(self, connection: object, vendor: str, levels: Sequence[tuple[str, int]]) -> None:
        for sku, stock in levels:
            self.sources[sku] = [
                dataclasses.replace(s, stock=stock) if s.vendor == vendor else s for s in self.sources.get(sku, [])
            ]

    async def routed_order_state(self, connection: object, order_id: str, *, lock: bool = False) -> RoutedState | None:
        routed = self.routed.get(order_id)
        return routed.state if routed else None

    async def save_routing(
        self,
        connection: object,
        order: OrderReceivedData,
        state: RoutedState,
        hold_reason: str | None,
        decisions: Sequence[LineDecision],
        vendor_orders: Sequence[VendorOrderCreatedData] = (),
        events: Sequence[Envelope] = (),
        *,
        replace: bool = False,
    ) -> None:
        self.routed[order.order_id] = RoutedOrder(state, hold_reason, order, tuple(decisions))
        for v in vendor_orders:
            ref = VendorOrderRef(v.vendor_order_id, v.vendor, v.vendor_order_number, "open")
            self.vendor_orders[v.vendor_order_id] = (order.order_id, ref)
        self.outbox += events

    async def mark_cancelled_before_seen(self, connection: object, order_id: str) -> None:
        self.routed.setdefault(order_id, RoutedOrder("cancelled"))

    async def vendor_orders_of(self, connection: object, order_id: str) -> list[VendorOrderRef]:
        found = [v for oid, v in self.vendor_orders.values() if oid == order_id]
        return sorted(found, key=lambda v: v.number)

    async def record_cancellation(
        self, connection: object, order_id: str, vendor_order_ids: Sequence[str], events: Sequence[Envelope]
    ) -> None:
        self.routed[order_id].state = "cancelled"
        for vendor_order_id in vendor_order_ids:
            oid, ref = self.vendor_orders[vendor_order_id]
            self.vendor_orders[vendor_order_id] = (oid, dataclasses.replace(ref, status="cancelled"))
        self.outbox += events

    async def held_orders_with_sku(self, connection: object, sku: str) -> list[OrderReceivedData]:
        return [
            r.order
            for r in self.routed.values()
            if r.state == "held" and r.order is not None and any(line.sku == sku for line in r.order.lines)
        ]

    async def routing_view(self, db: object, order_id: str) -> dict[str, Any] | None:
        routed = self.routed.get(order_id)
        if routed is None:
            return None
        return {"order_id": order_id, "state": routed.state, "hold_reason": routed.hold_reason}
