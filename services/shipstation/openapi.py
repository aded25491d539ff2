"""The ShipStation adapter's HTTP API as an OpenAPI document: the Custom Store endpoint ShipStation calls
(XML and plain text) and the admin API (JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.shipstation.admin_http import SettingsRequest
from shared.contracts.vendors import ShipStationStatus
from shared.openapi import (
    TEXT,
    Body,
    Operation,
    Parameter,
    Reply,
    build_document,
    error,
    json_reply,
    path_parameter,
    text_error,
)

CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,49}$"
EXPORT_DATETIME = {
    "type": "string",
    "pattern": r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4} [0-9]{1,2}:[0-9]{2}$",
    "description": "MM/dd/yyyy HH:mm, 24-hour, in the vendor's configured time zone.",
    "examples": ["01/23/2026 17:28"],
}


def _xml_text(description: str = "", **schema: Any) -> dict[str, Any]:
    return {"type": "string", **({"description": description} if description else {}), **schema}


SHIP_NOTICE: dict[str, Any] = {
    "type": "object",
    "xml": {"name": "ShipNotice"},
    "description": "One label or package. DOCTYPE and entity declarations are refused; at most 256 KiB.",
    "properties": {
        "OrderID": _xml_text("Our vendor order id, as exported."),
        "OrderNumber": _xml_text("Our vendor order number (e.g. 1001-2)."),
        "CustomerCode": _xml_text(),
        "CustomerNotes": _xml_text(),
        "InternalNotes": _xml_text(),
        "NotesToCustomer": _xml_text("A note for the buyer; passed upstream with the shipment."),
        "NotifyCustomer": {"type": "boolean"},
        "LabelCreateDate": EXPORT_DATETIME,
        "ShipDate": _xml_text("MM/dd/yyyy (or yyyy-mm-dd).", pattern=r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$"),
        "Carrier": _xml_text("USPS, UPS, FedEx, …"),
        "Service": _xml_text(),
        "TrackingNumber": _xml_text(),
        "ShippingCost": _xml_text("What the label cost.", pattern=r"^[0-9]{1,9}(\.[0-9]{1,4})?$"),
        "CustomField1": _xml_text(),
        "CustomField2": _xml_text(),
        "CustomField3": _xml_text(),
        "Recipient": {
            "type": "object",
            "properties": {
                name: _xml_text()
                for name in ("Name", "Company", "Address1", "Address2", "City", "State", "PostalCode", "Country")
            },
        },
        "Items": {
            "type": "array",
            "xml": {"wrapped": True},
            "description": "What this package holds; none means the whole vendor order shipped.",
            "items": {
                "type": "object",
                "xml": {"name": "Item"},
                "required": ["Quantity"],
                "properties": {
                    "LineItemID": _xml_text("Our line id, as exported."),
                    "SKU": _xml_text(),
                    "Name": _xml_text(),
                    "Quantity": {"type": "integer", "minimum": 1, "maximum": 999_999_999},
                    "UPC": _xml_text(),
                },
            },
        },
    },
}

XML_ANSWER = Body(TEXT, ("text/xml",))
TEXT_ANSWER = Body(TEXT, ("text/plain",))


class CredentialsView(BaseModel):
    """What the merchant pastes into ShipStation's Custom Store form; the password is shown once."""

    url: str
    username: str
    password: str
    status_names: dict[ShipStationStatus, str]
    timezone: str


class SettingsView(BaseModel):
    vendor: str
    username: str | None
    timezone: str
    status_names: dict[ShipStationStatus, str]
    page_size: int
    lookback_minutes: int
    zone_warning: str | None = Field(description="Set when ShipStation's clock suggests another time zone.")
    zone_warning_at: datetime | None


class ProblemsView(BaseModel):
    vendor: str
    problems: list[dict[str, Any]] = Field(description="Orders left out of exports, notices for unknown orders, …")


class PollsView(BaseModel):
    vendor: str
    polls: list[dict[str, Any]] = Field(description="ShipStation's latest calls, newest first.")


