"""Order figures for ops (the console's overview), free of I/O: what ``GET /v1/orders/counts`` accepts
and answers. Counts by status of the orders received since a moment, and orders received in each of the
last N minutes: two ``GROUP BY`` statements over the ``received_at`` index
(:mod:`services.intake.listing`), so the figures are exact however many orders there are, where pages of
the listing could only say "at least"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from services.intake.order_search import ORDER_STATUSES, InvalidSearch

DEFAULT_MINUTES = 10
MAX_MINUTES = 60


@dataclass(frozen=True)
class CountsRequest:
    since: datetime
    """Timezone-aware: orders received at or after it are counted by status."""
    minutes: int
    """How many whole minutes, back from now, are counted one by one."""


def start_of_day(now: datetime) -> datetime:
    """Midnight UTC of ``now``'s day."""
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def parse_since(text: str) -> datetime:
    """An ISO 8601 moment with its offset (``Z`` or ``±hh:mm``); :class:`InvalidSearch` otherwise.

    A ``+`` left unencoded in a query string arrives as a space: the offset's space is taken for it."""
    value = text.strip().upper()  # RFC 3339 allows t and z
    if len(value) > 40:
        raise InvalidSearch("invalid_since", "since is an ISO 8601 date and time with its offset")
    if value[-6:-5] == " ":
        value = value[:-6] + "+" + value[-5:]
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidSearch("invalid_since", "since is an ISO 8601 date and time with its offset") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidSearch("invalid_since", "since needs its offset (Z or ±hh:mm): a time without one is ambiguous")
    return moment.astimezone(UTC)


def parse_counts(query: Mapping[str, str], now: datetime) -> CountsRequest:
    """``since`` (default: midnight UTC today) and ``minutes`` (default 10, at most 60)."""
    since = parse_since(query["since"]) if "since" in query else start_of_day(now)
    minutes_text = query.get("minutes")
    if minutes_text is None:
        minutes = DEFAULT_MINUTES
    elif minutes_text.isdigit() and 1 <= int(minutes_text) <= MAX_MINUTES:
        minutes = int(minutes_text)
    else:
        raise InvalidSearch("invalid_minutes", f"minutes is a whole number from 1 to {MAX_MINUTES}")
    return CountsRequest(since, minutes)


def counts_view(
    request: CountsRequest,
    now: datetime,
    by_status: Mapping[str, int],
    minutes_ago: Mapping[int, int],
) -> dict[str, Any]:
    """The answer: every status (zeros included), and the last ``minutes`` minutes oldest first.

    ``minutes_ago`` counts orders by whole minutes before ``now`` (0: the last 60 seconds), as
    :meth:`services.intake.listing.PostgresListing.minutes_ago` answers."""
    statuses = {status: int(by_status.get(status, 0)) for status in ORDER_STATUSES}
    counted = [(ago, int(minutes_ago.get(ago, 0))) for ago in range(request.minutes - 1, -1, -1)]
    per_minute = [
        {"from": now - timedelta(minutes=ago + 1), "to": now - timedelta(minutes=ago), "orders": orders}
        for ago, orders in counted
    ]
    in_window = sum(orders for _, orders in counted)
    return {
        "since": request.since,
        "now": now,
        "by_status": statuses,
        "total": sum(statuses.values()),
        "minutes": request.minutes,
        "per_minute": per_minute,
        "orders_in_minutes": in_window,
    }
