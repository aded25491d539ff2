"""The answers of intake's listings for ops as OpenAPI schemas (:mod:`services.intake.openapi` uses them):
a page of orders, the order figures, an order's timeline, the channels."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from services.intake.order_counts import MAX_MINUTES
from shared.contracts.orders import HoldCode, OrderStatus


class OrderListed(BaseModel):
    """One order of the listing: enough to find it and see where it is, without its lines."""

    id: str
    channel: str
    external_id: str
    order_number: str
    status: str = Field(
        description="Where the order is as intake knows it: received, held, routed, partially_shipped, shipped, "
        "cancelled or partially_cancelled. An order the splitter routed without holding it stays `received` here "
        "until it ships; `GET /v1/orders/{order_id}` asks the splitter."
    )
    channel_status: str = Field(description="The channel's status of the order: paid, unpaid or on_hold.")
    hold_codes: list[HoldCode] = Field(description="Why the splitter holds it, as its last `order.held` said.")
    customer_name: str | None = Field(description="The customer's name, else the ship-to name.")
    customer_email: str | None = Field(description="The customer's e-mail, else the ship-to's.")
    ship_to_country: str = Field(description="ISO 3166-1 alpha-2.")
    line_count: int
    total: str = Field(description="Decimal string: the lines, less discounts, plus tax and shipping.")
    currency: str
    received_at: datetime
    updated_at: datetime


class OrderListPage(BaseModel):
    orders: list[OrderListed] = Field(description="Newest first: by received_at, then by id, both descending.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: this is the last.")


class MinuteCount(BaseModel):
    from_: datetime = Field(alias="from", description="The minute's start (exclusive).")
    to: datetime = Field(description="The minute's end (inclusive).")
    orders: int = Field(ge=0, description="Orders received in it.")


class OrderCounts(BaseModel):
    """Exact figures, however many orders there are: counted in the database, not from listing pages."""

    since: datetime = Field(description="The `since` asked for (UTC), or midnight UTC today.")
    now: datetime = Field(description="The moment the minutes are counted back from (intake's clock).")
    by_status: dict[OrderStatus, int] = Field(
        description="Orders received at or after `since`, by their status now: every status, zeros included."
    )
    total: int = Field(ge=0, description="All of them.")
    minutes: int = Field(ge=1, le=MAX_MINUTES)
    per_minute: list[MinuteCount] = Field(
        description="Orders received in each of the last `minutes` minutes before `now`, oldest first."
    )
    orders_in_minutes: int = Field(ge=0, description="The sum of `per_minute`: orders in the last `minutes` minutes.")


class TimelineStatusChange(BaseModel):
    kind: Literal["status"]
    at: datetime
    status: str
    cause: str = Field(
        description="What changed it: `intake` (received), the message id of the event that did, `cancel request`, "
        "or `channel status <status>` (the channel's own status changed; `status` is unchanged)."
    )


class TimelineWebhook(BaseModel):
    kind: Literal["webhook"]
    at: datetime = Field(description="When the webhook was queued, with the status change it tells.")
    delivery_id: str = Field(description="The `webhook-id` the channel dedupes on.")
    event_type: str
    attempts: int
    delivered_at: datetime | None = Field(description="When the channel answered 2xx; null: not yet.")
    last_status: int | None = Field(description="The HTTP status of the last attempt; null: no answer (or none yet).")
    last_error: str | None
    next_attempt_at: datetime | None = Field(description="When it is tried again; null once delivered.")


class OrderTimeline(BaseModel):
    order_id: str
    channel: str
    status: str
    events: list[Annotated[TimelineStatusChange | TimelineWebhook, Field(discriminator="kind")]] = Field(
        description="Oldest first; a status change comes before the webhook that tells it."
    )


class ChannelListed(BaseModel):
    code: str
    name: str
    webhook_url: str | None


class ChannelList(BaseModel):
    channels: list[ChannelListed] = Field(description="Every channel, by code; no keys, no secrets.")
