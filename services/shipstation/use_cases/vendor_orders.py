"""The events the adapter consumes from a ShipStation vendor's queue: a vendor order to export, or
its cancellation. Each runs in the inbox transaction of its delivery (see ``Runtime.consume``)."""

from __future__ import annotations

from services.shipstation import repository
from shared.contracts.vendor_orders import VendorOrderCancelled, VendorOrderCreated
from shared.db import Connection
from shared.messaging.consumer import RetryLater


async def store_vendor_order(connection: Connection, event: VendorOrderCreated) -> None:
    """Keep the vendor order for ShipStation's next export (a redelivery changes nothing)."""
    await repository.insert_vendor_order(connection, event.data)


async def cancel_vendor_order(connection: Connection, event: VendorOrderCancelled) -> None:
    """Mark the vendor order cancelled (bumping LastModified, so the next export shows it) unless it
    has shipped in full."""
    previous = await repository.cancel_vendor_order(connection, event.data.vendor_order_id)
    if previous is None:
        # Overtook its vendor_order.created (a redelivery can reorder them): try again after the
        # creation has been applied.
        raise RetryLater(f"cancellation for unknown vendor order {event.data.vendor_order_id}")
