"""The acknowledgement a ShipStation vendor gives: ShipStation has no way to answer per line, so the
first export of a vendor order counts as accepting every line that stands, in full. Pure: no I/O."""

from __future__ import annotations

from shared.contracts.vendor_orders import (
    AcknowledgedLine,
    VendorOrderAcknowledged,
    VendorOrderAcknowledgedData,
    VendorOrderCreatedData,
)


def first_export_acknowledgement(standing: VendorOrderCreatedData) -> VendorOrderAcknowledged:
    """``vendor_order.acknowledged`` for a vendor order exported for the first time, as it stands then."""
    return VendorOrderAcknowledged(
        correlation_id=standing.order_id,
        data=VendorOrderAcknowledgedData(
            vendor_order_id=standing.vendor_order_id,
            vendor_order_number=standing.vendor_order_number,
            vendor=standing.vendor,
            order_id=standing.order_id,
            lines=[
                AcknowledgedLine(line_id=line.line_id, sku=line.sku, status="accepted", quantity=line.quantity)
                for line in standing.lines
            ],
        ),
    )
