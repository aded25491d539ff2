"""A vendor's CSV profile: the declarative description of its files (``csv`` in a connection).

The profile says how to write order files (``order_columns``: header → field path) and how to read the
vendor's shipment, inventory and acknowledgement files (column maps), plus the dialect: delimiter,
encoding (with or without a byte-order mark), date format and the separator of several tracking numbers
in one cell. Pure data; :mod:`services.gateway.formats.csv_write` and ``csv_read`` apply it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

CsvEncoding = Literal["utf-8", "utf-8-sig", "windows-1252", "latin-1"]
"""``utf-8-sig`` writes a byte-order mark (what spreadsheets on Windows need to see UTF-8); reading
accepts a mark with any UTF-8 encoding."""

DEFAULT_ORDER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("PO Number", "vendor_order_number"),
    ("Order Date", "ordered_at"),
    ("Ship To Name", "ship_to.name"),
    ("Ship To Company", "ship_to.company"),
    ("Address 1", "ship_to.address1"),
    ("Address 2", "ship_to.address2"),
    ("City", "ship_to.city"),
    ("State", "ship_to.state"),
    ("Postal Code", "ship_to.postal_code"),
    ("Country", "ship_to.country"),
    ("Phone", "ship_to.phone"),
    ("Line", "line.line_id"),
    ("SKU", "line.vendor_sku"),
    ("Description", "line.name"),
    ("Qty", "line.quantity"),
    ("Unit Cost", "line.cost"),
    ("Shipping", "shipping_method"),
)


class ShipmentColumns(BaseModel):
    model_config = ConfigDict(extra="forbid")
    po: str = "PO Number"
    sku: str | None = "SKU"
    quantity: str | None = "Qty"
    carrier: str | None = "Carrier"
    service: str | None = None
    tracking_number: str = "Tracking"
    ship_date: str | None = "Ship Date"
    shipping_cost: str | None = None


class InventoryColumns(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = "SKU"
    quantity: str = "Qty"


class AcknowledgementColumns(BaseModel):
    model_config = ConfigDict(extra="forbid")
    po: str = "PO Number"
    sku: str | None = "SKU"
    status: str = "Status"
    quantity: str | None = "Qty"
    reason: str | None = "Reason"
    expected_ship_date: str | None = None


class StatusValues(BaseModel):
    """The words a vendor writes for each acknowledgement status (compared case-insensitively)."""

    model_config = ConfigDict(extra="forbid")
    accepted: list[str] = Field(default_factory=lambda: ["A", "ACCEPTED"])
    backordered: list[str] = Field(default_factory=lambda: ["B", "BACKORDER", "BACKORDERED"])
    rejected: list[str] = Field(default_factory=lambda: ["R", "REJECTED"])


class CsvProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delimiter: str = Field(default=",", description="One character: `,`, `;`, `|` or a tab.")
    encoding: CsvEncoding = "utf-8"
    order_columns: list[tuple[str, str]] = Field(
        default_factory=lambda: list(DEFAULT_ORDER_COLUMNS),
        description="[header, field path]: one row per line, the order's fields repeated on every row.",
    )
    shipment_columns: ShipmentColumns = Field(default_factory=ShipmentColumns)
    inventory_columns: InventoryColumns = Field(default_factory=InventoryColumns)
    inventory_mode: Literal["snapshot", "delta"] = "snapshot"
    acknowledgement_columns: AcknowledgementColumns = Field(default_factory=AcknowledgementColumns)
    status_values: StatusValues = Field(default_factory=StatusValues)
    tracking_separator: str = Field(default="|", min_length=1, max_length=3)
    date_format: str = Field(default="%Y-%m-%d", description="strftime/strptime format of dates in files.")
    min_inventory_rows: int = Field(default=1, ge=0, description="A snapshot with fewer rows is refused.")

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if value == "\\t":
            value = "\t"
        if len(value) != 1 or value in {'"', "\r", "\n"}:
            raise ValueError("a delimiter is one character other than a quote or a line break")
        return value
