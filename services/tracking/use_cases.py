"""What tracking does: one function per route and per event it consumes.

Event handlers (``on_<event>``) have the shape :meth:`shared.service.Runtime.consume` calls, ``(connection,
event)``, and run inside the inbox transaction, so an effect, the event it causes and the message id
commit together. Decisions are the pure functions of :mod:`services.tracking.fulfilment`; the tables
and the pool are the ports of :mod:`services.tracking.ports`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog

from services.tracking import repository
from services.tracking.fulfilment import (
    TrackedOrder,
    acknowledged_lines,
    after_cancellation,
    after_shipment,
    shipment_summary,
)
from services.tracking.ports import Database, TrackingStore
from shared.contracts.envelope import Envelope
from shared.contracts.orders import (
    OrderCancelled,
    OrderReceived,
    OrderStatus,
    OrderStatusChanged,
    OrderStatusChangedData,
    ShipmentSummary,
)
from shared.contracts.shipments import ShipmentReported, ShipmentReportedData
from shared.contracts.vendor_orders import VendorOrderAcknowledged
from shared.db import Connection

log = structlog.get_logger(__name__)


class NotFound(Exception):
    pass


# ---------------------------------------------------------------------------------------------- routes


async def get_shipments(pool: Database, order_id: str, *, store: TrackingStore = repository) -> dict[str, Any]:
    """The order's lines (ordered, shipped), its status and every shipment reported for it."""
    # Read-only, one snapshot: the order, its lines and its shipments as of the same moment.
    async with pool.acquire() as connection, connection.transaction(isolation="repeatable_read", readonly=True):
        view = await store.shipments_view(connection, order_id)
    if view is None:
        raise NotFound("no shipments known for this order")
    return view


# ---------------------------------------------------------------------------------------------- events


async def on_shipment_reported(
    connection: Connection, event: ShipmentReported, *, store: TrackingStore = repository
) -> None:
    shipment = event.data
    await store.lock_order(connection, shipment.order_id)
    if not await store.insert_shipment(connection, shipment):
        return  # the same package reported again
    order = await store.get_order(connection, shipment.order_id, lock=True)
    if order is None:
        return  # applied when order.received arrives
    await _apply(store, connection, order, shipment, event.message_id)


async def on_order_received(connection: Connection, event: OrderReceived, *, store: TrackingStore = repository) -> bool:
    """Keep the order's lines, and apply the shipments reported before it arrived. Answers whether it
    may have announced a status: only such a shipment does, so most orders leave the relay asleep."""
    if not await store.insert_order(connection, event.data):
        return False
    shipments = await store.unapplied_shipments(connection, event.data.order_id)
    for shipment in shipments:
        order = await store.get_order(connection, event.data.order_id, lock=True)
        assert order is not None
        await _apply(store, connection, order, shipment, event.message_id)
    return bool(shipments)


async def on_orders_received(
    connection: Connection, events: Sequence[OrderReceived], *, store: TrackingStore = repository
) -> bool:
    """:func:`on_order_received` for a run of them in a batch: the orders stored in one statement, the
    shipments that came before them looked up in one more, and applied as the single handler would."""
    new = await store.insert_orders(connection, [event.data for event in events])
    if not new:
        return False
    waiting = await store.unapplied_shipments_of(connection, sorted(new))
    announced = any(waiting.values())
    for event in events:
        order_id = event.data.order_id
        for shipment in waiting.pop(order_id, []):  # popped: applied for the order's first event only
            order = await store.get_order(connection, order_id, lock=True)
            assert order is not None
            await _apply(store, connection, order, shipment, event.message_id)
    return announced


async def on_order_cancelled(
    connection: Connection, event: OrderCancelled, *, store: TrackingStore = repository
) -> None:
    order = await store.get_order(connection, event.data.order_id, lock=True)
    if order is None or order.cancelled:
        # Cancelled before we saw it: nothing shipped, and intake already shows it cancelled.
        return
    cancellation = after_cancellation(await store.lines(connection, order.order_id), order.status)
    events: list[Envelope] = []
    if cancellation.announce and cancellation.status is not None:
        events.append(_status_changed(order, cancellation.status, event.message_id))
    await store.record_cancellation(connection, order.order_id, cancellation.status, events)


async def on_vendor_order_acknowledged(
    connection: Connection, event: VendorOrderAcknowledged, *, store: TrackingStore = repository
) -> bool:
    """Keep what the vendor said of each line (accepted, backordered, rejected, when it expects to
    ship) for the order's view. The order's status does not move: only shipments and the
    cancellation move it, and the splitter reroutes what a vendor rejects. Announces nothing."""
    entries = acknowledged_lines(event.data)
    if entries:
        await store.record_acknowledgement(connection, event.data, event.occurred_at, entries)
    return False


async def _apply(
    store: TrackingStore,
    connection: Connection,
    order: TrackedOrder,
    shipment: ShipmentReportedData,
    causation_id: str | None,
) -> None:
    """Apply ``shipment`` to the order's lines and queue the order's new status."""
    outcome = after_shipment(
        await store.lines(connection, order.order_id),
        shipment,
        cancelled=order.cancelled,
        shipped_after_cancel=order.shipped_after_cancel,
    )
    if outcome.shipped_after_cancel and not order.shipped_after_cancel:
        # The shipment wins and the channel is told; ops should know the cancellation came too late.
        log.warning(
            "shipment reported after the order was cancelled",
            order_id=order.order_id,
            shipment_id=shipment.shipment_id,
            vendor=shipment.vendor,
            vendor_order_id=shipment.vendor_order_id,
            status=outcome.status,
        )
    event = _status_changed(order, outcome.status, causation_id, shipment_summary(shipment, outcome.applied))
    await store.record_progress(
        connection,
        order.order_id,
        outcome.lines,
        shipment.shipment_id,
        outcome.status,
        order.cancelled,
        event,
        shipped_after_cancel=outcome.shipped_after_cancel,
    )


def _status_changed(
    order: TrackedOrder, status: OrderStatus, causation_id: str | None, shipment: ShipmentSummary | None = None
) -> OrderStatusChanged:
    return OrderStatusChanged(
        correlation_id=order.order_id,
        causation_id=causation_id,
        data=OrderStatusChangedData(
            order_id=order.order_id,
            channel=order.channel,
            external_id=order.external_id,
            order_number=order.order_number,
            status=status,
            previous_status=order.status,
            shipment=shipment,
        ),
    )
