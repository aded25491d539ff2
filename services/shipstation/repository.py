"""The adapter's tables: connections, exportable vendor orders, shipments, problems and polls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from shared.contracts.envelope import Envelope
from shared.contracts.vendor_orders import VendorOrderCreatedData
from shared.db import Connection, Queryable
from shared.messaging.outbox import enqueue_many, insert_event_sql, outbox_row


@dataclass(frozen=True)
class StoreConnection:
    vendor: str
    username: str | None
    password_hash: str | None
    timezone: str
    status_names: dict[str, str]
    page_size: int
    lookback_minutes: int
    zone_warning: str | None
    zone_warning_at: datetime | None


_CONNECTION_COLUMNS = (
    "vendor, username, password_hash, timezone, status_names, page_size, lookback_minutes,"
    " zone_warning, zone_warning_at"
)


async def get_connection(db: Queryable, vendor: str) -> StoreConnection | None:
    row = await db.fetchrow(f"SELECT {_CONNECTION_COLUMNS} FROM connections WHERE vendor = $1", vendor)  # noqa: S608
    return StoreConnection(**dict(row)) if row else None


async def list_connections(db: asyncpg.Pool) -> list[StoreConnection]:
    rows = await db.fetch(f"SELECT {_CONNECTION_COLUMNS} FROM connections ORDER BY vendor")  # noqa: S608
    return [StoreConnection(**dict(row)) for row in rows]


async def set_credentials(db: asyncpg.Pool, vendor: str, username: str, password_hash: str) -> None:
    await db.execute(
        "INSERT INTO connections (vendor, username, password_hash, credentials_rotated_at) VALUES ($1, $2, $3, now())"
        " ON CONFLICT (vendor) DO UPDATE SET username = excluded.username, password_hash = excluded.password_hash,"
        "   credentials_rotated_at = now()",
        vendor,
        username,
        password_hash,
    )


async def update_settings(db: asyncpg.Pool, vendor: str, changes: dict[str, Any]) -> None:
    await db.execute("INSERT INTO connections (vendor) VALUES ($1) ON CONFLICT DO NOTHING", vendor)
    for column, value in changes.items():
        assert column in {"timezone", "status_names", "page_size", "lookback_minutes"}
        await db.execute(f"UPDATE connections SET {column} = $2 WHERE vendor = $1", vendor, value)  # noqa: S608


async def record_zone_warning(db: asyncpg.Pool, vendor: str, warning: str | None) -> None:
    await db.execute(
        "UPDATE connections SET zone_warning = $2,"
        " zone_warning_at = CASE WHEN $2::text IS NULL THEN zone_warning_at ELSE now() END WHERE vendor = $1",
        vendor,
        warning,
    )


async def insert_vendor_order(connection: Connection, order: VendorOrderCreatedData) -> bool:
    inserted = await connection.fetchval(
        "INSERT INTO vendor_orders (id, vendor, order_id, number, state, payload) VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (id) DO NOTHING RETURNING true",
        order.vendor_order_id,
        order.vendor,
        order.order_id,
        order.vendor_order_number,
        order.status,
        order.model_dump(mode="json"),
    )
    return bool(inserted)


async def cancel_vendor_order(connection: Connection, vendor_order_id: str) -> str | None:
    """Cancel unless fully shipped. Answers the state before, ``None`` if the order is unknown."""
    previous: str | None = await connection.fetchval(
        "SELECT state FROM vendor_orders WHERE id = $1 FOR UPDATE", vendor_order_id
    )
    if previous is not None and previous not in {"shipped", "cancelled"}:
        await connection.execute(
            "UPDATE vendor_orders SET state = 'cancelled', last_modified = now() WHERE id = $1",
            vendor_order_id,
        )
    return previous


@dataclass(frozen=True)
class StoredVendorOrder:
    id: str
    vendor: str
    state: str
    payload: dict[str, Any]
    """The vendor order as created (``VendorOrderCreatedData``); only a ship-to change rewrites its
    ``ship_to`` (and bumps ``last_modified``)."""
    shipped: dict[str, int]
    last_modified: datetime
    withdrawn: dict[str, int] = field(default_factory=dict)
    """Units per line withdrawn since (``vendor_order.lines_cancelled``)."""
    first_exported_at: datetime | None = None


_VO_COLUMNS = "id, vendor, state, payload, shipped, last_modified, withdrawn, first_exported_at"


def _vendor_order(row: asyncpg.Record) -> StoredVendorOrder:
    return StoredVendorOrder(
        row["id"],
        row["vendor"],
        row["state"],
        row["payload"],
        row["shipped"],
        row["last_modified"],
        row["withdrawn"],
        row["first_exported_at"],
    )


async def lock_vendor_order(connection: Connection, vendor_order_id: str) -> StoredVendorOrder | None:
    """The vendor order, locked until the end of the transaction; ``None`` if it is unknown."""
    row = await connection.fetchrow(
        f"SELECT {_VO_COLUMNS} FROM vendor_orders WHERE id = $1 FOR UPDATE",  # noqa: S608
        vendor_order_id,
    )
    return _vendor_order(row) if row else None


async def record_withdrawal(
    connection: Connection, vendor_order_id: str, withdrawn: dict[str, int], state: str
) -> None:
    """The units withdrawn per line and the state they leave; ShipStation's next export shows them."""
    await connection.execute(
        "UPDATE vendor_orders SET withdrawn = $2, state = $3, last_modified = now() WHERE id = $1",
        vendor_order_id,
        withdrawn,
        state,
    )


