"""Tracking's HTTP API as an OpenAPI document: the shipments of an order."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.openapi import Operation, build_document, error, json_reply, path_parameter


class ShipmentsView(BaseModel):
    model_config = ConfigDict(extra="allow")
    order_id: str
    status: str | None = Field(description="The order's status as tracking derives it from its lines.")
    cancelled: bool
    lines: list[dict[str, Any]] = Field(description="Per line: the quantities ordered and shipped.")
    shipments: list[dict[str, Any]] = Field(description="Each shipment.reported payload, with when it arrived.")


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
