"""Vendor order events.

Addressed to one vendor (the routing key ends in its code), published by the splitter onto the
``vendor.<vendor>`` queue: ``vendor_order.created.<vendor>``, ``vendor_order.cancelled.<vendor>``,
``vendor_order.lines_cancelled.<vendor>`` and ``vendor_order.ship_to_changed.<vendor>``. These are a
public API: third-party vendor adapters subscribe to ``vendor.<vendor>`` queues.

From the vendor's side, published by its adapter (ours or anyone's) and consumed by the splitter:
``vendor_order.acknowledged`` and ``vendor_order.failed`` (no vendor suffix, so they never reach a
``vendor.<code>`` queue).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field

from shared.contracts.envelope import Contract, Envelope, UtcDatetime
from shared.contracts.orders import Address, OrderHeader, OrderLine


class VendorOrderLine(OrderLine):
    """An order line as the vendor receives it: the channel's line plus the vendor's SKU and cost."""

    vendor_sku: str | None = None
    cost: Decimal | None = None


class VendorOrderCreatedData(OrderHeader):
    """The order's header with this vendor's lines; tax, shipping, discounts and weight are this vendor
    order's share."""

    vendor_order_id: str = Field(description="Stable, unique, never reused.")
    vendor_order_number: str = Field(description="The order number plus a split suffix, e.g. 1001-2.")
    vendor: str
    lines: list[VendorOrderLine]

    @property
    def order_total(self) -> Decimal:
        subtotal = sum((line.unit_price * line.quantity for line in self.lines), Decimal("0"))
        discount = sum((d.amount for d in self.discounts), Decimal("0"))
        return subtotal - discount + self.tax_amount + self.shipping_amount


class VendorOrderCreated(Envelope):
    """A vendor order was created: the vendor should ship these lines. Published by the splitter."""

    event_type = "vendor_order.created"
    type: Literal["vendor_order.created"] = "vendor_order.created"
    data: VendorOrderCreatedData

    def routing_key(self) -> str:
        return f"{self.type}.{self.data.vendor}"


class VendorOrderCancelledData(Contract):
    vendor_order_id: str
    vendor_order_number: str
    vendor: str
    order_id: str
    reason: str | None = None
    cancelled_at: UtcDatetime


class VendorOrderCancelled(Envelope):
    """The vendor order was cancelled before it shipped. Published by the splitter."""

    event_type = "vendor_order.cancelled"
    type: Literal["vendor_order.cancelled"] = "vendor_order.cancelled"
    data: VendorOrderCancelledData

    def routing_key(self) -> str:
        return f"{self.type}.{self.data.vendor}"


class WithdrawnLine(Contract):
    line_id: str
    quantity: int = Field(ge=1, description="Units of the line withdrawn from this vendor order.")


class VendorOrderLinesCancelledData(Contract):
    vendor_order_id: str
    vendor_order_number: str
    vendor: str
    order_id: str
    lines: list[WithdrawnLine] = Field(min_length=1)
    reason: str = Field(description="Why: rerouted to another vendor, or part of the order cancelled.")


class VendorOrderLinesCancelled(Envelope):
    """Part of a vendor order is withdrawn (a reroute, a partial cancellation); the rest stands.
    Adapters that cannot withdraw lines tell the vendor of the change. Published by the splitter."""

    event_type = "vendor_order.lines_cancelled"
    type: Literal["vendor_order.lines_cancelled"] = "vendor_order.lines_cancelled"
    data: VendorOrderLinesCancelledData

    def routing_key(self) -> str:
        return f"{self.type}.{self.data.vendor}"


class VendorOrderShipToChangedData(Contract):
    vendor_order_id: str
    vendor_order_number: str
    vendor: str
    order_id: str
    ship_to: Address = Field(description="Where the vendor order ships to now, in full: it replaces the one sent.")
    changed_at: UtcDatetime = Field(
        description="When the change was made: of two changes to one vendor order, the later one stands."
    )


class VendorOrderShipToChanged(Envelope):
    """The vendor order's ship-to changed after it was sent and before it shipped in full: ship what has
    not shipped to the new address. Adapters that cannot change an order's address tell the vendor of
    the change, or fail visibly. Published by the splitter."""

    event_type = "vendor_order.ship_to_changed"
    type: Literal["vendor_order.ship_to_changed"] = "vendor_order.ship_to_changed"
    data: VendorOrderShipToChangedData

    def routing_key(self) -> str:
        return f"{self.type}.{self.data.vendor}"


AckLineStatus = Literal["accepted", "backordered", "rejected"]


class AcknowledgedLine(Contract):
    line_id: str
    sku: str
    status: AckLineStatus
    quantity: int = Field(ge=0, description="Units this status applies to.")
    reason: str | None = None
    expected_ship_date: date | None = Field(default=None, description="For backordered (or accepted) units.")


class VendorOrderAcknowledgedData(Contract):
    vendor_order_id: str
    vendor_order_number: str
    vendor: str
    order_id: str
    lines: list[AcknowledgedLine] = Field(
        description="Per line what the vendor will do; a line left out is taken as accepted."
    )


class VendorOrderAcknowledged(Envelope):
    """The vendor answered a vendor order: per line accepted, backordered or rejected. Published by
    the vendor's adapter (the ShipStation adapter on a vendor order's first export)."""

    event_type = "vendor_order.acknowledged"
    type: Literal["vendor_order.acknowledged"] = "vendor_order.acknowledged"
    data: VendorOrderAcknowledgedData


class VendorOrderFailedData(Contract):
    vendor_order_id: str
    vendor: str
    order_id: str
    reason: str = Field(description="Could not be delivered within the retry budget, or refused outright.")
    attempts: int = Field(default=1, ge=0)


class VendorOrderFailed(Envelope):
    """A vendor order could not reach its vendor, or the vendor refused it. Published by its adapter."""

    event_type = "vendor_order.failed"
    type: Literal["vendor_order.failed"] = "vendor_order.failed"
    data: VendorOrderFailedData