async def readdress_vendor_order(
    connection: Connection, vendor_order_id: str, ship_to: dict[str, Any], changed_at: datetime
) -> bool:
    """The vendor order ships to ``ship_to`` now, unless a later change was applied; ShipStation's next
    export shows it (``last_modified`` bumped). Answers whether it was applied."""
    result: str = await connection.execute(
        "UPDATE vendor_orders SET payload = jsonb_set(payload, '{ship_to}', $2::jsonb), ship_to_changed_at = $3,"
        " last_modified = now()"
        " WHERE id = $1 AND (ship_to_changed_at IS NULL OR ship_to_changed_at < $3)",
        vendor_order_id,
        ship_to,
        changed_at,
    )
    return result.endswith(" 1")


MARK_FIRST_EXPORTED_SQL = (
    "UPDATE vendor_orders v SET first_exported_at = now()"  # noqa: S608 - a constant of this module
    " FROM (SELECT id FROM vendor_orders WHERE id = ANY($1::text[]) AND first_exported_at IS NULL"
    "       ORDER BY id FOR UPDATE) AS unexported"
    " WHERE v.id = unexported.id AND v.first_exported_at IS NULL"
    f" RETURNING {', '.join(f'v.{column.strip()}' for column in _VO_COLUMNS.split(','))}"
)


async def mark_first_exported(connection: Connection, vendor_order_ids: Sequence[str]) -> list[StoredVendorOrder]:
    """Stamp the vendor orders among ``vendor_order_ids`` that were never exported before, in one
    statement; answers those (as they are now), so each is answered to exactly one export however
    many run at once: the rows are locked in id order and a stamp another export committed first
    makes the row drop out here."""
    rows = await connection.fetch(MARK_FIRST_EXPORTED_SQL, list(vendor_order_ids))
    return [_vendor_order(row) for row in rows]


async def enqueue_events(connection: Connection, events: Sequence[Envelope]) -> None:
    """Queue ``events`` in the outbox, in the transaction of the change that caused them (one statement)."""
    await enqueue_many(connection, events)


SNAPSHOT_TTL_MINUTES = 60
"""How long a page-1 snapshot serves the later pages of its window; ShipStation walks in seconds."""


@dataclass(frozen=True)
class ExportSnapshot:
    id: int
    total: int
    page_size: int


async def snapshot_window(
    db: asyncpg.Pool, vendor: str, start: datetime, end: datetime, page_size: int
) -> ExportSnapshot:
    """Freeze the ids of the window's orders in export order, ``(last_modified, id)``; drop stale snapshots."""
    async with db.acquire() as connection, connection.transaction():
        await connection.execute(
            "DELETE FROM export_snapshots WHERE created_at < now() - make_interval(mins => $1)", SNAPSHOT_TTL_MINUTES
        )
        row = await connection.fetchrow(
            "INSERT INTO export_snapshots (vendor, window_start, window_end, page_size, order_ids)"
            " SELECT $1, $2, $3, $4, coalesce(array_agg(id ORDER BY last_modified, id), '{}') FROM vendor_orders"
            "  WHERE vendor = $1 AND last_modified >= $2 AND last_modified < $3"
            " RETURNING id, cardinality(order_ids) AS total, page_size",
            vendor,
            start,
            end,
            page_size,
        )
    assert row is not None
    return ExportSnapshot(row["id"], row["total"], row["page_size"])


async def latest_snapshot(db: asyncpg.Pool, vendor: str, start: datetime, end: datetime) -> ExportSnapshot | None:
    """The newest fresh snapshot of exactly this window, if page 1 of it was served recently."""
    row = await db.fetchrow(
        "SELECT id, cardinality(order_ids) AS total, page_size FROM export_snapshots"
        " WHERE vendor = $1 AND window_start = $2 AND window_end = $3"
        "   AND created_at >= now() - make_interval(mins => $4)"
        " ORDER BY id DESC LIMIT 1",
        vendor,
        start,
        end,
        SNAPSHOT_TTL_MINUTES,
    )
    return ExportSnapshot(row["id"], row["total"], row["page_size"]) if row else None


