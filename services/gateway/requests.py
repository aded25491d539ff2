"""The bodies of the vendor API (and ops' stock feed), as pydantic models: what is checked before a
use case runs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.contracts.envelope import UtcDatetime
from shared.contracts.inventory import FeedMode
from shared.contracts.vendor_orders import AckLineStatus
from shared.validation import WHOLE_NUMBER

Quantity = Annotated[int, Field(ge=0, le=1_000_000, strict=True), WHOLE_NUMBER]
PositiveQuantity = Annotated[int, Field(ge=1, le=1_000_000, strict=True), WHOLE_NUMBER]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class AcknowledgementLineRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    line_id: Identifier
    status: AckLineStatus
    quantity: Quantity | None = None
    reason: Text | None = None
    expected_ship_date: date | None = None


class AcknowledgementRequest(BaseModel):
    """``POST /v1/vendor/orders/{id}/acknowledgement``: lines left out are accepted."""

    model_config = ConfigDict(extra="ignore")
    lines: list[AcknowledgementLineRequest] = Field(default_factory=list, max_length=1000)


class ShipmentLineRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    line_id: Identifier
    quantity: PositiveQuantity


class ShipmentRequest(BaseModel):
    """``POST /v1/vendor/orders/{id}/shipments``: no lines = everything not yet shipped."""

    model_config = ConfigDict(extra="ignore")
    carrier: Text | None = None
    service: Text | None = None
    tracking_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = (
        None
    )
    ship_date: date | None = None
    shipping_cost: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)] | None = None
    lines: list[ShipmentLineRequest] | None = Field(default=None, max_length=1000)


class InventoryItem(BaseModel):
    model_config = ConfigDict(extra="ignore")
    vendor_sku: Identifier | None = None
    sku: Identifier | None = None
    quantity: Quantity

    @model_validator(mode="after")
    def _names_a_product(self) -> InventoryItem:
        if not self.vendor_sku and not self.sku:
            raise ValueError("an item names a vendor_sku (or our sku)")
        return self


class InventoryRequest(BaseModel):
    """``PUT /v1/vendor/inventory`` and ``PUT /v1/inventory/{vendor}``."""

    model_config = ConfigDict(extra="ignore")
    mode: FeedMode = "snapshot"
    as_of: UtcDatetime | None = None
    items: list[InventoryItem] = Field(max_length=200_000)
