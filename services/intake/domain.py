"""Intake's rules, free of I/O: what a valid channel order is, how it becomes ``order.received``, who
may act on it, when it can be cancelled or have its channel status changed, and which status its view
shows (the holds themselves: :mod:`services.intake.holds`).

Unknown fields in an order are ignored (documented in the README): channels send more than we use,
and refusing them would break a channel every time it adds a field.

Text is taken as channels send it (docs/architecture.md, intake): names, addresses, notes, option values and
method labels up to :data:`FREE_TEXT_MAX_CHARS` characters, control characters, emoji and right-to-left
scripts included. Each vendor edge fits text to its own format. Identifiers keep tight limits, because
they become keys, file names and EDI elements. Only U+0000 is refused (PostgreSQL cannot store it;
``shared.http.validate_model`` names the field).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from services.intake.fields import (
    Code,
    ExternalId,
    LineId,
    Name,
    Note,
    OrderedAt,
    OrderNumber,
    PostalCode,
    Quantity,
    ShortText,
    Sku,
    Weight,
    WeightUnit,
)
from services.intake.holds import Hold, hold_reason
from shared.contracts.orders import (
    Address,
    ChannelOrderStatus,
    Customer,
    Discount,
    LineOption,
    OrderLine,
    OrderReceivedData,
    Party,
)
from shared.countries import COUNTRIES_REQUIRING_STATE, ISO_COUNTRY_CODES
from shared.money import NonNegativeMoney


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class AddressIn(_Request):
    name: Name
    company: Name | None = None
    address1: Name
    address2: Name | None = None
    city: Name
    state: ShortText | None = None
    postal_code: PostalCode
    country: Annotated[
        str,
        StringConstraints(strip_whitespace=True, to_upper=True),
        # Documented as the list it is checked against (the OpenAPI document is generated from this).
        WithJsonSchema({"type": "string", "enum": sorted(ISO_COUNTRY_CODES), "description": "ISO 3166-1 alpha-2"}),
    ]
    phone: Annotated[str, StringConstraints(max_length=50)] | None = None
    email: Annotated[str, StringConstraints(max_length=200)] | None = None

    @field_validator("country")
    @classmethod
    def _iso_country(cls, value: str) -> str:
        if value not in ISO_COUNTRY_CODES:
            raise ValueError("country must be an ISO 3166-1 alpha-2 code such as US or DE")
        return value

    @model_validator(mode="after")
    def _state_where_needed(self) -> AddressIn:
        if self.country in COUNTRIES_REQUIRING_STATE and not self.state:
            raise ValueError(f"state is required for addresses in {self.country}")
        return self


class PartyIn(_Request):
    name: Name
    company: Name | None = None
    phone: Annotated[str, StringConstraints(max_length=50)] | None = None
    email: Annotated[str, StringConstraints(max_length=200)] | None = None


class CustomerIn(_Request):
    name: Name | None = None
    email: Annotated[str, StringConstraints(max_length=200)] | None = None
    phone: Annotated[str, StringConstraints(max_length=50)] | None = None


class DiscountIn(_Request):
    code: ShortText
    amount: NonNegativeMoney


class OptionIn(_Request):
    name: Name
    value: Name


class LineIn(_Request):
    line_id: LineId | None = None
    sku: Sku
    name: Name
    quantity: Quantity
    unit_price: NonNegativeMoney
    weight: Weight | None = None
    weight_unit: WeightUnit | None = None
    image_url: Annotated[str, StringConstraints(max_length=500)] | None = None
    options: list[OptionIn] = Field(default_factory=list, max_length=20)
    location: Annotated[str, StringConstraints(max_length=100)] | None = None
    # ASCII digits only: ``\d`` would also let Arabic-Indic or full-width digits through to vendors.
    upc: Annotated[str, StringConstraints(pattern=r"^[0-9]{6,14}$")] | None = None


class OrderRequest(_Request):
    """``POST /v1/orders``: a channel order."""

    channel: Code
    external_id: ExternalId
    order_number: OrderNumber
    ordered_at: OrderedAt
    status: Literal["paid", "unpaid", "on_hold"] = "paid"
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    customer: CustomerIn | None = None
    bill_to: PartyIn | None = None
    ship_to: AddressIn
    shipping_method: Note | None = None
    payment_method: Note | None = None
    tax_amount: NonNegativeMoney = Decimal("0")
    shipping_amount: NonNegativeMoney = Decimal("0")
    discounts: list[DiscountIn] = Field(default_factory=list, max_length=20)
    gift: StrictBool = False
    gift_message: Note | None = None
    customer_notes: Note | None = None
    internal_notes: Note | None = None
    total_weight: Weight | None = None
    weight_unit: WeightUnit | None = None
    lines: list[LineIn] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _consistent(self) -> OrderRequest:
        ids = [line.line_id for line in self.lines if line.line_id is not None]
        if len(ids) != len(set(ids)):
            raise ValueError("line_id values must be unique within the order")
        subtotal = sum((line.unit_price * line.quantity for line in self.lines), Decimal("0"))
        if sum((d.amount for d in self.discounts), Decimal("0")) > subtotal:
            raise ValueError("discounts exceed the order's subtotal")
        return self


def new_order_id() -> str:
    return f"ord_{uuid.uuid4().hex}"


def to_order_received(order_id: str, request: OrderRequest) -> OrderReceivedData:
    """The stored order, as every other service will see it: line ids filled in, UTC times."""
    lines = [
        OrderLine(
            line_id=line.line_id or f"L{index}",
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            weight=line.weight,
            weight_unit=line.weight_unit or (request.weight_unit if line.weight is not None else None),
            image_url=line.image_url,
            options=[LineOption(name=o.name, value=o.value) for o in line.options],
            location=line.location,
            upc=line.upc,
        )
        for index, line in enumerate(request.lines, start=1)
    ]
    if len({line.line_id for line in lines}) != len(lines):
        # A channel that names some lines "L2" and leaves others unnamed: number them uniquely instead.
        for index, line in enumerate(lines, start=1):
            line.line_id = f"L{index}"
    return OrderReceivedData(
        order_id=order_id,
        channel=request.channel,
        external_id=request.external_id,
        order_number=request.order_number,
        ordered_at=request.ordered_at,
        status=request.status,
        currency=request.currency,
        customer=Customer(**request.customer.model_dump()) if request.customer else None,
        bill_to=Party(**request.bill_to.model_dump()) if request.bill_to else None,
        ship_to=Address(**request.ship_to.model_dump()),
        shipping_method=request.shipping_method,
        payment_method=request.payment_method,
        tax_amount=request.tax_amount,
        shipping_amount=request.shipping_amount,
        discounts=[Discount(code=d.code, amount=d.amount) for d in request.discounts],
        gift=request.gift,
        gift_message=request.gift_message,
        customer_notes=request.customer_notes,
        internal_notes=request.internal_notes,
        total_weight=request.total_weight,
        weight_unit=request.weight_unit,
        lines=lines,
    )


class CancelRequest(BaseModel):
    """``POST /v1/orders/{id}/cancel``: the body is optional; when sent, it is this object and nothing else."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Annotated[str, StringConstraints(max_length=500)] | None = Field(
        default=None, description="Why; kept with the order's cancellation event."
    )


