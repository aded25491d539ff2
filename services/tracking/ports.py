"""What tracking's use cases need from outside, as small interfaces: its tables (each call given the
connection of the transaction it belongs to) and the pool a route borrows a connection from. The real
ones are :mod:`services.tracking.repository` and the asyncpg pool; unit tests pass fakes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from services.tracking.fulfilment import LineProgress, TrackedOrder
from shared.contracts.envelope import Envelope
from shared.contracts.orders import OrderReceivedData, OrderStatus
from shared.contracts.shipments import ShipmentReportedData
from shared.contracts.vendor_orders import VendorOrderAcknowledgedData
from shared.db import Connection


class TrackingStore(Protocol):
    """Tracking's tables, as the use cases use them (:mod:`services.tracking.repository`)."""

    async def lock_order(self, connection: Connection, order_id: str) -> None: ...
    async def insert_order(self, connection: Connection, order: OrderReceivedData) -> bool: ...
    async def insert_orders(self, connection: Connection, orders: Sequence[OrderReceivedData]) -> set[str]: ...
    async def get_order(self, connection: Connection, order_id: str, *, lock: bool = False) -> TrackedOrder | None: ...
    async def lines(self, connection: Connection, order_id: str) -> list[LineProgress]: ...
    async def insert_shipment(self, connection: Connection, shipment: ShipmentReportedData) -> bool: ...
    async def unapplied_shipments(self, connection: Connection, order_id: str) -> list[ShipmentReportedData]: ...
    async def unapplied_shipments_of(
        self, connection: Connection, order_ids: Sequence[str]
    ) -> dict[str, list[ShipmentReportedData]]: ...
    async def record_progress(
        self,
        connection: Connection,
        order_id: str,
        progress: Sequence[LineProgress],
        shipment_id: str,
        status: OrderStatus,
        cancelled: bool,
        event: Envelope,
        *,
        shipped_after_cancel: bool = False,
    ) -> None: ...
    async def record_cancellation(
        self, connection: Connection, order_id: str, status: OrderStatus | None, events: Sequence[Envelope]
    ) -> None: ...
    async def record_acknowledgement(
        self,
        connection: Connection,
        acknowledgement: VendorOrderAcknowledgedData,
        acknowledged_at: datetime,
        entries: Mapping[str, list[dict[str, Any]]],
    ) -> None: ...
    async def shipments_view(self, db: Connection, order_id: str) -> dict[str, Any] | None: ...


class Database(Protocol):
    """Where a route borrows its connection (an asyncpg pool)."""

    def acquire(self) -> AbstractAsyncContextManager[Connection]: ...
