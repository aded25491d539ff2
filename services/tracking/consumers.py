"""Tracking's handlers: plain functions of (event, connection), inside the inbox transaction."""

from __future__ import annotations

from services.tracking import repository
from services.tracking.fulfilment import apply_shipment, derive_status
from shared.contracts.orders import (
    OrderCancelled,
    OrderReceived,
    OrderStatusChanged,
    OrderStatusChangedData,
    ShipmentSummary,
)
from shared.contracts.shipments import ShipmentReported, ShipmentReportedData
from shared.db import Connection
from shared.messaging.outbox import enqueue_many


def _summary(shipment: ShipmentReportedData, applied: dict[str, int]) -> ShipmentSummary:
    skus = {line.line_id: line.sku for line in shipment.lines}
    return ShipmentSummary(
        shipment_id=shipment.shipment_id,
        vendor=shipment.vendor,
        carrier=shipment.carrier,
        service=shipment.service,
        tracking_number=shipment.tracking_number,
        ship_date=shipment.ship_date.isoformat() if shipment.ship_date else None,
        label_created_at=shipment.label_created_at,
        shipping_cost=shipment.shipping_cost,
        notes_to_buyer=shipment.notes_to_buyer,
        notify_customer=shipment.notify_customer,
        lines=[{"line_id": lid, "sku": skus.get(lid, ""), "quantity": qty} for lid, qty in applied.items()],
    )


async def _apply(
    connection: Connection,
    order: repository.TrackedOrder,
    shipment: ShipmentReportedData,
    causation: str | None,
) -> None:
    """Apply ``shipment`` to the order's lines and queue the order's new status."""
    progress = await repository.lines(connection, order.order_id)
    progress, applied = apply_shipment(progress, {line.line_id: line.quantity for line in shipment.lines})
    status = derive_status(progress, cancelled=order.cancelled) or "routed"
    event = OrderStatusChanged(
        correlation_id=order.order_id,
        causation_id=causation,
        data=OrderStatusChangedData(
            order_id=order.order_id,
            channel=order.channel,
            external_id=order.external_id,
            order_number=order.order_number,
            status=status,
            previous_status=order.status,
            shipment=_summary(shipment, applied),
        ),
    )
    await repository.record_progress(
        connection, order.order_id, progress, shipment.shipment_id, status, order.cancelled, event
    )


async def on_shipment_reported(connection: Connection, event: ShipmentReported) -> None:
    shipment = event.data
    await repository.lock_order(connection, shipment.order_id)
    if not await repository.insert_shipment(connection, shipment):
        return  # the same package reported again
    order = await repository.get_order(connection, shipment.order_id, lock=True)
    if order is None:
        return  # applied when order.received arrives
    await _apply(connection, order, shipment, event.message_id)


async def on_order_received(connection: Connection, event: OrderReceived) -> None:
    if not await repository.insert_order(connection, event.data):
        return
    for shipment in await repository.unapplied_shipments(connection, event.data.order_id):
        order = await repository.get_order(connection, event.data.order_id, lock=True)
        assert order is not None
        await _apply(connection, order, shipment, event.message_id)


async def on_order_cancelled(connection: Connection, event: OrderCancelled) -> None:
    order = await repository.get_order(connection, event.data.order_id, lock=True)
    if order is None or order.cancelled:
        # Cancelled before we saw it: nothing shipped, and intake already shows it cancelled.
        return
    progress = await repository.lines(connection, order.order_id)
    status = derive_status(progress, cancelled=True)
    await repository.set_status(connection, order.order_id, status, True)
    if status is not None and status != order.status:
        await enqueue_many(
            connection,
            [
                OrderStatusChanged(
                    correlation_id=order.order_id,
                    causation_id=event.message_id,
                    data=OrderStatusChangedData(
                        order_id=order.order_id,
                        channel=order.channel,
                        external_id=order.external_id,
                        order_number=order.order_number,
                        status=status,
                        previous_status=order.status,
                    ),
                )
            ],
        )