VENDOR = path_parameter("vendor", "The ShipStation vendor's code.", pattern=CODE_PATTERN)
CUSTOM_STORE_PARAMETERS = (
    VENDOR,
    Parameter(
        "action",
        "query",
        {"type": "string", "enum": ["export", "shipnotify"]},
        "What ShipStation wants (matched case-insensitively).",
        required=True,
    ),
    Parameter("start_date", "query", EXPORT_DATETIME, "export: the window's start."),
    Parameter("end_date", "query", EXPORT_DATETIME, "export: the window's end (its minute included)."),
    Parameter(
        "page", "query", {"type": "integer", "minimum": 1, "maximum": 1_000_000}, "export: 1-based; missing means 1."
    ),
    Parameter("order_number", "query", {"type": "string"}, "shipnotify: our vendor order number."),
    Parameter("carrier", "query", {"type": "string"}, "shipnotify"),
    Parameter("service", "query", {"type": "string"}, "shipnotify (often empty: the XML's wins)"),
    Parameter("tracking_number", "query", {"type": "string"}, "shipnotify"),
)
CUSTOM_STORE_REPLIES: dict[int, Reply] = {
    200: Reply(
        'export: the orders whose last change lies in the window (`<Orders pages="N">`); shipnotify: `OK` '
        "(also for a notice about an unknown order, which is recorded for ops).",
        Body(TEXT, ("text/xml", "text/plain")),
    ),
    400: text_error(
        "Bad request, and why: unknown action, unparseable dates or page, start after end, malformed XML, a "
        "DOCTYPE or entity, a notice that names no order."
    ),
    413: text_error("The notice is over 256 KiB."),
}

OPERATIONS = [
    Operation(
        "get",
        "/shipstation/{vendor}",
        "customStoreGet",
        "ShipStation's Custom Store endpoint (export; shipnotify is accepted here too).",
        "shipstation",
        CUSTOM_STORE_REPLIES,
        parameters=CUSTOM_STORE_PARAMETERS,
        tag="ShipStation",
    ),
    Operation(
        "post",
        "/shipstation/{vendor}",
        "customStorePost",
        "ShipStation's Custom Store endpoint (shipnotify: a shipment notice; export is accepted here too).",
        "shipstation",
        CUSTOM_STORE_REPLIES,
        parameters=CUSTOM_STORE_PARAMETERS,
        request=Body(SHIP_NOTICE, ("application/xml", "text/xml")),
        request_required=False,
        description="The body is read whatever its Content-Type; it may be empty, then the query names the order.",
        tag="ShipStation",
    ),
    Operation(
        "post",
        "/v1/shipstation/{vendor}/credentials",
        "createShipStationCredentials",
        "Create or rotate the vendor's ShipStation credentials; answers them once.",
        "admin",
        {
            201: json_reply("The URL, username, password and status names to paste into ShipStation.", CredentialsView),
            400: error("The vendor code is not 1-50 of a-z, 0-9, '-' and '_'."),
            404: error("No such vendor (create it with PUT /v1/vendors/{code} on the splitter)."),
            409: error("The vendor is not of kind shipstation."),
            503: error("The splitter, which knows the vendors, does not answer."),
        },
        parameters=(VENDOR,),
        tag="admin API",
    ),
    Operation(
        "put",
        "/v1/shipstation/{vendor}/settings",
        "putShipStationSettings",
        "Change the vendor's time zone, status names, page size or lookback (each optional).",
        "admin",
        {
            200: json_reply("The settings now.", SettingsView),
            400: error("The body is not a JSON object, or the vendor code is invalid."),
            404: error("No ShipStation connection for this vendor."),
        },
        parameters=(VENDOR,),
        request=Body(SettingsRequest),
        tag="admin API",
    ),
    Operation(
        "get",
        "/v1/shipstation/{vendor}/settings",
        "getShipStationSettings",
        "The vendor's ShipStation settings, and a time-zone warning if there is one.",
        "admin",
        {
            200: json_reply("The settings.", SettingsView),
            400: error("The vendor code is invalid."),
            404: error("No ShipStation connection for this vendor."),
        },
        parameters=(VENDOR,),
        tag="admin API",
    ),
    Operation(
        "get",
        "/v1/shipstation/{vendor}/problems",
        "getShipStationProblems",
        "Problems recorded for ops: orders left out of exports, notices for unknown orders.",
        "admin",
        {200: json_reply("The problems.", ProblemsView), 400: error("The vendor code is invalid.")},
        parameters=(VENDOR,),
        tag="admin API",
    ),
    Operation(
        "get",
        "/v1/shipstation/{vendor}/polls",
        "getShipStationPolls",
        "The latest calls ShipStation made, newest first.",
        "admin",
        {200: json_reply("The poll log.", PollsView), 400: error("The vendor code is invalid.")},
        parameters=(VENDOR,),
        tag="admin API",
    ),
]


def document() -> dict[str, Any]:
    return build_document(
        "shipstation",
        "ShipStation's Custom Store endpoint (XML and plain text, per-vendor Basic credentials) and its admin "
        "API (JSON errors `{error, detail, fields}`).",
        OPERATIONS,
    )
