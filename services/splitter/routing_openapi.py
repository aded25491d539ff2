"""The routing part of the splitter's OpenAPI document: settings and previews, holds and their release,
stock and feeds."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.splitter.commands import InventoryRequest, PreviewRequest, ReleaseRequest, RoutingSettingsRequest
from shared.messaging.subscriptions import VENDOR_CODE_PATTERN
from shared.openapi import Body, Operation, Parameter, error, json_reply, path_parameter


class HoldView(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str
    detail: str
    line_id: str | None = None
    since: str | None = None


class HeldOrder(BaseModel):
    model_config = ConfigDict(extra="allow")
    order_id: str
    order_number: str | None = None
    state: str
    holds: list[HoldView]


class HoldList(BaseModel):
    holds: list[HeldOrder]


class ReleaseView(BaseModel):
    released: bool = Field(description="false: some lines still wait (their holds are listed).")
    vendor_orders: int = Field(description="Vendor orders this release sent.")
    holds: list[HoldView]


class PreviewView(BaseModel):
    model_config = ConfigDict(extra="allow")
    held: bool
    holds: list[dict[str, Any]]
    decisions: list[dict[str, Any]] = Field(description="Per line the vendor and the reason, with its numbers.")
    vendor_orders: list[dict[str, Any]]


class SourceStockView(BaseModel):
    model_config = ConfigDict(extra="allow")
    vendor: str
    feed_quantity: int | None
    reserved: int
    buffer: int
    available: int | None
    explanation: str = Field(
        description="The arithmetic in words, e.g. available 12 (feed 40 - reserved 26 - buffer 2)."
    )


class StockView(BaseModel):
    sku: str
    available: int | None = Field(description="Across active sources; null: a source does not track stock.")
    sources: list[SourceStockView]


class FeedOutcomeView(BaseModel):
    model_config = ConfigDict(extra="allow")
    feed_id: str
    state: str = Field(description="applied, ignored, quarantined or accepted.")
    reason: str
    changed: int
    unknown: list[str] = Field(description="SKUs the vendor does not carry for us: not applied.")
    released_vendor_orders: int


class FeedList(BaseModel):
    feeds: list[dict[str, Any]]


TAG = "admin API"

OPERATIONS = [
    Operation(
        "get", "/v1/routing/settings", "getRoutingSettings", "The merchant's routing strategy and hold rules.",
        "admin", {200: json_reply("The settings.", RoutingSettingsRequest)}, tag=TAG,
    ),
    Operation(
        "put", "/v1/routing/settings", "putRoutingSettings",
        "Set the routing strategy and hold rules; orders routed from now on follow them.", "admin",
        {200: json_reply("The settings now.", RoutingSettingsRequest), 400: error("Not a JSON object.")},
        request=Body(RoutingSettingsRequest), tag=TAG,
    ),
    Operation(
        "post", "/v1/routing/preview", "previewRouting",
        "The decisions and reasons a draft order would get now; nothing is stored, reserved or sent.", "admin",
        {200: json_reply("The decisions.", PreviewView), 400: error("Not a JSON object.")},
        request=Body(PreviewRequest), tag=TAG,
    ),
    Operation(
        "get", "/v1/holds", "listHolds", "Orders with holds, oldest first, with their reason codes and text.",
        "admin", {200: json_reply("The held orders.", HoldList)}, tag=TAG,
    ),
    Operation(
        "post", "/v1/orders/{order_id}/release", "releaseOrder",
        "Release a held order (or its held lines) as a person: holds only a person may clear are cleared, and "
        "`overrides` choose the vendor of lines (the vendor must carry the SKU).", "admin",
        {
            200: json_reply("Released, or the lines that still wait.", ReleaseView),
            400: error("The body is not a JSON object."),
            404: error("The splitter has not seen this order."),
            409: error("The order is not held (not_held), cancelled (order_cancelled), or still held (still_held)."),
            422: error("An override names a line the order lacks or a vendor that does not carry the SKU."),
        },
        parameters=(path_parameter("order_id", "The order id (ord_…)."),),
        request=Body(ReleaseRequest), request_required=False, tag=TAG,
    ),
    Operation(
        "get", "/v1/stock/{sku}", "getStock", "Per source: feed quantity and time, reserved, buffer, available.",
        "admin", {200: json_reply("The stock.", StockView), 404: error("No source carries this SKU.")},
        parameters=(path_parameter("sku", "The SKU.", minLength=1, maxLength=100),), tag=TAG,
    ),
    Operation(
        "put", "/v1/stock/{code}", "putStock",
        "A stock feed posted by ops for a vendor, taken as the vendor's own (guarded, may be quarantined).",
        "admin",
        {
            200: json_reply("Applied or ignored.", FeedOutcomeView),
            202: json_reply("Quarantined until a person accepts it.", FeedOutcomeView),
            400: error("Not a JSON object, or an invalid vendor code."),
            404: error("No such vendor."),
        },
        parameters=(path_parameter("code", "The vendor's code.", pattern=VENDOR_CODE_PATTERN.pattern),),
        request=Body(InventoryRequest), tag=TAG,
    ),
    Operation(
        "get", "/v1/feeds", "listFeeds", "Feeds applied, ignored or quarantined, newest first, with counts.",
        "admin", {200: json_reply("The feeds.", FeedList)},
        parameters=(Parameter("vendor", "query", {"type": "string"}, "Only this vendor's feeds."),), tag=TAG,
    ),
    Operation(
        "post", "/v1/feeds/{feed_id}/accept", "acceptFeed", "Apply a quarantined feed as it came.", "admin",
        {
            200: json_reply("What applying it did.", FeedOutcomeView),
            404: error("No such feed."),
            409: error("The feed is not quarantined (not_quarantined)."),
        },
        parameters=(path_parameter("feed_id", "The feed's id."),), tag=TAG,
    ),
]  # fmt: skip