class StatusRequest(_Request):
    """``POST /v1/orders/{id}/status``: the channel's status of the order now (payment captured, a review)."""

    status: ChannelOrderStatus = Field(
        description="paid: the payment is captured; unpaid: it is not (yet); on_hold: the channel holds it "
        "(a fraud review, say)."
    )


class ChannelRequest(_Request):
    """``PUT /v1/channels/{code}``."""

    name: ShortText
    webhook_url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)] | None = None
    webhook_secret: Annotated[str, StringConstraints(min_length=16, max_length=200)] | None = None


def new_api_key() -> str:
    return "dsk_" + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """API keys are 256 random bits, so a plain SHA-256 is enough to keep them unusable if read."""
    return hashlib.sha256(key.encode()).hexdigest()


def webhook_event_type(status_event: dict[str, Any]) -> str:
    return "order.shipment_created" if status_event.get("shipment") else "order.status_changed"


# ---------------------------------------------------------------------------------------------- access


@dataclass(frozen=True)
class Caller:
    """Who calls the channel API: a channel (by its key) or the admin (``channel is None``)."""

    channel: str | None

    def may_act_for(self, channel: str) -> bool:
        return self.channel is None or self.channel == channel


ADMIN = Caller(None)


class IntakeError(Exception):
    """A request intake refuses for a reason of its own (the HTTP layer picks the status code)."""


