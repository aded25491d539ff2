"""The events the adapter consumes from a ShipStation vendor's queue: a vendor order to export, its
cancellation, lines withdrawn from it, or its new ship-to. Each runs in the inbox transaction of its delivery (see
``Runtime.consume``)."""

from __future__ import annotations

import structlog

from services.shipstation import repository, vendor_order_runs
from services.shipstation.withdrawals import withdraw
from shared.contracts.vendor_orders import (
    VendorOrderCancelled,
    VendorOrderCreated,
    VendorOrderCreatedData,
    VendorOrderLinesCancelled,
    VendorOrderShipToChanged,
)
from shared.db import Connection
from shared.messaging.consumer import RetryLater

log = structlog.get_logger(__name__)


async def store_vendor_order(connection: Connection, event: VendorOrderCreated) -> None:
    """Keep the vendor order for ShipStation's next export (a redelivery changes nothing)."""
    await repository.insert_vendor_order(connection, event.data)


store_vendor_orders = vendor_order_runs.STORE_VENDOR_ORDERS
""":func:`store_vendor_order` for a run of them in a batch, in one statement (with the inbox's insert
when the batch holds nothing else)."""


async def cancel_vendor_order(connection: Connection, event: VendorOrderCancelled) -> None:
    """Mark the vendor order cancelled (bumping LastModified, so the next export shows it) unless it
    has shipped in full."""
    previous = await repository.cancel_vendor_order(connection, event.data.vendor_order_id)
    if previous is None:
        # Overtook its vendor_order.created (a redelivery can reorder them): try again after the
        # creation has been applied.
        raise RetryLater(f"cancellation for unknown vendor order {event.data.vendor_order_id}")


async def withdraw_vendor_order_lines(connection: Connection, event: VendorOrderLinesCancelled) -> None:
    """Take the withdrawn units off the vendor order (bumping LastModified, so the next export shows
    only what stands); with nothing left standing it is cancelled."""
    data = event.data
    stored = await repository.lock_vendor_order(connection, data.vendor_order_id)
    if stored is None:
        # Overtook its vendor_order.created, as a cancellation can: try again once it is stored.
        raise RetryLater(f"lines withdrawn from unknown vendor order {data.vendor_order_id}")
    lines = VendorOrderCreatedData.model_validate(stored.payload).lines
    outcome = withdraw(
        lines, stored.state, stored.shipped, stored.withdrawn, [(line.line_id, line.quantity) for line in data.lines]
    )
    if outcome.refused:
        # Units already withdrawn (the same withdrawal sent again under another message id), shipped,
        # or on no line of this vendor order: nothing to take, and never below zero.
        log.warning(
            "withdrawal asked for units that do not stand",
            vendor_order_id=data.vendor_order_id,
            refused=outcome.refused,
            state=stored.state,
            reason=data.reason,
        )
    if outcome.changed:
        await repository.record_withdrawal(connection, data.vendor_order_id, outcome.withdrawn, outcome.state)
        log.info(
            "lines withdrawn from vendor order",
            vendor_order_id=data.vendor_order_id,
            withdrawn=outcome.withdrawn,
            state=outcome.state,
            reason=data.reason,
        )


async def change_vendor_order_ship_to(connection: Connection, event: VendorOrderShipToChanged) -> None:
    """The vendor order ships to the new address (bumping LastModified, so ShipStation's next export
    carries the new ShipTo), unless it has shipped in full or is cancelled."""
    data = event.data
    stored = await repository.lock_vendor_order(connection, data.vendor_order_id)
    if stored is None:
        # Overtook its vendor_order.created, as a cancellation can: try again once it is stored.
        raise RetryLater(f"ship-to change of unknown vendor order {data.vendor_order_id}")
    if stored.state in ("shipped", "cancelled"):
        log.warning(
            "ship-to change of a vendor order that is closed: not applied",
            vendor_order_id=data.vendor_order_id,
            state=stored.state,
        )
        return
    applied = await repository.readdress_vendor_order(
        connection, data.vendor_order_id, data.ship_to.model_dump(mode="json"), data.changed_at
    )
    if applied:
        log.info("vendor order readdressed", vendor_order_id=data.vendor_order_id, country=data.ship_to.country)
    else:
        log.info("ship-to change older than the one applied, ignored", vendor_order_id=data.vendor_order_id)
