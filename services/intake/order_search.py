"""The orders listing and an order's timeline for ops (the console's orders page), free of I/O: what
``GET /v1/orders`` accepts (filters, page size, the cursor), how a stored order is summed up in a row
of it, and how the status history and the channel's webhooks of one order are merged in time order.

The cursor is a keyset position, newest first: the ``received_at`` (microseconds since the Unix epoch,
UTC) and the id of the last order of the page before. Clients treat it as opaque. It carries no
signature on purpose: every string of its documented pattern is a position some page could end on, so
the OpenAPI document describes exactly the cursors that are accepted, and an edited cursor grants
nothing (the listing is the admin's, who may read every page anyway). Anything else is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, get_args

from services.intake.fields import CHANNEL_CODE
from shared.contracts.orders import OrderStatus

ORDER_STATUSES: tuple[str, ...] = get_args(OrderStatus)
"""The statuses intake stores for an order (see :func:`services.intake.domain.shown_status` for why an
order the splitter routed without a hold is still ``received`` here)."""
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_QUERY_CHARACTERS = 100
MIN_CONTAINS_CHARACTERS = 3
"""A shorter ``q`` is looked for in ids only: the trigram index that finds a part of a name among 100,000
answers nothing for fewer than three characters, and scanning every order for them would take too long."""

CURSOR_PATTERN = re.compile(r"^[0-9]{1,16}-ord_[0-9a-f]{32}$")
"""``<microseconds>-<order id>``: sixteen digits reach the year 2286, within what both Python and
PostgreSQL store, so every string of this pattern decodes."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class InvalidSearch(ValueError):
    """A listing parameter refused; ``code`` is the API's error code (``invalid_status``, …)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


@dataclass(frozen=True)
class Position:
    """Where a page ended: the listing goes on with the orders received before it (ties: smaller ids)."""

    received_at: datetime
    order_id: str


@dataclass(frozen=True)
class OrderSearch:
    status: str | None = None
    channel: str | None = None
    q: str | None = None
    """Stripped, never empty: matched against ids by prefix and against names and e-mails by substring."""
    limit: int = DEFAULT_LIMIT
    after: Position | None = None


def encode_cursor(position: Position) -> str:
    micros = (position.received_at - _EPOCH) // _MICROSECOND
    return f"{micros}-{position.order_id}"


def decode_cursor(cursor: str) -> Position:
    """The position a ``next_cursor`` names; :class:`InvalidSearch` for anything else."""
    if not CURSOR_PATTERN.fullmatch(cursor):
        raise InvalidSearch("invalid_cursor", "the cursor is not one a page of this listing answered")
    micros, order_id = cursor.split("-", 1)
    return Position(_EPOCH + int(micros) * _MICROSECOND, order_id)


def _storable(text: str) -> bool:
    """Whether PostgreSQL can compare ``text``: no NUL, and no lone surrogate (percent-escapes in the
    query string that were not UTF-8)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_LIMIT:
        raise InvalidSearch("invalid_limit", f"limit is a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def parse_search(query: Mapping[str, str]) -> OrderSearch:
    """The listing's query parameters, checked. A parameter given empty is refused like any other
    invalid value (``q`` excepted: an empty search is no search); unknown parameters are ignored."""
    status = query.get("status")
    if status is not None and status not in ORDER_STATUSES:
        raise InvalidSearch("invalid_status", f"status is one of {', '.join(ORDER_STATUSES)}")
    channel = query.get("channel")
    if channel is not None and not CHANNEL_CODE.fullmatch(channel):
        raise InvalidSearch("invalid_channel", "a channel code is 1-50 of a-z, 0-9, '-' and '_'")
    q = query.get("q")
    if q is not None and (len(q) > MAX_QUERY_CHARACTERS or not _storable(q)):
        raise InvalidSearch("invalid_query", f"q is text of at most {MAX_QUERY_CHARACTERS} characters")
    cursor = query.get("cursor")
    return OrderSearch(
        status=status,
        channel=channel,
        q=(q or "").strip() or None,
        limit=_limit(query.get("limit")),
        after=decode_cursor(cursor) if cursor is not None else None,
    )


def like_escaped(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern (escape character ``\\``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# ---------------------------------------------------------------------------------------------- rows


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else Decimal("0")
    except InvalidOperation:
        return Decimal("0")


def order_total(payload: Mapping[str, Any]) -> Decimal:
    """What the customer pays, as the splitter's value limit counts it: the lines at their unit prices,
    less discounts, plus tax and shipping (the payload is the stored ``order.received`` data)."""
    lines = payload.get("lines") or []
    subtotal = sum((_decimal(line.get("unit_price")) * int(line.get("quantity") or 0) for line in lines), Decimal(0))
    discounts = sum((_decimal(discount.get("amount")) for discount in payload.get("discounts") or []), Decimal(0))
    return subtotal - discounts + _decimal(payload.get("tax_amount")) + _decimal(payload.get("shipping_amount"))


def _party(payload: Mapping[str, Any], field: str) -> str | None:
    """The customer's ``name`` or ``email``, else the ship-to's: the same fallback the search column of
    migration 003 indexes, so what a row shows is what ``q`` found."""
    for party in ("customer", "ship_to"):
        value = (payload.get(party) or {}).get(field)
        if value:
            return str(value)
    return None


def order_row(stored: Mapping[str, Any]) -> dict[str, Any]:
    """One row of the listing from the stored columns (``payload`` the order as received)."""
    payload: Mapping[str, Any] = stored["payload"]
    return {
        "id": stored["id"],
        "channel": stored["channel"],
        "external_id": stored["external_id"],
        "order_number": stored["order_number"],
        "status": stored["status"],
        "channel_status": stored["channel_status"],
        "hold_codes": [hold["code"] for hold in stored["holds"]],
        "customer_name": _party(payload, "name"),
        "customer_email": _party(payload, "email"),
        "ship_to_country": (payload.get("ship_to") or {}).get("country"),
        "line_count": len(payload.get("lines") or []),
        "total": order_total(payload),
        "currency": payload.get("currency"),
        "received_at": stored["received_at"],
        "updated_at": stored["updated_at"],
    }


def page_of(rows: Sequence[Mapping[str, Any]], limit: int) -> dict[str, Any]:
    """The answer for ``rows`` as the query gave them (up to ``limit + 1``: one more says there is more)."""
    shown = rows[:limit]
    more = len(rows) > limit
    cursor = encode_cursor(Position(shown[-1]["received_at"], shown[-1]["id"])) if more else None
    return {"orders": [order_row(row) for row in shown], "next_cursor": cursor}


# ---------------------------------------------------------------------------------------------- timeline


def timeline(history: Sequence[Mapping[str, Any]], deliveries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The order's status changes and the webhooks owed to its channel, oldest first. A status change
    and the webhook that tells it are written by one statement at one time: the change comes first
    (the sort is stable, and each list is in the order it was written)."""
    events: list[tuple[datetime, int, dict[str, Any]]] = []
    for entry in history:
        change = {"kind": "status", "at": entry["changed_at"], "status": entry["status"], "cause": entry["cause"]}
        events.append((entry["changed_at"], 0, change))
    for delivery in deliveries:
        delivered = delivery["delivered_at"] is not None
        events.append(
            (
                delivery["created_at"],
                1,
                {
                    "kind": "webhook",
                    "at": delivery["created_at"],
                    "delivery_id": delivery["delivery_id"],
                    "event_type": delivery["event_type"],
                    "attempts": delivery["attempts"],
                    "delivered_at": delivery["delivered_at"],
                    "last_status": delivery["last_status"],
                    "last_error": delivery["last_error"],
                    # Once delivered it is never attempted again, whatever the column still holds.
                    "next_attempt_at": None if delivered else delivery["next_attempt_at"],
                },
            )
        )
    return [event for _, _, event in sorted(events, key=lambda item: (item[0], item[1]))]
