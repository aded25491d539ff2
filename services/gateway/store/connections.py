"""Stored connections: settings in the open, secrets sealed, the vendor API key as a hash, and the
inbound poll schedule (a poll leases its vendor's row so one instance polls each vendor at a time)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.db import Queryable


@dataclass(frozen=True)
class StoredConnection:
    vendor: str
    kind: str
    transport: str
    format: str
    settings: dict[str, Any]
    sealed_secrets: str
    created_at: datetime
    updated_at: datetime
    last_polled_at: datetime | None
    last_poll_error: str | None


_COLUMNS = (
    "vendor, kind, transport, format, settings, sealed_secrets, created_at, updated_at, last_polled_at, last_poll_error"
)


def _connection(row: Any) -> StoredConnection:
    values = dict(row)
    values["settings"] = json.loads(values["settings"]) if isinstance(values["settings"], str) else values["settings"]
    return StoredConnection(**values)


async def upsert_connection(
    db: Queryable,
    vendor: str,
    kind: str,
    transport: str,
    format_: str,
    settings: dict[str, Any],
    sealed_secrets: str,
    api_key_hash: str,
) -> bool:
    """Create or replace the connection; a replaced one keeps its API key. Answers whether it is new."""
    created: bool = await db.fetchval(
        "INSERT INTO connections AS c (vendor, kind, transport, format, settings, sealed_secrets, api_key_hash)"
        " VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)"
        " ON CONFLICT (vendor) DO UPDATE SET kind = excluded.kind, transport = excluded.transport,"
        "   format = excluded.format, settings = excluded.settings, sealed_secrets = excluded.sealed_secrets,"
        "   updated_at = now(), next_poll_at = now()"
        " RETURNING (xmax = 0)",
        vendor,
        kind,
        transport,
        format_,
        settings,
        sealed_secrets,
        api_key_hash,
    )
    # Other instances' deliverers wake too: orders that waited for this connection are due now.
    await db.execute("SELECT pg_notify('deliveries_' || current_schema(), '')")
    return created


async def get_connection(db: Queryable, vendor: str) -> StoredConnection | None:
    row = await db.fetchrow(f"SELECT {_COLUMNS} FROM connections WHERE vendor = $1", vendor)  # noqa: S608
    return _connection(row) if row else None


async def list_connections(db: Queryable) -> list[StoredConnection]:
    rows = await db.fetch(f"SELECT {_COLUMNS} FROM connections ORDER BY vendor")  # noqa: S608
    return [_connection(row) for row in rows]


async def set_api_key(db: Queryable, vendor: str, api_key_hash: str) -> bool:
    status: str = await db.execute("UPDATE connections SET api_key_hash = $2 WHERE vendor = $1", vendor, api_key_hash)
    return status.endswith(" 1")


async def vendor_of_api_key(db: Queryable, api_key_hash: str) -> str | None:
    vendor: str | None = await db.fetchval("SELECT vendor FROM connections WHERE api_key_hash = $1", api_key_hash)
    return vendor


async def claim_due_polls(db: Queryable, limit: int, lease_seconds: float) -> list[StoredConnection]:
    """Lease the SFTP connections whose inbound poll is due (another instance skips them)."""
    rows = await db.fetch(
        "UPDATE connections c SET next_poll_at = now() + make_interval(secs => $2)"  # noqa: S608 - constant SQL
        " WHERE c.vendor IN ("
        "   SELECT vendor FROM connections WHERE transport = 'sftp' AND next_poll_at <= now()"
        "     AND jsonb_strip_nulls(coalesce(settings->'sftp'->'inbound', '{}'::jsonb)) <> '{}'::jsonb"
        "   ORDER BY next_poll_at LIMIT $1 FOR UPDATE SKIP LOCKED)"
        f" RETURNING {_COLUMNS}",
        limit,
        lease_seconds,
    )
    return [_connection(row) for row in rows]


async def finish_poll(db: Queryable, vendor: str, poll_seconds: float, error: str | None) -> None:
    await db.execute(
        "UPDATE connections SET next_poll_at = now() + make_interval(secs => $2), last_polled_at = now(),"
        " last_poll_error = $3 WHERE vendor = $1",
        vendor,
        poll_seconds,
        error,
    )


async def sealed_values(db: Queryable) -> list[tuple[str, str]]:
    rows = await db.fetch("SELECT vendor, sealed_secrets FROM connections")
    return [(row["vendor"], row["sealed_secrets"]) for row in rows]
