"""Vendor order events from ``vendor.<code>``: kept, and owed to the vendor as a delivery (written in
the consumer's transaction, with its inbox row)."""

from __future__ import annotations

from services.gateway.store import deliveries
from services.gateway.store.ship_to import record_ship_to_change
from shared.contracts.vendor_orders import (
    VendorOrderCancelled,
    VendorOrderCreated,
    VendorOrderLinesCancelled,
    VendorOrderShipToChanged,
)
from shared.db import Connection
from shared.logging import get_logger

log = get_logger(__name__)


async def order_created(connection: Connection, event: VendorOrderCreated) -> None:
    await deliveries.record_created(connection, event.data.model_dump(mode="json"))


async def order_cancelled(connection: Connection, event: VendorOrderCancelled) -> None:
    if not await deliveries.record_cancelled(connection, event.data.model_dump(mode="json")):
        # Never received, so never sent: the vendor has nothing to cancel.
        log.info("cancellation of a vendor order never received", vendor_order_id=event.data.vendor_order_id)


async def lines_withdrawn(connection: Connection, event: VendorOrderLinesCancelled) -> None:
    if await deliveries.record_withdrawal(connection, event.data.model_dump(mode="json")) is None:
        log.info("withdrawal from a vendor order never received", vendor_order_id=event.data.vendor_order_id)


async def ship_to_changed(connection: Connection, event: VendorOrderShipToChanged) -> None:
    data = event.data
    outcome = await record_ship_to_change(connection, data.model_dump(mode="json"), data.changed_at)
    if outcome == "unknown":
        log.info("ship-to change of a vendor order never received", vendor_order_id=data.vendor_order_id)
    elif outcome == "older":
        log.info("ship-to change older than one owed already, not sent", vendor_order_id=data.vendor_order_id)
