"""The ship-notice use case: ShipStation reports a package (``?action=shipnotify``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import structlog

from services.shipstation.repository import StoreConnection, StoredVendorOrder
from services.shipstation.shipments import ship
from services.shipstation.shipnotice import ShipNotice
from services.shipstation.use_cases.calls import record_call
from services.shipstation.use_cases.ports import StoreCall, StorePorts
from services.shipstation.withdrawals import standing_order
from shared.contracts.shipments import ShipmentReported
from shared.contracts.vendor_orders import VendorOrderCreatedData
from shared.db import Connection

log = structlog.get_logger(__name__)
NoticeOutcome = Literal["accepted", "duplicate", "unknown_order"]


@dataclass(frozen=True)
class AcceptShipNotice:
    """A parsed ship notice from an authenticated ShipStation."""

    connection: StoreConnection
    notice: ShipNotice


async def refuse_notice(call: StoreCall, reason: str, ports: StorePorts) -> None:
    """Count and log a notice that could not be read (too large, malformed, naming no order)."""
    ports.metrics.notices.labels(call.vendor, "refused").inc()
    await record_call(call, "shipnotify", "refused", ports, detail=reason[:500])


async def accept_ship_notice(
    command: AcceptShipNotice, call: StoreCall, ports: StorePorts, wake_relay: Callable[[], None]
) -> NoticeOutcome:
    """Record the package, the vendor order's progress and ``shipment.reported`` in one transaction.

    ShipStation is answered ``OK`` whatever the outcome: a notice for an order we do not know is
    recorded for ops, because an error answer would show the merchant a failure in ShipStation that
    they cannot fix; the same notice again changes nothing (Custom Store guide, shipnotify).
    """
    vendor, notice = command.connection.vendor, command.notice
    outcome: NoticeOutcome
    async with ports.pool.acquire() as db, db.transaction():
        stored = await ports.repository.find_vendor_order(db, vendor, notice.order_id, notice.order_number)
        if stored is None:
            detail = f"ship notice for unknown order (OrderID {notice.order_id!r}, number {notice.order_number!r})"
            log.warning("ship notice for unknown order", order_number=notice.order_number)
            await ports.repository.record_problem(db, vendor, "unknown_order", notice.order_id, detail)
            ports.metrics.problems.labels(vendor, "unknown_order").inc()
            outcome = "unknown_order"
        else:
            structlog.contextvars.bind_contextvars(order_id=stored.payload["order_id"])
            outcome = await _record_shipment(db, stored, notice, ports)
    if outcome == "accepted":
        wake_relay()
    ports.metrics.notices.labels(vendor, outcome).inc()
    await record_call(
        call,
        "shipnotify",
        outcome,
        ports,
        detail=(
            f"order {notice.order_number or notice.order_id}, tracking {notice.tracking_number or '-'}, "
            f"{len(notice.items) or 'no'} items"
        )[:500],
    )
    return outcome


async def _record_shipment(
    db: Connection, stored: StoredVendorOrder, notice: ShipNotice, ports: StorePorts
) -> Literal["accepted", "duplicate"]:
    # Measured against what stands: withdrawn units are not the vendor's to ship.
    vendor_order = standing_order(VendorOrderCreatedData.model_validate(stored.payload), stored.withdrawn)
    shipment = ship(vendor_order, stored.state, stored.shipped, notice)
    recorded = await ports.repository.record_shipment(
        db,
        shipment.report.shipment_id,
        stored.vendor,
        stored.id,
        shipment.report.model_dump(mode="json"),
        shipment.shipped,
        shipment.state,
        shipment.state_changed,
        ShipmentReported(correlation_id=vendor_order.order_id, data=shipment.report),
    )
    if not recorded:
        return "duplicate"
    log.info(
        "shipment recorded",
        shipment_id=shipment.report.shipment_id,
        lines=len(shipment.report.lines),
        state=shipment.state,
    )
    return "accepted"
