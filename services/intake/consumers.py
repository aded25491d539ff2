"""Intake's consumer: ``order.status_changed`` updates the order and queues the channel webhook."""

from __future__ import annotations

from typing import Any

from services.intake import repository
from services.intake.domain import webhook_event_type
from shared.contracts.orders import OrderStatusChanged
from shared.db import Connection
from shared.messaging.consumer import RetryLater


async def apply_status_changed(connection: Connection, event: OrderStatusChanged) -> None:
    data = event.data
    order = await repository.get_order(connection, data.order_id, lock=True)
    if order is None:
        raise RetryLater(f"status change for unknown order {data.order_id}")
    body: dict[str, Any] = {
        "type": "",
        "order_id": data.order_id,
        "channel": data.channel,
        "external_id": data.external_id,
        "order_number": data.order_number,
        "status": data.status,
        "previous_status": data.previous_status,
        "occurred_at": event.occurred_at.isoformat(),
        "shipment": data.shipment.model_dump(mode="json") if data.shipment else None,
    }
    body["type"] = webhook_event_type(body)
    # The delivery id derives from the message id, so a redelivered event cannot queue a second webhook.
    await repository.record_status_change(
        connection,
        data.order_id,
        data.status,
        event.message_id,
        f"whd_{event.message_id.removeprefix('msg_')}",
        order.channel,
        body["type"],
        body,
    )
