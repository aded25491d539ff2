"""Intake's tables: channels, orders, status history and upstream deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.contracts.envelope import Envelope
from shared.contracts.orders import OrderReceivedData
from shared.db import Connection, Queryable
from shared.messaging.outbox import insert_event_sql, outbox_row


@dataclass(frozen=True)
class Channel:
    code: str
    name: str
    webhook_url: str | None
    webhook_secret: str


def _channel(row: asyncpg.Record) -> Channel:
    return Channel(row["code"], row["name"], row["webhook_url"], row["webhook_secret"])


async def get_channel(db: Queryable, code: str) -> Channel | None:
    row = await db.fetchrow("SELECT code, name, webhook_url, webhook_secret FROM channels WHERE code = $1", code)
    return _channel(row) if row else None


async def channel_for_key(db: asyncpg.Pool, key_hash: str) -> str | None:
    code: str | None = await db.fetchval("SELECT code FROM channels WHERE api_key_hash = $1", key_hash)
    return code


async def upsert_channel(
    connection: Connection,
    code: str,
    name: str,
    webhook_url: str | None,
    webhook_secret: str | None,
    new_secret: str,
    new_key_hash: str,
) -> bool:
    """Create or update a channel. Answers whether it was created (the caller then shows the key)."""
    created: bool = await connection.fetchval(
        "INSERT INTO channels (code, name, webhook_url, webhook_secret, api_key_hash)"
        " VALUES ($1, $2, $3, coalesce($4, $5), $6)"
        " ON CONFLICT (code) DO UPDATE SET name = excluded.name, webhook_url = excluded.webhook_url,"
        "   webhook_secret = coalesce($4, channels.webhook_secret), updated_at = now()"
        " RETURNING (xmax = 0)",
        code,
        name,
        webhook_url,
        webhook_secret,
        new_secret,
        new_key_hash,
    )
    return created


async def rotate_key(db: asyncpg.Pool, code: str, key_hash: str) -> bool:
    result: str = await db.execute(
        "UPDATE channels SET api_key_hash = $2, updated_at = now() WHERE code = $1", code, key_hash
    )
    return result.endswith(" 1")


INSERT_ORDER_SQL = (
    "WITH new_order AS ("  # noqa: S608 - composed of constant SQL only
    "  INSERT INTO orders (id, channel, external_id, order_number, payload) VALUES ($1, $2, $3, $4, $5)"
    "  ON CONFLICT (channel, external_id) DO NOTHING RETURNING id, received_at"
    "), history AS ("
    "  INSERT INTO order_status_history (order_id, status, cause) SELECT id, 'received', 'intake' FROM new_order"
    f"), announced AS ({insert_event_sql(6, for_each_row_of='new_order')})"
    " SELECT received_at FROM new_order"
)


async def insert_order_announced(db: Queryable, order: OrderReceivedData, event: Envelope) -> datetime | None:
    """Store a new order, its first status and its ``order.received`` event in one statement (a
    single statement commits atomically without a transaction block: one round trip per order).

    Answers when it was received, or ``None`` when the channel sent this order before. An unknown
    channel raises :class:`asyncpg.ForeignKeyViolationError`.
    """
    received_at: datetime | None = await db.fetchval(
        INSERT_ORDER_SQL,
        order.order_id,
        order.channel,
        order.external_id,
        order.order_number,
        order.model_dump(mode="json"),
        *outbox_row(event),
    )
    return received_at


@dataclass(frozen=True)
class StoredOrder:
    id: str
    channel: str
    status: str
    payload: dict[str, Any]
    received_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None


_ORDER_COLUMNS = "id, channel, status, payload, received_at, updated_at, cancelled_at"


def _order(row: asyncpg.Record) -> StoredOrder:
    return StoredOrder(
        row["id"],
        row["channel"],
        row["status"],
        row["payload"],
        row["received_at"],
        row["updated_at"],
        row["cancelled_at"],
    )


async def get_order(db: Queryable, order_id: str, *, lock: bool = False) -> StoredOrder | None:
    suffix = " FOR UPDATE" if lock else ""
    row = await db.fetchrow(f"SELECT {_ORDER_COLUMNS} FROM orders WHERE id = $1{suffix}", order_id)  # noqa: S608
    return _order(row) if row else None


async def get_order_by_external_id(db: Queryable, channel: str, external_id: str) -> StoredOrder | None:
    row = await db.fetchrow(
        f"SELECT {_ORDER_COLUMNS} FROM orders WHERE channel = $1 AND external_id = $2",  # noqa: S608
        channel,
        external_id,
    )
    return _order(row) if row else None


async def set_status(connection: Connection, order_id: str, status: str, cause: str) -> None:
    await connection.execute(
        "UPDATE orders SET status = $2, updated_at = now(),"
        " cancelled_at = CASE WHEN $2 = 'cancelled' THEN coalesce(cancelled_at, now()) ELSE cancelled_at END"
        " WHERE id = $1",
        order_id,
        status,
    )
    await connection.execute(
        "INSERT INTO order_status_history (order_id, status, cause) VALUES ($1, $2, $3)", order_id, status, cause
    )


async def record_status_change(
    connection: Connection,
    order_id: str,
    status: str,
    cause: str,
    delivery_id: str,
    channel: str,
    event_type: str,
    body: dict[str, Any],
) -> None:
    """Set the order's status, add it to the history and queue the channel's webhook, in one statement."""
    await connection.execute(
        "WITH changed AS ("
        "  UPDATE orders SET status = $2, updated_at = now(),"
        "  cancelled_at = CASE WHEN $2 = 'cancelled' THEN coalesce(cancelled_at, now()) ELSE cancelled_at END"
        "  WHERE id = $1"
        "), history AS ("
        "  INSERT INTO order_status_history (order_id, status, cause) VALUES ($1, $2, $3)"
        ") INSERT INTO upstream_deliveries (delivery_id, order_id, channel, event_type, body)"
        " VALUES ($4, $1, $5, $6, $7) ON CONFLICT (delivery_id) DO NOTHING",
        order_id,
        status,
        cause,
        delivery_id,
        channel,
        event_type,
        body,
    )


async def status_history(db: asyncpg.Pool, order_id: str) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT status, cause, changed_at FROM order_status_history WHERE order_id = $1 ORDER BY id", order_id
    )
    return [dict(row) for row in rows]


@dataclass(frozen=True)
class DueDelivery:
    seq: int
    delivery_id: str
    order_id: str
    event_type: str
    body: dict[str, Any]
    attempts: int
    webhook_url: str | None
    webhook_secret: str


async def claim_due_deliveries(connection: Connection, limit: int) -> list[DueDelivery]:
    """Lock the due deliveries that are first in line for their order (per-order order is kept)."""
    rows = await connection.fetch(
        "SELECT d.seq, d.delivery_id, d.order_id, d.event_type, d.body, d.attempts,"
        "       c.webhook_url, c.webhook_secret"
        " FROM upstream_deliveries d JOIN channels c ON c.code = d.channel"
        " WHERE d.delivered_at IS NULL AND d.next_attempt_at <= now()"
        "   AND NOT EXISTS (SELECT 1 FROM upstream_deliveries e"
        "                   WHERE e.order_id = d.order_id AND e.delivered_at IS NULL AND e.seq < d.seq)"
        " ORDER BY d.seq LIMIT $1 FOR UPDATE OF d SKIP LOCKED",
        limit,
    )
    return [
        DueDelivery(
            r["seq"],
            r["delivery_id"],
            r["order_id"],
            r["event_type"],
            r["body"],
            r["attempts"],
            r["webhook_url"],
            r["webhook_secret"],
        )
        for r in rows
    ]


async def mark_delivered(connection: Connection, delivered: Sequence[tuple[int, int]]) -> None:
    """Stamp deliveries (seq, HTTP status) delivered: one statement for the whole round."""
    if delivered:
        await connection.execute(
            "UPDATE upstream_deliveries d SET delivered_at = now(), attempts = d.attempts + 1,"
            " last_status = s.status, last_error = NULL"
            " FROM unnest($1::bigint[], $2::int[]) AS s(seq, status) WHERE d.seq = s.seq",
            [seq for seq, _ in delivered],
            [status for _, status in delivered],
        )


async def mark_failed(
    connection: Connection, seq: int, status: int | None, error: str, retry_in_seconds: float
) -> None:
    await connection.execute(
        "UPDATE upstream_deliveries SET attempts = attempts + 1, last_status = $2, last_error = $3,"
        " next_attempt_at = now() + make_interval(secs => $4) WHERE seq = $1",
        seq,
        status,
        error[:500],
        retry_in_seconds,
    )


async def oldest_undelivered_age_seconds(db: asyncpg.Pool) -> float:
    age = await db.fetchval(
        "SELECT extract(epoch FROM now() - min(created_at)) FROM upstream_deliveries WHERE delivered_at IS NULL"
    )
    return float(age or 0.0)


async def deliveries_for_order(db: asyncpg.Pool, order_id: str) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT delivery_id, event_type, created_at, attempts, delivered_at, last_status, last_error"
        " FROM upstream_deliveries WHERE order_id = $1 ORDER BY seq",
        order_id,
    )
    return [dict(row) for row in rows]
