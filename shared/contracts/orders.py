"""Order events: ``order.received``, ``order.cancelled``, ``order.updated``, ``order.ship_to_changed`` (intake)
and ``order.status_changed`` (tracking)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, get_args

from pydantic import Field

from shared.contracts.envelope import Contract, Envelope, UtcDatetime

WeightUnit = Literal["pounds", "ounces", "grams"]
ChannelOrderStatus = Literal["paid", "unpaid", "on_hold"]
OrderStatus = Literal[
    "received",
    "held",
    "routed",
    "partially_shipped",
    "shipped",
    "cancelled",
    "partially_cancelled",
]


class Address(Contract):
    name: str
    company: str | None = None
    address1: str
    address2: str | None = None
    city: str
    state: str | None = None
    postal_code: str
    country: str = Field(description="ISO 3166-1 alpha-2")
    phone: str | None = None
    email: str | None = None


class Party(Contract):
    """A bill-to party: no address needed."""

    name: str
    company: str | None = None
    phone: str | None = None
    email: str | None = None


class Customer(Contract):
    name: str | None = None
    email: str | None = None
    phone: str | None = None


class Discount(Contract):
    code: str
    amount: Decimal = Field(description="Positive amount taken off the order.")


class LineOption(Contract):
    name: str
    value: str


class OrderLine(Contract):
    line_id: str
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    weight: Decimal | None = None
    weight_unit: WeightUnit | None = None
    image_url: str | None = None
    options: list[LineOption] = Field(default_factory=list)
    location: str | None = None
    upc: str | None = None


class OrderHeader(Contract):
    """What an order and each of its vendor orders share: who, where to, how, and the money around the lines."""

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
    tax_amount: Decimal = Decimal("0")
    shipping_amount: Decimal = Decimal("0")
    discounts: list[Discount] = Field(default_factory=list)
    gift: bool = False
    gift_message: str | None = None
    customer_notes: str | None = None
    internal_notes: str | None = None
    total_weight: Decimal | None = None
    weight_unit: WeightUnit | None = None


class OrderReceivedData(OrderHeader):
    lines: list[OrderLine]


class OrderReceived(Envelope):
    """A channel order was accepted and stored. Published by intake."""

    event_type = "order.received"
    type: Literal["order.received"] = "order.received"
    data: OrderReceivedData


class OrderCancelledData(Contract):
    order_id: str
    reason: str | None = None


class OrderCancelled(Envelope):
    """A person or the channel cancelled the order. Published by intake."""

    event_type = "order.cancelled"
    type: Literal["order.cancelled"] = "order.cancelled"
    data: OrderCancelledData


class ShipmentSummary(Contract):
    """The shipment that caused a status change, as the channel receives it."""

    shipment_id: str
    vendor: str
    carrier: str | None = None
    service: str | None = None
    tracking_number: str | None = None
    ship_date: str | None = Field(default=None, description="ISO date the package shipped.")
    label_created_at: UtcDatetime | None = Field(default=None, description="When the label was created (UTC).")
    shipping_cost: Decimal | None = None
    notes_to_buyer: str | None = None
    notify_customer: bool | None = None
    lines: list[dict[str, object]] = Field(default_factory=list)


class OrderStatusChangedData(Contract):
    order_id: str
    channel: str
    external_id: str
    order_number: str
    status: OrderStatus
    previous_status: OrderStatus | None = None
    shipment: ShipmentSummary | None = None


class OrderStatusChanged(Envelope):
    """The order's derived status changed, or a shipment was added. Published by tracking."""

    event_type = "order.status_changed"
    type: Literal["order.status_changed"] = "order.status_changed"
    data: OrderStatusChangedData


class OrderUpdatedData(Contract):
    order_id: str
    status: ChannelOrderStatus = Field(description="The channel's status now: payment captured, or a review hold.")


class OrderUpdated(Envelope):
    """The channel changed the order's status (``POST /v1/orders/{id}/status``). Published by intake."""

    event_type = "order.updated"
    type: Literal["order.updated"] = "order.updated"
    data: OrderUpdatedData


class OrderShipToChangedData(Contract):
    order_id: str
    ship_to: Address = Field(description="The address the order ships to now, in full.")
    changed_at: UtcDatetime = Field(description="When intake took the change: a later change wins over an earlier one.")


class OrderShipToChanged(Envelope):
    """The channel changed where the order ships to (``POST /v1/orders/{id}/ship_to``). Published by intake."""

    event_type = "order.ship_to_changed"
    type: Literal["order.ship_to_changed"] = "order.ship_to_changed"
    data: OrderShipToChangedData


HoldCode = Literal[
    "unmapped_sku",
    "no_stock",
    "no_vendor_for_country",
    "unpaid",
    "over_value_limit",
    "po_box",
    "duplicate",
    "vendor_rejected",
    "ack_overdue",
    "channel_on_hold",
]
HOLD_CODES: tuple[HoldCode, ...] = get_args(HoldCode)


class HoldReason(Contract):
    code: HoldCode
    detail: str = Field(description="What a person reads: the rule and the numbers it used.")
    line_id: str | None = Field(default=None, description="The line it concerns; none: the whole order.")


class OrderHeldData(Contract):
    order_id: str
    reasons: list[HoldReason] = Field(min_length=1)


class OrderHeld(Envelope):
    """Lines of the order wait instead of going to a vendor, for these reasons. Published by the splitter."""

    event_type = "order.held"
    type: Literal["order.held"] = "order.held"
    data: OrderHeldData


class OrderReleasedData(Contract):
    order_id: str
    by: Literal["auto", "person"] = Field(description="auto: the cause went away; person: released by ops.")


class OrderReleased(Envelope):
    """A held order was released and routed. Published by the splitter."""

    event_type = "order.released"
    type: Literal["order.released"] = "order.released"
    data: OrderReleasedData
