"""Intake's HTTP API as an OpenAPI document: the channel API (orders), the admin API (channels) and the
listings for ops (orders searched page by page, the order figures, an order's timeline, the channels)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.intake.domain import AddressIn, CancelRequest, ChannelRequest, OrderRequest, StatusRequest
from services.intake.fields import FREE_TEXT_MAX_CHARS
from services.intake.openapi_listings import ChannelList, OrderCounts, OrderListPage, OrderTimeline
from services.intake.order_counts import DEFAULT_MINUTES, MAX_MINUTES
from services.intake.order_search import CURSOR_PATTERN, DEFAULT_LIMIT, MAX_LIMIT, MAX_QUERY_CHARACTERS, ORDER_STATUSES
from shared.contracts.orders import HoldCode, OrderReceivedData
from shared.openapi import Body, Operation, Parameter, build_document, error, json_reply, path_parameter
from shared.secrets import RESEAL_OPERATION

CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,49}$"


class AcceptedOrder(OrderReceivedData):
    """An order as stored (the ``order.received`` payload), with its id and status: what POST answers,
    without asking the other services."""

    id: str = Field(description="The order id used everywhere after intake.")
    status: str = Field(  # type: ignore[assignment]
        description="Where the order is: received, held, routed, partially_shipped, shipped, cancelled or "
        "partially_cancelled."
    )
    channel_status: str | None = Field(
        description="The channel's status of the order (paid, unpaid, on_hold): as sent with the order, or as "
        "last changed through `POST /v1/orders/{order_id}/status`."
    )
    received_at: datetime


class HoldView(BaseModel):
    code: HoldCode
    detail: str = Field(description="What a person reads: the rule and the numbers it used.")
    line_id: str | None = Field(description="The line it concerns; null: the whole order.")
    since: datetime = Field(description="When the splitter first held the order (or the line) for this reason.")


class OrderView(AcceptedOrder):
    """The order with its progress: holds, split, shipments, history and webhooks to the channel."""

    holds: list[HoldView] = Field(
        description="Why the splitter holds the order, as its last `order.held` said (empty once released). "
        "While the order is held, `status` is `held` and the channel was told through its webhook."
    )
    hold_reason: str | None = Field(description="The holds' details in one line (e.g. a SKU without a source).")
    updated_at: datetime
    cancelled_at: datetime | None
    split: dict[str, Any] | None = Field(
        description="The splitter's routing (vendor orders and decisions), `{unavailable: …}` when it does not "
        "answer, or null before it has seen the order."
    )
    shipments: list[dict[str, Any]]
    status_history: list[dict[str, Any]]
    upstream_deliveries: list[dict[str, Any]] = Field(description="The signed webhooks to the channel, and their fate.")


class ChannelView(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str
    name: str
    webhook_url: str | None
    api_key: str | None = Field(default=None, description="Only when the channel was created: shown once.")
    webhook_secret: str | None = Field(default=None, description="Only when one was generated: shown once.")


class ChannelKey(BaseModel):
    code: str
    api_key: str = Field(description="The new key, shown once; the previous one stops working.")


def _query(name: str, description: str, schema: dict[str, Any]) -> Parameter:
    return Parameter(name, "query", schema, description)


LIST_PARAMETERS = (
    _query(
        "status",
        "Only orders with this status (as the listing shows it).",
        {"type": "string", "enum": list(ORDER_STATUSES)},
    ),
    _query("channel", "Only this channel's orders.", {"type": "string", "pattern": CODE_PATTERN}),
    _query(
        "q",
        "Orders whose id is it, whose order number or external id starts with it, or whose customer name or "
        "e-mail contains it; in any letter case (% and _ are literal). Blank: no search.",
        {"type": "string", "maxLength": MAX_QUERY_CHARACTERS},
    ),
    _query("cursor", "The `next_cursor` of the page before.", {"type": "string", "pattern": CURSOR_PATTERN.pattern}),
    _query(
        "limit",
        "Orders per page.",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    ),
)

COUNTS_PARAMETERS = (
    _query(
        "since",
        "Count orders received at or after this moment: ISO 8601 with its offset (Z or ±hh:mm; a `+` must be "
        "URL-encoded, or arrives as a space, which is taken for it). Default: midnight UTC today.",
        {"type": "string", "format": "date-time", "maxLength": 40},
    ),
    _query(
        "minutes",
        "How many of the last minutes to count one by one.",
        {"type": "integer", "minimum": 1, "maximum": MAX_MINUTES, "default": DEFAULT_MINUTES},
    ),
)

ORDER_ID = path_parameter("order_id", "The order id intake answered (ord_…).")
CHANNEL_CODE = path_parameter("code", "The channel's code.", pattern=CODE_PATTERN)
FORBIDDEN = error("The key belongs to another channel than the order's.")
NO_ORDER = error("No such order.")
NO_CHANNEL = error("No such channel.")
BAD_CODE = error("The channel code is not 1-50 of a-z, 0-9, '-' and '_'.")

OPERATIONS = [
    Operation(
        "post",
        "/v1/orders",
        "createOrder",
        "Accept a channel order.",
        "channel",
        {
            201: json_reply("Accepted and stored; `order.received` is published.", AcceptedOrder),
            200: json_reply(
                "The same (channel, external_id) again: the stored order; nothing is published.", AcceptedOrder
            ),
            403: FORBIDDEN,
        },
        request=Body(OrderRequest),
        description="Unknown fields are ignored. Text is taken as channels send it (control characters, emoji, "
        f"right-to-left scripts): names, addresses, notes, option values and method labels up to "
        f"{FREE_TEXT_MAX_CHARS} characters; identifiers keep the limits shown. An unknown channel or an order "
        "without a usable ship-to address is refused with 422 naming the fields.",
        tag="channel API",
    ),
    Operation(
        "get",
        "/v1/orders",
        "listOrders",
        "Orders newest first, a page at a time; filtered by status or channel, searched by `q`.",
        "admin",
        {
            200: json_reply("A page.", OrderListPage),
            400: error(
                "A status that is none of the listed (invalid_status), a malformed channel code (invalid_channel), "
                "a q that is too long (invalid_query), a cursor no page answered (invalid_cursor), a limit "
                f"outside 1-{MAX_LIMIT} (invalid_limit). A parameter given empty is refused, `q` excepted."
            ),
            403: error("A channel's key: the listing is the admin's."),
        },
        parameters=LIST_PARAMETERS,
        description="Keyset pages: orders received while a client pages through come before its cursor, so the "
        "pages after it neither miss nor repeat an order.",
        tag="admin API",
    ),
    Operation(
        "get",
        "/v1/orders/counts",
        "countOrders",
        "Orders received since a moment by status, and in each of the last minutes (the console's overview).",
        "admin",
        {
            200: json_reply("The figures.", OrderCounts),
            400: error(
                "A since that is not an ISO 8601 date and time with its offset (invalid_since), minutes outside "
                f"1-{MAX_MINUTES} (invalid_minutes)."
            ),
            403: error("A channel's key: the figures are the admin's."),
        },
        parameters=COUNTS_PARAMETERS,
        description="Two GROUP BY statements over the received_at index: the cost follows the orders counted "
        "(those since `since` and in the last hour at most), not all the orders stored.",
        tag="admin API",
    ),
    Operation(
        "get",
        "/v1/orders/{order_id}",
        "getOrder",
        "The order with its current status, holds, per-vendor split and shipments.",
        "channel",
        {200: json_reply("The order.", OrderView), 403: FORBIDDEN, 404: NO_ORDER},
        parameters=(ORDER_ID,),
        tag="channel API",
    ),
    Operation(
        "get",
        "/v1/orders/{order_id}/history",
        "getOrderHistory",
        "The order's timeline: its status changes and the webhooks to its channel, oldest first.",
        "channel",
        {200: json_reply("The timeline.", OrderTimeline), 403: FORBIDDEN, 404: NO_ORDER},
        parameters=(ORDER_ID,),
        tag="channel API",
    ),
    Operation(
        "post",
        "/v1/orders/{order_id}/cancel",
        "cancelOrder",
        "Cancel the order and every vendor order not yet shipped.",
        "channel",
        {
            202: json_reply("Cancelled; `order.cancelled` is published.", OrderView),
            200: json_reply("It was cancelled already.", OrderView),
            400: error("The body is not JSON, or not a JSON object."),
            403: FORBIDDEN,
            404: NO_ORDER,
            409: error("The order cannot be cancelled any more (it shipped)."),
            413: error("The body is larger than the service accepts."),
            422: error("The body has a field other than `reason`, or `reason` is not a string of at most 500."),
        },
        parameters=(ORDER_ID,),
        request=Body(CancelRequest),
        request_required=False,
        description="The body is optional: none (or only whitespace) cancels without a reason.",
        tag="channel API",
    ),
    Operation(
        "post",
        "/v1/orders/{order_id}/status",
        "changeOrderStatus",
        "The channel's own status of the order changed (payment captured, a fraud review).",
        "channel",
        {
            202: json_reply(
                "Changed; `order.updated` is published, on which the splitter holds or releases.", OrderView
            ),
            200: json_reply("It had this status already: nothing is published.", OrderView),
            400: error("The body is empty, not JSON, or not a JSON object."),
            403: FORBIDDEN,
            404: NO_ORDER,
            409: error("The order is cancelled (`order_cancelled`)."),
            413: error("The body is larger than the service accepts."),
            422: error("`status` is missing, or not one of paid, unpaid, on_hold."),
        },
        parameters=(ORDER_ID,),
        request=Body(StatusRequest),
        description="Unknown fields are ignored.",
        tag="channel API",
    ),
    Operation(
        "post",
        "/v1/orders/{order_id}/ship_to",
        "changeOrderShipTo",
        "The order ships to another address (the customer corrected it on the channel).",
        "channel",
        {
            202: json_reply(
                "Changed; `order.ship_to_changed` is published: every vendor order not shipped yet gets the new "
                "address, and a held order is routed to it.",
                OrderView,
            ),
            200: json_reply("It ships to this address already: nothing is published.", OrderView),
            400: error("The body is empty, not JSON, or not a JSON object."),
            403: FORBIDDEN,
            404: NO_ORDER,
            409: error("Nothing is left to ship: the order shipped or is cancelled (`ship_to_closed`)."),
            413: error("The body is larger than the service accepts."),
            422: error("The address is not one an order takes (the same rules as an order's `ship_to`)."),
        },
        parameters=(ORDER_ID,),
        request=Body(AddressIn),
        description="The body is the whole address, as an order's `ship_to`; unknown fields are ignored. The "
        "order's history shows the change.",
        tag="channel API",
    ),
    Operation(
        "get",
        "/v1/channels",
        "listChannels",
        "Every channel, by code (without keys or secrets).",
        "admin",
        {200: json_reply("The channels.", ChannelList)},
        tag="admin API",
    ),
    Operation(
        "put",
        "/v1/channels/{code}",
        "putChannel",
        "Create or update a sales channel: where its status webhooks go.",
        "admin",
        {
            201: json_reply(
                "Created; the answer carries the channel's API key (and a generated secret) once.", ChannelView
            ),
            200: json_reply("Updated.", ChannelView),
            400: BAD_CODE,
        },
        parameters=(CHANNEL_CODE,),
        request=Body(ChannelRequest),
        description="Omit `webhook_secret` to have one generated and returned once.",
        tag="admin API",
    ),
    Operation(
        "get",
        "/v1/channels/{code}",
        "getChannel",
        "A channel (without its secrets).",
        "admin",
        {200: json_reply("The channel.", ChannelView), 404: NO_CHANNEL},
        parameters=(CHANNEL_CODE,),
        tag="admin API",
    ),
    Operation(
        "post",
        "/v1/channels/{code}/key",
        "rotateChannelKey",
        "Issue a new API key for the channel; the previous one stops working.",
        "admin",
        {200: json_reply("The new key, shown once.", ChannelKey), 404: NO_CHANNEL},
        parameters=(CHANNEL_CODE,),
        tag="admin API",
    ),
    RESEAL_OPERATION,
]


def document() -> dict[str, Any]:
    return build_document(
        "intake",
        "Orders from sales channels (channel API: a channel's key or the admin token) and the channels "
        "themselves (admin API). Errors are JSON `{error, detail, fields}`.",
        OPERATIONS,
    )
