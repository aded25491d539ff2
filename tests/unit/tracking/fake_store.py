"""In-memory stand-ins for tracking's ports: its tables (``TrackingStore``, the way
services/tracking/repository.py keeps them) and the pool a route borrows a connection from."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from services.tracking.fulfilment import LineProgress, TrackedOrder
from shared.contracts.envelope import Envelope
from shared.contracts.orders import OrderReceivedData, OrderStatus
from shared.contracts.shipments import ShipmentReportedData
from shared.contracts.vendor_orders import VendorOrderAcknowledgedData
from shared.db import Connection


class FakeConnection:
    """What a use case hands to its store; the fake store never reads it."""

    @asynccontextmanager
    async def transaction(self, **options: Any) -> AsyncIterator[None]:
        yield


class FakeDatabase:
    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Connection]:
        yield cast("Connection", FakeConnection())


CONNECTION = cast("Connection", FakeConnection())
"""For calling an event handler directly, as the inbox does with its transaction's connection."""


@dataclass
class FakeTrackingStore:
    orders: dict[str, TrackedOrder] = field(default_factory=dict)
    progress: dict[str, list[LineProgress]] = field(default_factory=dict)
    shipments: dict[str, tuple[ShipmentReportedData, bool]] = field(default_factory=dict)
    """By shipment id, in arrival order: the shipment and whether it was applied."""
    outbox: list[Envelope] = field(default_factory=list)
    acknowledgements: dict[tuple[str, str], tuple[datetime, list[dict[str, Any]]]] = field(default_factory=dict)
    """By (vendor order id, line id): when the vendor answered, and the line's entries."""

    def shipped(self, order_id: str) -> list[int]:
        return [line.shipped for line in self.progress[order_id]]

    async def lock_order(self, connection: object, order_id: str) -> None:
        pass

    async def insert_order(self, connection: object, order: OrderReceivedData) -> bool:
        if order.order_id in self.orders:
            return False
        self.orders[order.order_id] = TrackedOrder(
            order.order_id, order.channel, order.external_id, order.order_number, None, False
        )
        self.progress[order.order_id] = sorted(
            (LineProgress(line.line_id, line.quantity, 0) for line in order.lines), key=lambda line: line.line_id
        )
        return True

    async def insert_orders(self, connection: object, orders: Sequence[OrderReceivedData]) -> set[str]:
        return {order.order_id for order in orders if await self.insert_order(connection, order)}

    async def unapplied_shipments_of(
        self, connection: object, order_ids: Sequence[str]
    ) -> dict[str, list[ShipmentReportedData]]:
        waiting = {order_id: await self.unapplied_shipments(connection, order_id) for order_id in order_ids}
        return {order_id: shipments for order_id, shipments in waiting.items() if shipments}

    async def get_order(self, connection: object, order_id: str, *, lock: bool = False) -> TrackedOrder | None:
        return self.orders.get(order_id)

    async def lines(self, connection: object, order_id: str) -> list[LineProgress]:
        return list(self.progress.get(order_id, []))

    async def insert_shipment(self, connection: object, shipment: ShipmentReportedData) -> bool:
        if shipment.shipment_id in self.shipments:
            return False
        self.shipments[shipment.shipment_id] = (shipment, False)
        return True

    async def unapplied_shipments(self, connection: object, order_id: str) -> list[ShipmentReportedData]:
        return [s for s, applied in self.shipments.values() if s.order_id == order_id and not applied]

    async def record_progress(
        self,
        connection: object,
        order_id: str,
        progress: Sequence[LineProgress],
        shipment_id: str,
        status: OrderStatus,
        cancelled: bool,
        event: Envelope,
        *,
        shipped_after_cancel: bool = False,
    ) -> None:
        self.progress[order_id] = list(progress)
        self.shipments[shipment_id] = (self.shipments[shipment_id][0], True)
        self.orders[order_id] = dataclasses.replace(
            self.orders[order_id], status=status, cancelled=cancelled, shipped_after_cancel=shipped_after_cancel
        )
        self.outbox.append(event)

    async def record_acknowledgement(
        self,
        connection: object,
        acknowledgement: VendorOrderAcknowledgedData,
        acknowledged_at: datetime,
        entries: Mapping[str, list[dict[str, Any]]],
    ) -> None:
        for line_id, line_entries in entries.items():
            key = (acknowledgement.vendor_order_id, line_id)
            known = self.acknowledgements.get(key)
            if known is None or known[0] <= acknowledged_at:
                self.acknowledgements[key] = (acknowledged_at, line_entries)

    async def record_cancellation(
        self, connection: object, order_id: str, status: OrderStatus | None, events: Sequence[Envelope]
    ) -> None:
        self.orders[order_id] = dataclasses.replace(self.orders[order_id], status=status, cancelled=True)
        self.outbox += events

    async def shipments_view(self, db: object, order_id: str) -> dict[str, Any] | None:
        order = self.orders.get(order_id)
        shipments = [s.model_dump(mode="json") for s, _ in self.shipments.values() if s.order_id == order_id]
        if order is None and not shipments:
            return None
        return {
            "order_id": order_id,
            "status": order.status if order else None,
            "shipped_after_cancel": order.shipped_after_cancel if order else False,
            "shipments": shipments,
        }
