"""The SQL of intake's listings for ops: a page of orders (``GET /v1/orders``), the order figures
(``GET /v1/orders/counts``) and every channel (``GET /v1/channels``). Statements are built from the
filters given, so each combination is planned on its own with the indexes of migration 003
(``$1 IS NULL OR …`` would plan every page for the worst case). A page without ``q`` is one
statement; a search is one, or two when the newest orders do not fill its page (:data:`WINDOW_ROWS`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.intake.order_search import MIN_CONTAINS_CHARACTERS, OrderSearch, like_escaped
from shared.db import Queryable

_STORED = "id, channel, external_id, order_number, status, channel_status, holds, payload, received_at, updated_at"
# What a row of the listing reads of the payload (order_search.order_row), cut out by PostgreSQL: the
# whole payload of every row of a page, decoded and thrown away, was most of a page's time.
_PAYLOAD_SHOWN = (
    "jsonb_build_object("
    "'customer', jsonb_build_object('name', payload #> '{customer,name}', 'email', payload #> '{customer,email}'),"
    " 'ship_to', jsonb_build_object('name', payload #> '{ship_to,name}', 'email', payload #> '{ship_to,email}',"
    " 'country', payload #> '{ship_to,country}'),"
    " 'currency', payload -> 'currency', 'tax_amount', payload -> 'tax_amount',"
    " 'shipping_amount', payload -> 'shipping_amount',"
    " 'discounts', (SELECT coalesce(jsonb_agg(jsonb_build_object('amount', d -> 'amount')), '[]')"
    " FROM jsonb_array_elements(CASE jsonb_typeof(payload -> 'discounts') WHEN 'array' THEN payload -> 'discounts'"
    " ELSE '[]' END) AS d),"
    " 'lines', (SELECT coalesce(jsonb_agg(jsonb_build_object('unit_price', l -> 'unit_price', 'quantity',"
    " l -> 'quantity')), '[]') FROM jsonb_array_elements(CASE jsonb_typeof(payload -> 'lines') WHEN 'array'"
    " THEN payload -> 'lines' ELSE '[]' END) AS l)"
    ") AS payload"
)
_COLUMNS = _STORED.replace("payload", _PAYLOAD_SHOWN)
# The largest code point: a prefix range [p, p || U+10FFFF) holds every string that starts with p and goes
# on with any other character. Byte order (~<~) is code point order in UTF-8.
_TOP = "chr(1114111)"


WINDOW_ROWS = 2_000
"""How many of the newest orders (after the cursor, within the filters) a search reads first. A search that
finds a page among them is answered from them; only one that does not reads its matches through the
indexes. Matches are seldom spread evenly: a prefix of sequential order numbers finds orders of one stretch
of time, and the planner, assuming them spread, would walk the newest orders towards them for a long way."""


def _prefix(column: str, value: str) -> str:
    lowered = f"lower({column})"
    return f"({lowered} ~>=~ lower({value}) AND {lowered} ~<~ (lower({value}) || {_TOP}))"


class _Statement:
    """Arguments numbered as they are added; ``$1`` is always the page's row count (``limit + 1``)."""

    def __init__(self, search: OrderSearch) -> None:
        self.search = search
        self.arguments: list[Any] = [search.limit + 1]

    def argument(self, value: Any) -> str:
        self.arguments.append(value)
        return f"${len(self.arguments)}"

    def filters(self) -> list[str]:
        """The status, channel and cursor conditions: each answered by one of migration 003's indexes."""
        search, conditions = self.search, []
        if search.status is not None:
            conditions.append(f"status = {self.argument(search.status)}")
        if search.channel is not None:
            conditions.append(f"channel = {self.argument(search.channel)}")
        if search.after is not None:
            received_at, order_id = self.argument(search.after.received_at), self.argument(search.after.order_id)
            # A row comparison the (…, received_at DESC, id DESC) indexes answer as one range.
            conditions.append(f"(received_at, id) < ({received_at}, {order_id})")
        return conditions

    def matches(self, q: str) -> str:
        """``q`` as the order's id, a prefix of its order number or external id, or (from three characters:
        what a trigram index can look up) a part of its customer's name or e-mail."""
        value = self.argument(q)
        arms = [f"id = {value}", _prefix("order_number", value), _prefix("external_id", value)]
        if len(q) >= MIN_CONTAINS_CHARACTERS:
            arms.append(f"search_text LIKE lower({self.argument(f'%{like_escaped(q)}%')})")
        return f"({' OR '.join(arms)})"


