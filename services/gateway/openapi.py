"""The gateway's HTTP API as an OpenAPI document: connections, deliveries, pickups, ops' stock feed and
the vendor API."""

from __future__ import annotations

from typing import Any

from services.gateway.connections import ConnectionRequest
from services.gateway.requests import AcknowledgementRequest, InventoryRequest, ShipmentRequest
from shared.contracts.vendors import DELIVERY_STATES
from shared.openapi import Body, Operation, Parameter, build_document, error, json_reply, path_parameter
from shared.secrets import RESEAL_OPERATION

OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}
VENDOR = path_parameter("vendor", "The vendor's code.", pattern="^[a-z0-9][a-z0-9_-]{0,49}$")
VENDOR_ORDER = path_parameter("vendor_order_id", "The vendor order's id (as in vendor_order.created).")
LIMIT = Parameter("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500}, "At most this many (100).")
CONNECTIONS = "connections"
VENDOR_API = "vendor API"

OPERATIONS = [
    Operation(
        "put",
        "/v1/connections/{vendor}",
        "putConnection",
        "Connect a vendor: how its orders reach it and how its answers come back.",
        "admin",
        {
            200: json_reply("Replaced; the vendor's API key is kept.", OBJECT),
            201: json_reply("Created; `api_key` (and a generated `webhook_secret`) are answered this once.", OBJECT),
            404: error("The splitter knows no such vendor."),
            409: error("The vendor's kind takes another transport/format (wrong_kind)."),
            503: error("The splitter does not answer."),
        },
        parameters=(VENDOR,),
        request=Body(ConnectionRequest),
        tag=CONNECTIONS,
    ),
    Operation(
        "get",
        "/v1/connections/{vendor}",
        "getConnection",
        "A vendor's connection without its secrets, or `unconnected`; last delivery, last pickup, failures.",
        "admin",
        {200: json_reply("The connection.", OBJECT), 404: error("No such vendor.")},
        parameters=(VENDOR,),
        tag=CONNECTIONS,
    ),
    Operation(
        "post",
        "/v1/connections/{vendor}/check",
        "checkConnection",
        "Log in, list the folders or reach the URL; answers each step and what failed.",
        "admin",
        {200: json_reply("The steps.", OBJECT), 404: error("The vendor has no connection.")},
        parameters=(VENDOR,),
        request_required=False,
        tag=CONNECTIONS,
    ),
    Operation(
        "post",
        "/v1/connections/{vendor}/key",
        "rotateVendorKey",
        "Issue a new vendor API key (the old one stops working); answered once.",
        "admin",
        {200: json_reply("The new key.", OBJECT), 404: error("The vendor has no connection.")},
        parameters=(VENDOR,),
        request_required=False,
        tag=CONNECTIONS,
    ),
    Operation(
        "get",
        "/v1/deliveries",
        "listDeliveries",
        "Each vendor order event's delivery with its attempts, newest first.",
        "admin",
        {200: json_reply("The deliveries.", OBJECT)},
        parameters=(
            Parameter("vendor", "query", {"type": "string"}, "Only this vendor's."),
            Parameter(
                "state",
                "query",
                {"type": "string", "enum": list(DELIVERY_STATES)},
                "",
            ),
            Parameter("vendor_order_id", "query", {"type": "string"}, "Only this vendor order's."),
            LIMIT,
        ),
        tag="deliveries",
    ),
    Operation(
        "post",
        "/v1/deliveries/{vendor_order_id}/retry",
        "retryDelivery",
        "Send a vendor order's failed or waiting deliveries now, with a fresh retry budget.",
        "admin",
        {200: json_reply("What is due now.", OBJECT), 404: error("No such vendor order.")},
        parameters=(VENDOR_ORDER,),
        request_required=False,
        tag="deliveries",
    ),
    Operation(
        "get",
        "/v1/pickups",
        "listPickups",
        "Files read from vendors' folders: applied, partly applied (rows refused) or set aside, with errors.",
        "admin",
        {200: json_reply("The pickups, newest first.", OBJECT)},
        parameters=(Parameter("vendor", "query", {"type": "string"}, "Only this vendor's."), LIMIT),
        tag="deliveries",
    ),
    Operation(
        "get",
        "/v1/partners/{vendor}/interchanges",
        "listInterchanges",
        "An EDI X12 partner's interchanges, sent and received, newest first: control numbers, the PO they carry,"
        " and the 997 state of what we sent (ack_overdue when later than ack_997_within_hours).",
        "admin",
        {
            200: json_reply("The interchanges.", OBJECT),
            404: error("The vendor has no connection."),
            409: error("The vendor is not connected over EDI X12 (not_x12)."),
        },
        parameters=(VENDOR, LIMIT),
        tag=CONNECTIONS,
    ),
    Operation(
        "put",
        "/v1/inventory/{vendor}",
        "putVendorInventoryAsOps",
        "A stock feed posted by ops for a vendor.",
        "admin",
        {202: json_reply("Published to the splitter.", OBJECT), 404: error("No such vendor.")},
        parameters=(VENDOR,),
        request=Body(InventoryRequest),
        tag=VENDOR_API,
    ),
    Operation(
        "post",
        "/v1/vendor/orders/{vendor_order_id}/acknowledgement",
        "acknowledgeVendorOrder",
        "Per line accepted, backordered or rejected (lines left out are accepted). The same answer twice is one.",
        "vendor",
        {
            200: json_reply("The same acknowledgement was recorded before.", OBJECT),
            202: json_reply("Recorded and published.", OBJECT),
            403: error("The vendor order belongs to another vendor."),
            404: error("No such vendor order."),
        },
        parameters=(VENDOR_ORDER,),
        request=Body(AcknowledgementRequest),
        tag=VENDOR_API,
    ),
    Operation(
        "post",
        "/v1/vendor/orders/{vendor_order_id}/shipments",
        "reportShipment",
        "A package shipped (no lines: everything not yet shipped). The same tracking number twice is one package.",
        "vendor",
        {
            200: json_reply("The same package was reported before.", OBJECT),
            202: json_reply("Recorded and published.", OBJECT),
            403: error("The vendor order belongs to another vendor."),
            404: error("No such vendor order."),
        },
        parameters=(VENDOR_ORDER,),
        request=Body(ShipmentRequest),
        tag=VENDOR_API,
    ),
    Operation(
        "put",
        "/v1/vendor/inventory",
        "putVendorInventory",
        "The vendor's stock (snapshot or delta) by its own SKUs; a SKU not in the catalog is refused with its item.",
        "vendor",
        {202: json_reply("Published to the splitter.", OBJECT)},
        request=Body(InventoryRequest),
        tag=VENDOR_API,
    ),
    RESEAL_OPERATION,
]


def document() -> dict[str, Any]:
    return build_document(
        "gateway",
        "Delivers vendor orders to every vendor that is not ShipStation (webhook/JSON, CSV over SFTP, e-mail) and"
        " takes their acknowledgements, shipments and stock back. Errors are JSON `{error, detail, fields}`.",
        OPERATIONS,
    )
