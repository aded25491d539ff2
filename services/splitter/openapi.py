"""The splitter's admin API as an OpenAPI document: vendors, catalog and routing explanations."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.splitter import catalog_openapi, routing_openapi
from services.splitter.commands import CatalogRequest, VendorRequest
from shared.contracts.vendors import VendorKind
from shared.messaging.subscriptions import VENDOR_CODE_PATTERN
from shared.openapi import Body, Operation, build_document, error, json_reply, path_parameter


class VendorView(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str
    name: str
    kind: VendorKind
    settings: dict[str, Any]
    queue: str | None = Field(default=None, description="The vendor.<code> queue its orders are published to.")


class VendorList(BaseModel):
    vendors: list[VendorView]


class CatalogSourceView(BaseModel):
    model_config = ConfigDict(extra="allow")
    vendor: str
    vendor_sku: str | None = None
    cost: str | None = Field(default=None, description="Decimal string.")
    stock: int | None = None
    priority: int


class CatalogView(BaseModel):
    model_config = ConfigDict(extra="allow")
    sku: str | None = None
    name: str | None = None
    sources: list[CatalogSourceView] = Field(default_factory=list)
    released_vendor_orders: int | None = Field(
        default=None, description="Held vendor orders this change released (only on PUT)."
    )


class RoutingView(BaseModel):
    model_config = ConfigDict(extra="allow")
    order_id: str
    state: str = Field(description="routed, held or cancelled.")
    hold_reason: str | None = Field(default=None, description="Every current hold's text in one.")
    holds: list[dict[str, Any]] = Field(description="Current holds: {code, detail, line_id, sku, quantity, since}.")
    tried: dict[str, list[str]] = Field(description="Per line, the vendors that had it and gave it back.")
    decisions: list[dict[str, Any]] = Field(description="Every allocation made (routed, rerouted, released).")
    history: list[dict[str, Any]] = Field(description="Every decision, hold, reroute, release and shipment, in order.")
    vendor_orders: list[dict[str, Any]]


VENDOR_CODE = path_parameter("code", "The vendor's code.", pattern=VENDOR_CODE_PATTERN.pattern)
SKU = path_parameter("sku", "The SKU as stored.", minLength=1, maxLength=100)
SKU_TO_STORE = path_parameter(
    "sku",
    "The SKU: leading and trailing whitespace is removed, and what is stored is the 1-100 characters that remain.",
    minLength=1,
    maxLength=100,
)

OPERATIONS = [
    Operation(
        "put",
        "/v1/vendors/{code}",
        "putVendor",
        "Create or update a vendor; its vendor.<code> queue is declared at once.",
        "admin",
        {
            201: json_reply("Created.", VendorView),
            200: json_reply("Updated.", VendorView),
            400: error(
                "The body is not a JSON object (malformed_json, empty_body), or the code is not 1-50 of a-z, 0-9, "
                "'-' and '_' starting with a letter or digit (invalid_code)."
            ),
        },
        parameters=(VENDOR_CODE,),
        request=Body(VendorRequest),
        tag="admin API",
    ),
    Operation(
        "get",
        "/v1/vendors/{code}",
        "getVendor",
        "A vendor.",
        "admin",
        {200: json_reply("The vendor.", VendorView), 404: error("No such vendor.")},
        parameters=(VENDOR_CODE,),
        tag="admin API",
    ),
    Operation(
        "get",
        "/v1/vendors",
        "listVendors",
        "Every vendor.",
        "admin",
        {200: json_reply("The vendors.", VendorList)},
        tag="admin API",
    ),
    Operation(
        "put",
        "/v1/catalog/{sku}",
        "putCatalogEntry",
        "Set a SKU's name and sources (the sources given replace all); held orders it unblocks are released.",
        "admin",
        {
            200: json_reply("The catalog entry as stored.", CatalogView),
            400: error(
                "The body is not a JSON object (malformed_json, empty_body), or the SKU is not 1-100 characters "
                "once trimmed (invalid_sku)."
            ),
            422: error(
                "Fields are missing or invalid, a vendor appears twice in `sources` (`fields.sources`), or a source "
                "names a vendor that does not exist (`fields.sources.<i>.vendor`); nothing is changed."
            ),
        },
        parameters=(SKU_TO_STORE,),
        request=Body(CatalogRequest),
        tag="admin API",
    ),
    Operation(
        "get",
        "/v1/catalog/{sku}",
        "getCatalogEntry",
        "A SKU and its sources.",
        "admin",
        {200: json_reply("The catalog entry.", CatalogView), 404: error("No such SKU.")},
        parameters=(SKU,),
        tag="admin API",
    ),
    Operation(
        "get",
        "/v1/orders/{order_id}/routing",
        "getRouting",
        "Which vendor got which line of an order, and why.",
        "admin",
        {
            200: json_reply("The routing decisions and vendor orders.", RoutingView),
            404: error("The splitter has not seen this order (yet)."),
        },
        parameters=(path_parameter("order_id", "The order id (ord_…)."),),
        tag="admin API",
    ),
]


def document() -> dict[str, Any]:
    return build_document(
        "splitter",
        "Vendors, the catalog (which vendor ships which SKU), stock and feeds, the merchant's routing settings, "
        "holds, and the routing of orders to vendors with reasons. Admin API only. Errors are JSON "
        "`{error, detail, fields}`.",
        [*OPERATIONS, *catalog_openapi.OPERATIONS, *routing_openapi.OPERATIONS],
    )
