"""EDI X12 partners' tables: control numbers reserved per partner, and every interchange sent or
received with its bytes and (for what we sent) its 997 state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.db import Queryable

LARGEST_CONTROL_NUMBER = 999_999_999


@dataclass(frozen=True)
class Reserved:
    interchange: int
    group: int
    transaction: int


async def reserve_numbers(db: Queryable, vendor: str) -> Reserved:
    """The partner's next ISA13, GS06 and ST02, counted in the database: a number once handed out is
    never handed out again (one not sent is a gap). After 999,999,999 the count starts again at 1."""
    row = await db.fetchrow(
        "INSERT INTO x12_counters AS c (vendor, interchange, grp, txn) VALUES ($1, 1, 1, 1)"
        " ON CONFLICT (vendor) DO UPDATE SET interchange = c.interchange % $2 + 1, grp = c.grp % $2 + 1,"
        "   txn = c.txn % $2 + 1"
        " RETURNING interchange, grp, txn",
        vendor,
        LARGEST_CONTROL_NUMBER,
    )
    assert row is not None
    return Reserved(int(row["interchange"]), int(row["grp"]), int(row["txn"]))


@dataclass(frozen=True)
class StoredInterchange:
    id: int
    control_number: int
    file_name: str
    folder: str | None
    content: bytes
    sent_at: datetime | None


async def outbound_of_delivery(db: Queryable, delivery_id: str) -> StoredInterchange | None:
    row = await db.fetchrow(
        "SELECT id, control_number, file_name, folder, content, sent_at FROM x12_interchanges WHERE delivery_id = $1",
        delivery_id,
    )
    return StoredInterchange(**dict(row)) if row else None


async def record_outbound(
    db: Queryable,
    *,
    vendor: str,
    kind: str,
    sender_id: str,
    numbers: Reserved,
    file_name: str,
    folder: str | None,
    content: bytes,
    delivery_id: str | None = None,
    vendor_order_id: str | None = None,
    po_number: str | None = None,
    ack_requested: bool = False,
    ack_within_hours: int | None = None,
    summary: dict[str, Any] | None = None,
) -> StoredInterchange:
    row = await db.fetchrow(
        "INSERT INTO x12_interchanges (vendor, direction, kind, sender_id, control_number, group_number, set_number,"
        "   delivery_id, vendor_order_id, po_number, file_name, folder, content, ack_state, ack_due_at, summary)"
        " VALUES ($1, 'out', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
        "   CASE WHEN $13 THEN 'awaiting' ELSE 'not_requested' END,"
        "   CASE WHEN $13 AND $14::int IS NOT NULL THEN now() + make_interval(hours => $14::int) END, $15::jsonb)"
        " RETURNING id, control_number, file_name, folder, content, sent_at",
        vendor,
        kind,
        sender_id,
        numbers.interchange,
        numbers.group,
        numbers.transaction,
        delivery_id,
        vendor_order_id,
        po_number,
        file_name,
        folder,
        content,
        ack_requested,
        ack_within_hours,
        summary or {},
    )
    assert row is not None
    return StoredInterchange(**dict(row))


async def mark_sent(db: Queryable, interchange_ids: list[int]) -> None:
    await db.execute(
        "UPDATE x12_interchanges SET sent_at = coalesce(sent_at, now()) WHERE id = ANY($1::bigint[])", interchange_ids
    )


async def unsent_acknowledgements(db: Queryable, vendor: str) -> list[StoredInterchange]:
    """Our 997s and TA1s written but not yet uploaded (a poll that stopped in between)."""
    rows = await db.fetch(
        "SELECT id, control_number, file_name, folder, content, sent_at FROM x12_interchanges"
        " WHERE vendor = $1 AND direction = 'out' AND delivery_id IS NULL AND sent_at IS NULL ORDER BY id",
        vendor,
    )
    return [StoredInterchange(**dict(row)) for row in rows]


async def received_before(db: Queryable, vendor: str, sender_id: str, control_number: int) -> bool:
    found = await db.fetchval(
        "SELECT 1 FROM x12_interchanges WHERE vendor = $1 AND direction = 'in' AND sender_id = $2"
        " AND control_number = $3",
        vendor,
        sender_id,
        control_number,
    )
    return found is not None


async def record_inbound(
    db: Queryable,
    *,
    vendor: str,
    kind: str,
    sender_id: str,
    control_number: int,
    file_name: str,
    content: bytes,
    summary: dict[str, Any],
) -> int:
    interchange_id: int = await db.fetchval(
        "INSERT INTO x12_interchanges (vendor, direction, kind, sender_id, control_number, file_name, content, summary)"
        " VALUES ($1, 'in', $2, $3, $4, $5, $6, $7::jsonb) RETURNING id",
        vendor,
        kind,
        sender_id,
        control_number,
        file_name,
        content,
        summary,
    )
    return interchange_id


async def acknowledge_group(db: Queryable, vendor: str, group_number: int, state: str) -> list[dict[str, Any]]:
    """A 997 answered our functional group ``group_number``: what it acknowledged (vendor orders)."""
    rows = await db.fetch(
        "UPDATE x12_interchanges SET ack_state = $3, acknowledged_at = now()"
        " WHERE vendor = $1 AND direction = 'out' AND group_number = $2 AND kind IN ('850', '860')"
        " RETURNING id, kind, delivery_id, vendor_order_id, po_number, summary",
        vendor,
        group_number,
        state,
    )
    return [dict(row) for row in rows]


async def list_interchanges(db: Queryable, vendor: str, limit: int) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT id, direction, kind, sender_id, control_number, group_number, set_number, vendor_order_id,"
        "   po_number, file_name, folder, created_at, sent_at, ack_state, ack_due_at, acknowledged_at, summary,"
        "   (ack_state = 'awaiting' AND ack_due_at < now()) AS ack_overdue"
        " FROM x12_interchanges WHERE vendor = $1 ORDER BY id DESC LIMIT $2",
        vendor,
        limit,
    )
    return [dict(row) for row in rows]


async def overdue_acknowledgements(db: Queryable) -> int:
    count: int = await db.fetchval(
        "SELECT count(*) FROM x12_interchanges WHERE ack_state = 'awaiting' AND ack_due_at < now()"
    )
    return count
