"""``shipment.reported``: a vendor shipped a package. Published by vendor adapters."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field

from shared.contracts.envelope import Contract, Envelope, UtcDatetime


class ShipmentLine(Contract):
    line_id: str
    sku: str
    quantity: int


class ShipmentReportedData(Contract):
    shipment_id: str = Field(description="Stable id of this package; the same notice again keeps it.")
    vendor: str
    vendor_order_id: str
    vendor_order_number: str
    order_id: str
    carrier: str | None = None
    service: str | None = None
    tracking_number: str | None = None
    ship_date: date | None = None
    label_created_at: UtcDatetime | None = None
    shipping_cost: Decimal | None = Field(default=None, description="What the label cost (carrier fee).")
    notes_to_buyer: str | None = None
    notify_customer: bool | None = None
    lines: list[ShipmentLine]


class ShipmentReported(Envelope):
    """A package left the vendor with these lines."""

    event_type = "shipment.reported"
    type: Literal["shipment.reported"] = "shipment.reported"
    data: ShipmentReportedData
