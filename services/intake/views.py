"""Intake's read-only use cases for ops (the console reads them): the orders listing, the order figures,
one order's timeline and the channel list. Each is one or two statements and changes nothing; the rules
of what is accepted and shown are in :mod:`services.intake.order_search` and
:mod:`services.intake.order_counts`."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from services.intake import order_counts as order_counts_rules
from services.intake import order_search
from services.intake.domain import Caller
from services.intake.ports import Database, Listing
from services.intake.use_cases import order_for


async def search_orders(listing: Listing, search: order_search.OrderSearch) -> dict[str, Any]:
    """A page of orders, newest first, with the cursor of the next one (``None``: this is the last)."""
    rows = await listing.orders_page(search)
    return order_search.page_of(rows, search.limit)


async def order_counts(listing: Listing, request: order_counts_rules.CountsRequest, now: datetime) -> dict[str, Any]:
    """Orders received since ``request.since`` by status, and in each of the last minutes."""
    by_status, minutes_ago = await asyncio.gather(
        listing.status_counts(request.since), listing.minutes_ago(now, request.minutes)
    )
    return order_counts_rules.counts_view(request, now, by_status, minutes_ago)


async def order_history(db: Database, order_id: str, caller: Caller) -> dict[str, Any]:
    """The order's status changes and the signed webhooks owed to its channel, oldest first: the
    admin's, or its own channel's (another channel's key is refused like on the order itself)."""
    order = await order_for(db.tables, order_id, caller)
    history, deliveries = await asyncio.gather(
        db.tables.status_history(order.id), db.tables.deliveries_for_order(order.id)
    )
    return {
        "order_id": order.id,
        "channel": order.channel,
        "status": order.status,
        "events": order_search.timeline(history, deliveries),
    }


async def list_channels(listing: Listing) -> dict[str, Any]:
    """Every channel, by code, without its key or webhook secret."""
    return {"channels": await listing.channels()}
