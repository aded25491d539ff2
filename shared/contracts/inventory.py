"""Stock events.

``inventory.updated``: a vendor's stock feed (from the gateway's files and API, an EDI 846, or posted by
ops), consumed by the splitter. ``inventory.available``: what channels may sell of some SKUs after
buffers and reservations, published by the splitter when it changed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from shared.contracts.envelope import Contract, Envelope, UtcDatetime, new_message_id

FeedMode = Literal["snapshot", "delta"]
FeedSource = Literal["api", "csv", "x12_846", "ops"]


class StockLevel(Contract):
    sku: str | None = Field(default=None, description="Our SKU; or give the vendor's own in vendor_sku.")
    vendor_sku: str | None = None
    stock: int = Field(ge=0)

    @model_validator(mode="after")
    def _names_a_product(self) -> StockLevel:
        if not self.sku and not self.vendor_sku:
            raise ValueError("a level names a sku or a vendor_sku")
        return self


def new_feed_id() -> str:
    return f"feed_{new_message_id().removeprefix('msg_')}"


class InventoryUpdatedData(Contract):
    vendor: str
    feed_id: str = Field(default_factory=new_feed_id, description="Stable id of this feed; the same feed again is one.")
    mode: FeedMode = Field(
        default="delta",
        description="snapshot: every SKU of the vendor, a SKU left out has 0; delta: only the SKUs listed change.",
    )
    as_of: UtcDatetime | None = Field(
        default=None, description="When the vendor counted; a feed older than the last applied is ignored."
    )
    source: FeedSource = "api"
    levels: list[StockLevel]


class InventoryUpdated(Envelope):
    """New stock levels from one vendor. Consumed by the splitter."""

    event_type = "inventory.updated"
    type: Literal["inventory.updated"] = "inventory.updated"
    data: InventoryUpdatedData


class AvailableLevel(Contract):
    sku: str
    available: int | None = Field(description="Units the channel may sell; null: not tracked (no limit known).")


class InventoryAvailableData(Contract):
    levels: list[AvailableLevel] = Field(min_length=1)


class InventoryAvailable(Envelope):
    """What may be sold of these SKUs now, across every active source. Published by the splitter."""

    event_type = "inventory.available"
    type: Literal["inventory.available"] = "inventory.available"
    data: InventoryAvailableData
