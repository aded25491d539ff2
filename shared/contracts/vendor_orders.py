"""Vendor order events, addressed to one vendor: ``vendor_order.created.<vendor>`` and
``vendor_order.cancelled.<vendor>``. Published by the splitter onto the ``vendor.<vendor>`` queue.

These are a public API: third-party vendor adapters subscribe to ``vendor.<vendor>`` queues.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field

from shared.contracts.envelope import Contract, Envelope, UtcDatetime
from shared.contracts.orders import (
    Address,
    ChannelOrderStatus,
    Customer,
    Discount,
    LineOption,
    Party,
    WeightUnit,
)


class VendorOrderLine(Contract):
    line_id: str = Field(description="The channel's line id; unique within the order.")
    sku: str
    vendor_sku: str | None = None
    name: str
    quantity: int
    unit_price: Decimal
    cost: Decimal | None = None
    weight: Decimal | None = None
    weight_unit: WeightUnit | None = None
    image_url: str | None = None
    options: list[LineOption] = Field(default_factory=list)
    location: str | None = None
    upc: str | None = None


class VendorOrderCreatedData(Contract):
    vendor_order_id: str = Field(description="Stable, unique, never reused.")
    vendor_order_number: str = Field(description="The order number plus a split suffix, e.g. 1001-2.")
    vendor: str
    order_id: str
    channel: str
    external_id: str
    order_number: str
    ordered_at: UtcDatetime
    status: ChannelOrderStatus = "paid"
    currency: str
    customer: Customer | None = None
    bill_to: Party | None = None
    ship_to: Address
    shipping_method: str | None = None
    payment_method: str | None = None
    tax_amount: Decimal = Field(default=Decimal("0"), description="This vendor order's share.")
    shipping_amount: Decimal = Field(default=Decimal("0"), description="This vendor order's share.")
    discounts: list[Discount] = Field(default_factory=list, description="This vendor order's share.")
    gift: bool = False
    gift_message: str | None = None
    customer_notes: str | None = None
    internal_notes: str | None = None
    total_weight: Decimal | None = Field(default=None, description="Sum of this vendor order's line weights.")
    weight_unit: WeightUnit | None = None
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
