"""Stock: the feeds each vendor sent (applied, ignored or quarantined), the levels they set, the
reservations they end, and the SKUs whose availability must be announced."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from shared.db import Queryable


async def vendor_levels(db: Queryable, vendor: str) -> tuple[dict[str, int | None], dict[str, str]]:
    """The vendor's current stock per SKU, and our SKU per vendor SKU (for feeds naming theirs)."""
    rows = await db.fetch("SELECT sku, vendor_sku, stock FROM sources WHERE vendor = $1", vendor)
    levels = {row["sku"]: row["stock"] for row in rows}
    by_vendor_sku = {row["vendor_sku"]: row["sku"] for row in rows if row["vendor_sku"]}
    return levels, by_vendor_sku


async def record_feed(
    db: Queryable,
    *,
    feed_id: str,
    vendor: str,
    mode: str,
    source: str,
    as_of: datetime,
    state: str,
    reason: str,
    rows: int,
    changed: int,
    unknown: Sequence[str],
    levels: Mapping[str, int] | None,
) -> bool:
    """Record a feed and what became of it; answers False when this feed id was recorded before."""
    inserted = await db.fetchval(
        "INSERT INTO feeds (id, vendor, mode, source, as_of, state, reason, rows, changed, unknown, levels, decided_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, CASE WHEN $6 = 'quarantined' THEN NULL ELSE now() END)"
        " ON CONFLICT (id) DO NOTHING RETURNING true",
        feed_id,
        vendor,
        mode,
        source,
        as_of,
        state,
        reason,
        rows,
        changed,
        list(unknown),
        dict(levels) if levels is not None else None,
    )
    return bool(inserted)


async def apply_levels(
    db: Queryable,
    vendor: str,
    levels: Mapping[str, int],
    counted: Sequence[str],
    as_of: datetime,
    *,
    snapshot: bool,
) -> list[str]:
    """Set the vendor's changed ``levels``, date every SKU the feed counted (a snapshot: all of the
    vendor's; a delta: ``counted``), and end the reservations the vendor has now counted: those of vendor
    orders it acknowledged or picked up before ``as_of``. Answers every SKU whose availability may have
    changed."""
    rows = await db.fetch(
        "WITH set_levels AS ("
        "  UPDATE sources s SET stock = l.stock, stock_as_of = $4"
        "  FROM unnest($2::text[], $3::int[]) AS l(sku, stock) WHERE s.vendor = $1 AND s.sku = l.sku"
        "  RETURNING s.sku"
        "), aged AS ("
        "  UPDATE sources SET stock_as_of = $4 WHERE vendor = $1 AND stock IS NOT NULL"
        "    AND ($5 OR sku = ANY($6::text[])) AND sku <> ALL($2::text[])"
        "), stamped AS ("
        "  UPDATE vendors SET last_feed_as_of = greatest(coalesce(last_feed_as_of, $4), $4) WHERE code = $1"
        "), counted AS ("
        "  UPDATE vendor_order_lines l SET reserving = false FROM vendor_orders v"
        "  WHERE v.id = l.vendor_order_id AND l.reserving AND l.vendor = $1 AND v.counted_at < $4"
        "    AND ($5 OR l.sku = ANY($6::text[]))"
        "  RETURNING l.sku"
        ")"
        " SELECT sku FROM set_levels UNION SELECT sku FROM counted",
        vendor,
        list(levels),
        list(levels.values()),
        as_of,
        snapshot,
        list(counted),
    )
    skus = sorted({row["sku"] for row in rows})
    await mark_changed(db, skus)
    return skus


async def mark_changed(db: Queryable, skus: Sequence[str]) -> None:
    if skus:
        await db.execute(
            "INSERT INTO availability_changes (sku) SELECT DISTINCT unnest($1::text[])",
            list(skus),
        )


async def claim_changes(db: Queryable, limit: int) -> list[str]:
    """Take up to ``limit`` logged availability changes, oldest first (this transaction's; others skip
    them), and answer their SKUs as logged: a SKU changed by several orders comes once per change."""
    rows = await db.fetch(
        "DELETE FROM availability_changes WHERE id IN ("
        "  SELECT id FROM availability_changes ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED"
        ") RETURNING sku",
        limit,
    )
    return [row["sku"] for row in rows]


async def last_applied_as_of(db: Queryable, vendor: str) -> datetime | None:
    as_of: datetime | None = await db.fetchval("SELECT last_feed_as_of FROM vendors WHERE code = $1", vendor)
    return as_of


async def get_feed(db: Queryable, feed_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    sql = "SELECT * FROM feeds WHERE id = $1" + (" FOR UPDATE" if lock else "")  # noqa: S608 - constant SQL
    row = await db.fetchrow(sql, feed_id)
    return dict(row) if row else None


async def settle_feed(db: Queryable, feed_id: str, state: str, reason: str, changed: int) -> None:
    await db.execute(
        "UPDATE feeds SET state = $2, reason = $3, changed = $4, levels = NULL, decided_at = now() WHERE id = $1",
        feed_id,
        state,
        reason,
        changed,
    )


async def list_feeds(db: Queryable, vendor: str | None, limit: int) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT id, vendor, mode, source, as_of, received_at, state, reason, rows, changed, unknown, decided_at"
        " FROM feeds WHERE ($1::text IS NULL OR vendor = $1) ORDER BY received_at DESC LIMIT $2",
        vendor,
        limit,
    )
    return [dict(row) for row in rows]
