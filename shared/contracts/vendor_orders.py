"""Vendor order events, addressed to one vendor: ``vendor_order.created.<vendor>`` and
``vendor_order.cancelled.<vendor>``. Published by the splitter onto the ``vendor.<vendor>`` queue.

These are a public API: third-party vendor adapters subscribe to ``vendor.<vendor>`` queues.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field

from shared.contracts.envelope import Contract, Envelope, UtcDatetime
from shared.contracts.orders import OrderHeader, OrderLine


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