async def snapshot_page(db: asyncpg.Pool, snapshot: ExportSnapshot, page: int) -> list[StoredVendorOrder]:
    """Page ``page`` (1-based) of a snapshot: the orders at those positions, as they are now."""
    first = (page - 1) * snapshot.page_size + 1
    rows = await db.fetch(
        "SELECT v.id, v.vendor, v.state, v.payload, v.shipped, v.last_modified, v.withdrawn, v.first_exported_at"
        " FROM export_snapshots s"
        " CROSS JOIN LATERAL unnest(s.order_ids[$2:$3]) WITH ORDINALITY AS frozen(id, position)"
        " JOIN vendor_orders v ON v.id = frozen.id"
        " WHERE s.id = $1 ORDER BY frozen.position",
        snapshot.id,
        first,
        first + snapshot.page_size - 1,
    )
    return [_vendor_order(row) for row in rows]


async def find_vendor_order(
    connection: Connection, vendor: str, order_id: str | None, number: str | None
) -> StoredVendorOrder | None:
    """By ShipStation's OrderID (our vendor order id) first, else by order number."""
    if order_id:
        row = await connection.fetchrow(
            f"SELECT {_VO_COLUMNS} FROM vendor_orders WHERE id = $1 AND vendor = $2 FOR UPDATE",  # noqa: S608
            order_id,
            vendor,
        )
        if row:
            return _vendor_order(row)
    if number:
        row = await connection.fetchrow(
            f"SELECT {_VO_COLUMNS} FROM vendor_orders WHERE number = $1 AND vendor = $2"  # noqa: S608
            " ORDER BY created_at DESC LIMIT 1 FOR UPDATE",
            number,
            vendor,
        )
        if row:
            return _vendor_order(row)
    return None


INSERT_SHIPMENT_SQL = (
    "WITH shipment AS ("  # noqa: S608 - composed of constant SQL only
    "  INSERT INTO shipments (shipment_id, vendor, vendor_order_id, payload) VALUES ($1, $2, $3, $4)"
    "  ON CONFLICT (shipment_id) DO NOTHING RETURNING shipment_id"
    "), progress AS ("
    "  UPDATE vendor_orders SET shipped = $5, state = $6,"
    "  last_modified = CASE WHEN $7 THEN now() ELSE last_modified END"
    "  WHERE id = $3 AND EXISTS (SELECT 1 FROM shipment)"
    f"), announced AS ({insert_event_sql(8, for_each_row_of='shipment')})"
    " SELECT EXISTS (SELECT 1 FROM shipment)"
)


async def record_shipment(
    connection: Connection,
    shipment_id: str,
    vendor: str,
    vendor_order_id: str,
    payload: dict[str, Any],
    shipped: dict[str, int],
    state: str,
    state_changed: bool,
    event: Envelope,
) -> bool:
    """Store a package, the vendor order's shipped quantities and state, and the event announcing
    the package, in one statement. Answers False (and changes nothing) if the package is known."""
    inserted: bool = await connection.fetchval(
        INSERT_SHIPMENT_SQL,
        shipment_id,
        vendor,
        vendor_order_id,
        payload,
        shipped,
        state,
        state_changed,
        *outbox_row(event),
    )
    return inserted


async def record_problem(db: Queryable, vendor: str, kind: str, vendor_order_id: str | None, detail: str) -> None:
    """Record a problem for ops; the same one again counts up and moves to the top of the list."""
    await db.execute(
        "INSERT INTO problems (vendor, kind, vendor_order_id, detail) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (vendor, kind, coalesce(vendor_order_id, ''), md5(detail))"
        " DO UPDATE SET occurrences = problems.occurrences + 1, last_seen_at = now()",
        vendor,
        kind,
        vendor_order_id,
        detail[:2000],
    )


async def list_problems(db: asyncpg.Pool, vendor: str, limit: int = 200) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT id, kind, vendor_order_id, detail, occurred_at, last_seen_at, occurrences FROM problems"
        " WHERE vendor = $1 ORDER BY last_seen_at DESC, id DESC LIMIT $2",
        vendor,
        limit,
    )
    return [dict(row) for row in rows]


@dataclass(frozen=True)
class PollRecord:
    """One Custom Store call, as the poll log keeps it for ops."""

    vendor: str
    action: str
    outcome: str
    duration_ms: float
    window_start: datetime | None = None
    window_end: datetime | None = None
    page: int | None = None
    orders_returned: int | None = None
    detail: str | None = None


async def record_poll(db: asyncpg.Pool, poll: PollRecord) -> None:
    await db.execute(
        "INSERT INTO polls (vendor, action, window_start, window_end, page, orders_returned, duration_ms,"
        " outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        poll.vendor,
        poll.action,
        poll.window_start,
        poll.window_end,
        poll.page,
        poll.orders_returned,
        round(poll.duration_ms, 2),
        poll.outcome,
        poll.detail,
    )


async def list_polls(db: asyncpg.Pool, vendor: str, limit: int = 200) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT id, action, at, window_start, window_end, page, orders_returned, duration_ms, outcome, detail"
        " FROM polls WHERE vendor = $1 ORDER BY id DESC LIMIT $2",
        vendor,
        limit,
    )
    return [dict(row) for row in rows]
