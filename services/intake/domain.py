"""Intake's rules, free of I/O: what a valid channel order is, and how it becomes ``order.received``.

Unknown fields in a request are ignored (documented in the README): channels send more than we use,
and refusing them would break a channel every time it adds a field.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from shared.contracts.orders import (
    Address,
    Customer,
    Discount,
    LineOption,
    OrderLine,
    OrderReceivedData,
    Party,
)
from shared.countries import COUNTRIES_REQUIRING_STATE, ISO_COUNTRY_CODES
from shared.money import NonNegativeMoney

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,49}$")]
WeightUnit = Literal["pounds", "ounces", "grams"]
Weight = Annotated[Decimal, Field(ge=0, le=Decimal("9999999"), decimal_places=2)]
CHANNEL_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class AddressIn(_Request):
    name: ShortText
    company: ShortText | None = None
    address1: ShortText
    address2: ShortText | None = None
    city: ShortText
    state: ShortText | None = None
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
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
    name: ShortText
    company: ShortText | None = None
    phone: Annotated[str, StringConstraints(max_length=50)] | None = None
    email: Annotated[str, StringConstraints(max_length=200)] | None = None


class CustomerIn(_Request):
    name: ShortText | None = None
    email: Annotated[str, StringConstraints(max_length=200)] | None = None
    phone: Annotated[str, StringConstraints(max_length=50)] | None = None


class DiscountIn(_Request):
    code: ShortText
    amount: NonNegativeMoney


class OptionIn(_Request):
    name: ShortText
    value: ShortText


class LineIn(_Request):
    line_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)] | None = None
    sku: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    name: ShortText
    quantity: Annotated[StrictInt, Field(ge=1, le=99999)]
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
    external_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    order_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    ordered_at: AwareDatetime
    status: Literal["paid", "unpaid", "on_hold"] = "paid"
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    customer: CustomerIn | None = None
    bill_to: PartyIn | None = None
    ship_to: AddressIn
    shipping_method: Annotated[str, StringConstraints(max_length=100)] | None = None
    payment_method: Annotated[str, StringConstraints(max_length=50)] | None = None
    tax_amount: NonNegativeMoney = Decimal("0")
    shipping_amount: NonNegativeMoney = Decimal("0")
    discounts: list[DiscountIn] = Field(default_factory=list, max_length=20)
    gift: bool = False
    gift_message: Annotated[str, StringConstraints(max_length=1000)] | None = None
    customer_notes: Annotated[str, StringConstraints(max_length=1000)] | None = None
    internal_notes: Annotated[str, StringConstraints(max_length=1000)] | None = None
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


class ChannelRequest(_Request):
    """``PUT /v1/channels/{code}``."""

    name: ShortText
    webhook_url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)] | None = None
    webhook_secret: Annotated[str, StringConstraints(min_length=16, max_length=200)] | None = None


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_api_key() -> str:
    return "dsk_" + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """API keys are 256 random bits, so a plain SHA-256 is enough to keep them unusable if read."""
    return hashlib.sha256(key.encode()).hexdigest()


def webhook_key(secret: str) -> bytes:
    """Standard Webhooks secrets are ``whsec_<base64>``; any other secret is used as its UTF-8 bytes."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except ValueError:
            pass
    return secret.encode()


def sign_webhook(secret: str, delivery_id: str, timestamp: int, body: bytes) -> str:
    """``webhook-signature`` per Standard Webhooks: HMAC-SHA256 over ``id.timestamp.body``."""
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(webhook_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_event_type(status_event: dict[str, Any]) -> str:
    return "order.shipment_created" if status_event.get("shipment") else "order.status_changed"


def next_backoff_seconds(attempts: int, jitter: float, cap: float) -> float:
    """Exponential backoff with full jitter: 1 s, 2 s, 4 s … capped; ``jitter`` is uniform in [0, 1)."""
    # The exponent is bounded: 2.0 ** 1024 overflows, and a channel down for days reaches that many attempts.
    ceiling: float = min(cap, 2.0 ** min(max(attempts - 1, 0), 64))
    return max(0.5, ceiling * (0.5 + jitter / 2))
