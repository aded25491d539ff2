"""What each shop may sell of a SKU, and what it was last told. A level whose ``wanted`` differs from
``pushed`` is due; a round takes up to a platform batch of one shop's due levels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from shared.db import Queryable


async def want(db: Queryable, skus: Sequence[str], available: Sequence[int]) -> int:
    """Every shop that pushes stock should sell ``available`` of each SKU; answers how many levels changed."""
    rows = await db.fetch(
        "INSERT INTO stock_levels (shop, sku, wanted)"
        " SELECT s.code, l.sku, l.available FROM shops s,"
        "   unnest($1::text[], $2::int[]) AS l(sku, available) WHERE s.push_stock"
        " ON CONFLICT (shop, sku) DO UPDATE SET wanted = excluded.wanted, changed_at = now(),"
        "   next_attempt_at = now(), attempts = 0, unknown = false"
        " WHERE stock_levels.wanted IS DISTINCT FROM excluded.wanted"
        " RETURNING sku",
        list(skus),
        [max(0, value) for value in available],
    )
    return len(rows)


@dataclass(frozen=True)
class DueLevel:
    sku: str
    wanted: int
    attempts: int


async def claim(db: asyncpg.Pool, limit: int, lease_seconds: float) -> tuple[str, list[DueLevel]] | None:
    """Up to ``limit`` due levels of the shop whose oldest due level waited longest, leased."""
    rows = await db.fetch(
        "WITH first AS (SELECT shop FROM stock_levels WHERE pushed IS DISTINCT FROM wanted AND next_attempt_at <= now()"
        "   ORDER BY next_attempt_at LIMIT 1),"
        " due AS (SELECT l.shop, l.sku FROM stock_levels l, first WHERE l.shop = first.shop"
        "   AND l.pushed IS DISTINCT FROM l.wanted AND l.next_attempt_at <= now()"
        "   ORDER BY l.sku LIMIT $1 FOR UPDATE OF l SKIP LOCKED)"
        " UPDATE stock_levels s SET next_attempt_at = now() + make_interval(secs => $2), attempts = s.attempts + 1"
        " FROM due WHERE s.shop = due.shop AND s.sku = due.sku"
        " RETURNING s.shop, s.sku, s.wanted, s.attempts",
        limit,
        lease_seconds,
    )
    if not rows:
        return None
    return rows[0]["shop"], [DueLevel(r["sku"], r["wanted"], r["attempts"]) for r in rows]


async def pushed(db: Queryable, shop: str, levels: Sequence[DueLevel], unknown: Sequence[str]) -> None:
    """The shop was told these levels (or sells no such SKU: ``unknown``, not asked again until it changes).
    A level whose wanted value changed meanwhile stays due."""
    unknown_set = set(unknown)
    await db.execute(
        "UPDATE stock_levels s SET pushed = v.wanted, unknown = v.unknown, pushed_at = now(), attempts = 0,"
        "  last_error = NULL, next_attempt_at = now()"
        " FROM unnest($2::text[], $3::int[], $4::bool[]) AS v(sku, wanted, unknown)"
        " WHERE s.shop = $1 AND s.sku = v.sku",
        shop,
        [level.sku for level in levels],
        [level.wanted for level in levels],
        [level.sku in unknown_set for level in levels],
    )


async def failed(db: Queryable, shop: str, skus: Sequence[str], error: str, retry_in: float) -> None:
    await db.execute(
        "UPDATE stock_levels SET last_error = $3, next_attempt_at = now() + make_interval(secs => $4)"
        " WHERE shop = $1 AND sku = ANY($2::text[])",
        shop,
        list(skus),
        error,
        retry_in,
    )


async def pending(db: Queryable) -> dict[str, int]:
    rows = await db.fetch(
        "SELECT shop, count(*) AS n FROM stock_levels WHERE pushed IS DISTINCT FROM wanted GROUP BY shop"
    )
    return {row["shop"]: row["n"] for row in rows}


async def level(db: Queryable, shop: str, sku: str) -> dict[str, object] | None:
    row = await db.fetchrow(
        "SELECT sku, wanted, pushed, unknown, changed_at, pushed_at, attempts, last_error FROM stock_levels"
        " WHERE shop = $1 AND sku = $2",
        shop,
        sku,
    )
    return dict(row) if row else None