def _where(conditions: list[str]) -> str:
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""


_ORDER = "ORDER BY received_at DESC, id DESC"


def page_query(search: OrderSearch) -> tuple[str, list[Any]]:
    """The statement of a page without a search, and its arguments; it answers up to ``limit + 1`` rows
    (one more: there is a next page)."""
    statement = _Statement(search)
    where = _where(statement.filters())
    return f"SELECT {_COLUMNS} FROM orders{where} {_ORDER} LIMIT $1", statement.arguments  # noqa: S608 - constant SQL


def window_query(search: OrderSearch, q: str) -> tuple[str, list[Any]]:
    """A search among the :data:`WINDOW_ROWS` newest orders within the filters (one index walk, bounded)."""
    statement = _Statement(search)
    window = statement.argument(WINDOW_ROWS)
    where = _where(statement.filters())
    matches = statement.matches(q)
    sql = (
        f"SELECT {_COLUMNS} FROM (SELECT {_STORED}, search_text FROM orders{where} {_ORDER} LIMIT {window}) recent"  # noqa: S608 - constant SQL
        f" WHERE {matches} {_ORDER} LIMIT $1"
    )
    return sql, statement.arguments


def matches_query(search: OrderSearch, q: str) -> tuple[str, list[Any]]:
    """A search through the indexes: every match within the filters is found (the MATERIALIZED fence
    keeps the planner from walking the newest orders instead), the newest are sorted out by their
    (received_at, id) alone, and only the page's rows are read whole."""
    statement = _Statement(search)
    matches = statement.matches(q)
    where = _where([matches, *statement.filters()])
    sql = (
        f"WITH hits AS MATERIALIZED (SELECT received_at, id FROM orders{where}),"  # noqa: S608 - constant SQL
        f" page AS (SELECT id FROM hits {_ORDER} LIMIT $1)"
        f" SELECT {_COLUMNS} FROM orders WHERE id IN (SELECT id FROM page) {_ORDER}"
    )
    return sql, statement.arguments


STATUS_COUNTS = "SELECT status, count(*) AS orders FROM orders WHERE received_at >= $1::timestamptz GROUP BY status"
"""Orders received since ``$1`` by status: a range of the ``orders_received`` index."""
MINUTES_AGO = (
    "SELECT floor(extract(epoch FROM ($1::timestamptz - received_at)) / 60)::int AS ago, count(*) AS orders"
    " FROM orders WHERE received_at > $1::timestamptz - make_interval(mins => $2) AND received_at <= $1::timestamptz"
    " GROUP BY ago"
)
"""Orders received in each whole minute before ``$1`` (0: the last 60 seconds), for ``$2`` minutes: the
same index, a range of at most an hour."""


class PostgresListing:
    """:class:`services.intake.ports.Listing` on the pool: each call one statement."""

    def __init__(self, db: Queryable) -> None:
        self._db = db

    async def orders_page(self, search: OrderSearch) -> list[dict[str, Any]]:
        if search.q is None:
            sql, arguments = page_query(search)
            return [dict(row) for row in await self._db.fetch(sql, *arguments)]
        sql, arguments = window_query(search, search.q)
        rows = await self._db.fetch(sql, *arguments)
        if len(rows) <= search.limit:
            # Not a whole page among the newest: the page is what the indexes find (those rows included).
            sql, arguments = matches_query(search, search.q)
            rows = await self._db.fetch(sql, *arguments)
        return [dict(row) for row in rows]

    async def status_counts(self, since: datetime) -> dict[str, int]:
        rows = await self._db.fetch(STATUS_COUNTS, since)
        return {row["status"]: int(row["orders"]) for row in rows}

    async def minutes_ago(self, now: datetime, minutes: int) -> dict[int, int]:
        rows = await self._db.fetch(MINUTES_AGO, now, minutes)
        return {int(row["ago"]): int(row["orders"]) for row in rows}

    async def channels(self) -> list[dict[str, Any]]:
        rows = await self._db.fetch("SELECT code, name, webhook_url FROM channels ORDER BY code")
        return [dict(row) for row in rows]
