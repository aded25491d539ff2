"""Tracking's HTTP API as an OpenAPI document: the shipments of an order."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.openapi import Operation, build_document, error, json_reply, path_parameter


class Acknowledgement(BaseModel):
    vendor: str
    vendor_order_id: str
    vendor_order_number: str
    line_id: str
    sku: str
    status: Literal["accepted", "backordered", "rejected"]
    quantity: int = Field(ge=0, description="Units this status applies to.")
    expected_ship_date: date | None
    reason: str | None
    acknowledged_at: datetime = Field(description="When the vendor answered (the event's occurred_at).")


class ShipmentsView(BaseModel):
    model_config = ConfigDict(extra="allow")
    order_id: str
    status: str | None = Field(description="The order's status as tracking derives it from its lines.")
    cancelled: bool
    lines: list[dict[str, Any]] = Field(description="Per line: the quantities ordered and shipped.")
    shipments: list[dict[str, Any]] = Field(description="Each shipment.reported payload, with when it arrived.")
    shipped_after_cancel: bool = Field(
        description="A vendor shipped after the order was cancelled: the status follows the shipments."
    )
    acknowledgements: list[Acknowledgement] = Field(
        description=(
            "What each vendor acknowledged per line, the latest answer per vendor order and line (a line may"
            " have several entries, e.g. some units accepted and some backordered). Does not move the status."
        )
    )


OPERATIONS = [
    Operation(
        "get",
        "/v1/orders/{order_id}/shipments",
        "getShipments",
        "An order's shipments and per-line fulfilment.",
        "admin",
        {
            200: json_reply("The shipments.", ShipmentsView),
            404: error("No shipments known for this order."),
        },
        parameters=(path_parameter("order_id", "The order id (ord_…)."),),
        tag="admin API",
    ),
]


def document() -> dict[str, Any]:
    return build_document(
        "tracking",
        "Shipments per order, and the status derived from them. Admin API only. Errors are JSON "
        "`{error, detail, fields}`.",
        OPERATIONS,
    )
