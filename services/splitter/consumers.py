"""The splitter's message handlers: plain functions of (event, connection), run inside the inbox
transaction so the effect and the events it causes commit together."""

from __future__ import annotations

import uuid

import structlog

from services.splitter import repository
from services.splitter.routing import route_order, split_order
from shared.contracts.inventory import InventoryUpdated
from shared.contracts.orders import OrderCancelled, OrderReceived, OrderReceivedData
from shared.contracts.vendor_orders import (
    VendorOrderCancelled,
    VendorOrderCancelledData,
    VendorOrderCreated,
)
from shared.db import Connection
from shared.messaging.outbox import enqueue_many

log = structlog.get_logger(__name__)


def new_vendor_order_id() -> str:
    return f"vo_{uuid.uuid4().hex}"


async def route_and_split(
    connection: Connection, order: OrderReceivedData, causation_id: str | None, *, again: bool = False
) -> int:
    """Route ``order`` and store the outcome with the vendor order events to publish (none if held);
    answers how many vendor orders it made.

    ``again`` for an order routed before (a held order whose SKUs are now known).
    """
    sources = await repository.sources_for(connection, sorted({line.sku for line in order.lines}))
    result = route_order(order, sources)
    if result.held:
        reason = "; ".join(result.hold_reasons)
        await repository.save_routing(connection, order, "held", reason, result.decisions, replace=again)
        log.warning("order held", order_id=order.order_id, reason=reason)
        return 0
    vendor_orders = split_order(order, result, new_vendor_order_id)
    events = [
        VendorOrderCreated(correlation_id=order.order_id, causation_id=causation_id, data=v) for v in vendor_orders
    ]
    await repository.save_routing(
        connection, order, "routed", None, result.decisions, vendor_orders, events, replace=again
    )
    log.debug("order split", order_id=order.order_id, vendors=[v.vendor for v in vendor_orders])
    return len(vendor_orders)


async def on_order_received(connection: Connection, event: OrderReceived) -> None:
    order = event.data
    if await repository.routed_order_state(connection, order.order_id, lock=True) is not None:
        return  # seen before (routed, held, or cancelled before it arrived)
    await route_and_split(connection, order, event.message_id)


async def on_order_cancelled(connection: Connection, event: OrderCancelled) -> None:
    order_id = event.data.order_id
    state = await repository.routed_order_state(connection, order_id, lock=True)
    if state is None:
        await repository.mark_cancelled_before_seen(connection, order_id)
        return
    if state == "cancelled":
        return
    await repository.set_routed_state(connection, order_id, "cancelled")
    cancelled = await repository.cancel_open_vendor_orders(connection, order_id)
    await enqueue_many(
        connection,
        [
            VendorOrderCancelled(
                correlation_id=order_id,
                causation_id=event.message_id,
                occurred_at=event.occurred_at,
                data=VendorOrderCancelledData(
                    vendor_order_id=v.id,
                    vendor_order_number=v.number,
                    vendor=v.vendor,
                    order_id=order_id,
                    reason=event.data.reason,
                    cancelled_at=event.occurred_at,
                ),
            )
            for v in cancelled
        ],
    )


async def on_inventory_updated(connection: Connection, event: InventoryUpdated) -> None:
    await repository.set_stock(connection, event.data.vendor, [(level.sku, level.stock) for level in event.data.levels])


async def release_held_orders(connection: Connection, sku: str) -> int:
    """Route again the held orders that wait for ``sku`` (called after its catalog entry changed);
    answers how many vendor orders that made. Their events are in the outbox when this returns."""
    made = 0
    for order in await repository.held_orders_with_sku(connection, sku):
        made += await route_and_split(connection, order, None, again=True)
    return made
