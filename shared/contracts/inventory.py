"""``inventory.updated``: a vendor's stock for some SKUs changed (from a feed or an adapter)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.contracts.envelope import Contract, Envelope


class StockLevel(Contract):
    sku: str
    stock: int = Field(ge=0)


class InventoryUpdatedData(Contract):
    vendor: str
    levels: list[StockLevel]


class InventoryUpdated(Envelope):
    """New stock levels from one vendor. Consumed by the splitter."""

    event_type = "inventory.updated"
    type: Literal["inventory.updated"] = "inventory.updated"
    data: InventoryUpdatedData
