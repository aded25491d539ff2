"""What a ship notice does to a vendor order: the package it reports upstream, each line's shipped
quantity after it, and the state the order goes to. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.shipstation.order_states import ShipmentState, shipped_after, state_after_shipment
from services.shipstation.shipnotice import ShipNotice, allocate_shipment, notice_fingerprint
from shared.contracts.shipments import ShipmentReportedData
from shared.contracts.vendor_orders import VendorOrderCreatedData


@dataclass(frozen=True)
class Shipment:
    report: ShipmentReportedData
    """The package as ``shipment.reported`` announces it."""
    shipped: dict[str, int]
    """Each line's shipped quantity, this package included."""
    state: ShipmentState
    state_changed: bool
    """The vendor order's state changes: ShipStation should see it (``LastModified`` is bumped)."""


def shipment_id(vendor_order_id: str, notice: ShipNotice) -> str:
    """Stable per package: ShipStation sending the same notice again names the same shipment."""
    return "shp_" + notice_fingerprint(vendor_order_id, notice)[:32]


def ship(
    vendor_order: VendorOrderCreatedData, state: str, already_shipped: Mapping[str, int], notice: ShipNotice
) -> Shipment:
    """The package ``notice`` reports for ``vendor_order`` (in ``state``, with ``already_shipped``)."""
    lines = allocate_shipment(vendor_order.lines, already_shipped, notice.items)
    report = ShipmentReportedData(
        shipment_id=shipment_id(vendor_order.vendor_order_id, notice),
        vendor=vendor_order.vendor,
        vendor_order_id=vendor_order.vendor_order_id,
        vendor_order_number=vendor_order.vendor_order_number,
        order_id=vendor_order.order_id,
        carrier=notice.carrier,
        service=notice.service,
        tracking_number=notice.tracking_number,
        ship_date=notice.ship_date,
        label_created_at=notice.label_created_at,
        shipping_cost=notice.shipping_cost,
        notes_to_buyer=notice.notes_to_customer,
        notify_customer=notice.notify_customer,
        lines=lines,
    )
    shipped = shipped_after(already_shipped, {line.line_id: line.quantity for line in lines})
    new_state = state_after_shipment(state, vendor_order.lines, shipped)
    return Shipment(report, shipped, new_state, state_changed=new_state != state)
