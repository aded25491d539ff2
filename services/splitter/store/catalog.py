"""The catalog: SKUs and their sources (vendor, vendor SKU, cost, priority, stock and its age), with the
units that open vendor orders reserve."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.splitter.routing.model import Source
from shared.db import Queryable


@dataclass(frozen=True)
class SourceEntry:
    """A source as ops set it in the catalog; ``stock`` none: not tracked."""

    vendor: str
    vendor_sku: str | None = None
    cost: Decimal | None = None
    stock: int | None = None
    priority: int = 100


async def replace_catalog_entry(db: Queryable, sku: str, name: str | None, sources: Sequence[SourceEntry]) -> None:
    """Set ``sku``'s name and sources, replacing all. A stock given here is counted now (``stock_as_of``);
    a source kept without a stock keeps what its feeds said."""
    await db.execute(
        "INSERT INTO catalog (sku, name) VALUES ($1, $2)"
        " ON CONFLICT (sku) DO UPDATE SET name = coalesce(excluded.name, catalog.name), updated_at = now()",
        sku,
        name,
    )
    await db.execute(
        "WITH given AS ("
        "   SELECT * FROM unnest($2::text[], $3::text[], $4::numeric[], $5::int[], $6::int[])"
        "   AS g(vendor, vendor_sku, cost, stock, priority)"
        " ), dropped AS ("
        "   DELETE FROM sources s WHERE s.sku = $1 AND s.vendor <> ALL($2::text[])"
        " )"
        " INSERT INTO sources (sku, vendor, vendor_sku, cost, stock, priority, stock_as_of)"
        " SELECT $1, vendor, vendor_sku, cost, stock, priority, CASE WHEN stock IS NULL THEN NULL ELSE now() END"
        " FROM given"
        " ON CONFLICT (sku, vendor) DO UPDATE SET vendor_sku = excluded.vendor_sku, cost = excluded.cost,"
        "   priority = excluded.priority,"
        "   stock = CASE WHEN excluded.stock IS NULL THEN sources.stock ELSE excluded.stock END,"
        "   stock_as_of = CASE WHEN excluded.stock IS NULL THEN sources.stock_as_of ELSE now() END",
        sku,
        [s.vendor for s in sources],
        [s.vendor_sku for s in sources],
        [s.cost for s in sources],
        [s.stock for s in sources],
        [s.priority for s in sources],
    )
    await db.execute("INSERT INTO availability_changes (sku) VALUES ($1)", sku)


RESERVED_SQL = """
SELECT s.sku, s.vendor, s.vendor_sku, s.cost, s.stock, s.priority, s.stock_as_of,
       CASE WHEN $2 OR s.stock IS NOT NULL  -- routing skips untracked sources: they count as in stock anyway
            THEN coalesce(t.units, 0) + coalesce(c.units, 0) ELSE 0 END::int AS reserved
FROM sources s
LEFT JOIN reserved_units t ON t.sku = s.sku AND t.vendor = s.vendor
LEFT JOIN LATERAL (
    SELECT sum(units) AS units FROM reservation_changes c WHERE c.sku = s.sku AND c.vendor = s.vendor
) c ON true
WHERE s.sku = ANY($1::text[])
"""
"""Each source of the SKUs ``$1`` with the units open vendor orders reserve on it: the running total
and the changes not folded into it yet (migration 006 says how they are kept)."""


async def fold_reservation_changes(db: Queryable, limit: int) -> int:
    """Fold up to ``limit`` of the oldest reservation changes into the running totals (others' rounds
    skip them); answers how many it folded. What a source reserves is the same before and after."""
    folded: int = await db.fetchval(
        "WITH taken AS ("
        "  DELETE FROM reservation_changes WHERE id IN ("
        "    SELECT id FROM reservation_changes ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED"
        "  ) RETURNING sku, vendor, units"
        "), totals AS ("
        "  INSERT INTO reserved_units (sku, vendor, units)"
        "  SELECT sku, vendor, sum(units) FROM taken GROUP BY sku, vendor ORDER BY sku, vendor"
        "  ON CONFLICT (sku, vendor) DO UPDATE SET units = reserved_units.units + excluded.units"
        ")"
        " SELECT count(*) FROM taken",
        limit,
    )
    return folded


def _source(row: Any) -> Source:
    return Source(
        vendor=row["vendor"],
        vendor_sku=row["vendor_sku"],
        cost=row["cost"],
        stock=row["stock"],
        priority=row["priority"],
        stock_as_of=row["stock_as_of"],
        reserved=row["reserved"],
    )


async def sources_for(
    db: Queryable, skus: Sequence[str], *, untracked_reservations: bool = False
) -> dict[str, tuple[Source, ...]]:
    """Each SKU's sources with their stock and the units open vendor orders reserve, by SKU. Routing
    leaves out what untracked sources reserve (it changes nothing there, and costs a scan of their open
    lines); the stock view asks for it (``untracked_reservations``)."""
    found: dict[str, list[Source]] = {}
    sql = RESERVED_SQL + " ORDER BY s.sku, s.priority, s.vendor"
    for row in await db.fetch(sql, list(skus), untracked_reservations):
        found.setdefault(row["sku"], []).append(_source(row))
    return {sku: tuple(sources) for sku, sources in found.items()}


async def get_catalog_entry(db: Queryable, sku: str) -> dict[str, Any] | None:
    row = await db.fetchrow("SELECT sku, name, updated_at FROM catalog WHERE sku = $1", sku)
    if row is None:
        return None
    sources = await db.fetch(
        "SELECT vendor, vendor_sku, cost, stock, stock_as_of, priority FROM sources WHERE sku = $1"
        " ORDER BY priority, vendor",
        sku,
    )
    return {**dict(row), "sources": [dict(s) for s in sources]}


async def carriers(db: Queryable, sku: str) -> set[str]:
    """The vendors with a source for ``sku``."""
    return {row["vendor"] for row in await db.fetch("SELECT vendor FROM sources WHERE sku = $1", sku)}
