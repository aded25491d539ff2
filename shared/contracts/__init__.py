"""Message contracts: the only place message shapes live.

Every event travels in an :class:`~shared.contracts.envelope.Envelope`. Schemas change by adding
optional fields; a breaking change is a new ``type`` or ``schema_version``.
"""

from shared.contracts.envelope import Envelope, new_message_id
from shared.contracts.orders import (
    Address,
    Customer,
    Discount,
    LineOption,
    OrderCancelled,
    OrderCancelledData,
    OrderLine,
    OrderReceived,
    OrderReceivedData,
    OrderStatusChanged,
    OrderStatusChangedData,
    Party,
)
from shared.contracts.shipments import ShipmentLine, ShipmentReported, ShipmentReportedData
from shared.contracts.vendor_orders import (
    VendorOrderCancelled,
    VendorOrderCancelledData,
    VendorOrderCreated,
    VendorOrderCreatedData,
    VendorOrderLine,
)

__all__ = [
    "Address",
    "Customer",
    "Discount",
    "Envelope",
    "LineOption",
    "OrderCancelled",
    "OrderCancelledData",
    "OrderLine",
    "OrderReceived",
    "OrderReceivedData",
    "OrderStatusChanged",
    "OrderStatusChangedData",
    "Party",
    "ShipmentLine",
    "ShipmentReported",
    "ShipmentReportedData",
    "VendorOrderCancelled",
    "VendorOrderCancelledData",
    "VendorOrderCreated",
    "VendorOrderCreatedData",
    "VendorOrderLine",
    "new_message_id",
]