class OrderNotFound(IntakeError):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"no order {order_id!r}")
        self.order_id = order_id


class ForeignChannel(IntakeError):
    """The caller's key belongs to another channel than the one it names or the order's."""

    def __init__(self, caller: str, channel: str) -> None:
        super().__init__(f"this key belongs to channel {caller!r}, not {channel!r}")
        self.caller = caller
        self.channel = channel


class UnknownChannel(IntakeError):
    """An order names a channel intake does not know."""

    def __init__(self, channel: str) -> None:
        super().__init__(f"no channel {channel!r}")
        self.channel = channel


class ChannelNotFound(IntakeError):
    def __init__(self, code: str) -> None:
        super().__init__(f"no channel {code!r}")
        self.code = code


class CancelledOrder(IntakeError):
    """A cancelled order's channel status is past changing."""

    def __init__(self, status: str) -> None:
        super().__init__(f"the order is {status}")
        self.status = status


class NotCancellable(IntakeError):
    def __init__(self, status: str) -> None:
        super().__init__(f"the order is {status}")
        self.status = status


# ---------------------------------------------------------------------------------------------- status


CANCELLABLE_STATUSES = frozenset({"received", "held", "routed", "partially_shipped"})
"""Anything not shipped yet in full can still be withdrawn from its vendors."""

CancelDecision = Literal["cancel", "already_cancelled"]


def cancel_decision(status: str) -> CancelDecision:
    """What a cancel request does to an order in ``status``; raises :class:`NotCancellable`."""
    if status == "cancelled":
        return "already_cancelled"  # asked twice: the same answer, nothing published again
    if status not in CANCELLABLE_STATUSES:
        raise NotCancellable(status)
    return "cancel"


CLOSED_STATUSES = frozenset({"cancelled", "partially_cancelled"})


"""What is left of the order was withdrawn from its vendors: a payment or a review changes nothing."""


def channel_status_changes(status: str, channel_status: str, requested: str) -> bool:
    """Whether the channel's status ``requested`` is news (and ``order.updated`` is published): the same
    status again is not. Raises :class:`CancelledOrder` for a cancelled order."""
    if status in CLOSED_STATUSES:
        raise CancelledOrder(status)
    return requested != channel_status


@dataclass(frozen=True)
class ShownStatus:
    status: str
    hold_reason: str | None


def shown_status(stored_status: str, routing: Any, holds: Sequence[Hold] = ()) -> ShownStatus:
    """The status an order's view shows. Intake stores ``held`` and ``routed`` from the splitter's
    ``order.held`` and ``order.released`` and tracking's statuses after; an order the splitter routed
    without a hold is still ``received`` here, and so is one whose ``order.held`` is still on its way:
    for those the splitter's routing ``state`` says where it is (``routing`` is the splitter's answer,
    ``None`` before it has seen the order, ``{"unavailable": …}`` when it does not answer). The
    ``hold_reason`` is intake's own holds, or else the splitter's while it holds the order."""
    state = routing.get("state") if isinstance(routing, dict) else None
    splitter_reason = routing.get("hold_reason") if state == "held" else None
    reason = hold_reason(holds) or splitter_reason
    if stored_status == "received" and state in ("held", "routed"):
        return ShownStatus(state, reason)
    return ShownStatus(stored_status, reason)
