"""What vendors answered: packages reported (by shipment id), acknowledgements (by content digest) and
the inbound files read (by name, size and digest), each recorded with the events it publishes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from shared.contracts.envelope import Envelope
from shared.db import Connection, Queryable
from shared.messaging.outbox import enqueue_many


async def shipped_quantities(db: Queryable, vendor_order_id: str) -> dict[str, int]:
    """Units of each line already reported shipped for the vendor order."""
    rows = await db.fetch(
        "SELECT line->>'line_id' AS line_id, sum((line->>'quantity')::int) AS quantity"
        " FROM shipments, jsonb_array_elements(lines) AS line WHERE vendor_order_id = $1 GROUP BY 1",
        vendor_order_id,
    )
    return {row["line_id"]: int(row["quantity"]) for row in rows}


async def known_shipments(db: Queryable, shipment_ids: Sequence[str]) -> set[str]:
    rows = await db.fetch("SELECT shipment_id FROM shipments WHERE shipment_id = ANY($1::text[])", list(shipment_ids))
    return {row["shipment_id"] for row in rows}


async def record_shipment(
    db: Connection, shipment_id: str, vendor_order_id: str, lines: list[dict[str, Any]], event: Envelope
) -> bool:
    """Record the package and write its event, unless the package was reported before."""
    new: bool = await db.fetchval(
        "INSERT INTO shipments (shipment_id, vendor_order_id, lines) VALUES ($1, $2, $3::jsonb)"
        " ON CONFLICT DO NOTHING RETURNING true",
        shipment_id,
        vendor_order_id,
        lines,
    )
    if new:
        await enqueue_many(db, [event])
    return bool(new)


async def record_acknowledgement(db: Connection, vendor_order_id: str, digest: str, event: Envelope) -> bool:
    new = await db.fetchval(
        "INSERT INTO acknowledgements (vendor_order_id, digest) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
        vendor_order_id,
        digest,
    )
    if new:
        await enqueue_many(db, [event])
    return bool(new)


async def pickup_seen(db: Queryable, vendor: str, name: str, size: int, digest: str) -> dict[str, Any] | None:
    row = await db.fetchrow(
        "SELECT id, state, put_away FROM pickups WHERE vendor = $1 AND name = $2 AND size = $3 AND digest = $4",
        vendor,
        name,
        size,
        digest,
    )
    return dict(row) if row else None


async def record_pickup(
    db: Queryable,
    *,
    vendor: str,
    kind: str,
    name: str,
    size: int,
    digest: str,
    state: str,
    rows: int,
    applied: int,
    errors: list[dict[str, Any]],
) -> int:
    pickup_id: int = await db.fetchval(
        "INSERT INTO pickups (vendor, kind, name, size, digest, state, rows, applied, errors)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb) RETURNING id",
        vendor,
        kind,
        name,
        size,
        digest,
        state,
        rows,
        applied,
        errors,
    )
    return pickup_id


async def mark_put_away(db: Queryable, pickup_id: int) -> None:
    await db.execute("UPDATE pickups SET put_away = true WHERE id = $1", pickup_id)


async def list_pickups(db: Queryable, vendor: str | None, limit: int) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT id, vendor, kind, name, size, digest, state, rows, applied, errors, picked_at, put_away"
        " FROM pickups WHERE ($1::text IS NULL OR vendor = $1) ORDER BY id DESC LIMIT $2",
        vendor,
        limit,
    )
    return [
        {**dict(row), "errors": json.loads(row["errors"]) if isinstance(row["errors"], str) else row["errors"]}
        for row in rows
    ]


async def last_pickup(db: Queryable, vendor: str) -> dict[str, Any] | None:
    row = await db.fetchrow(
        "SELECT max(picked_at) AS last_pickup_at, count(*) FILTER (WHERE state = 'rejected') AS rejected_files"
        " FROM pickups WHERE vendor = $1",
        vendor,
    )
    return dict(row) if row else None
