"""The catalog at merchant scale: importing a whole file of SKUs and sources, and listing the catalog
page by page. Each use case owns its transaction; the SQL is here too, as it serves these two alone.

An import is **partial**: the rows that pass (:mod:`services.splitter.catalog_csv`, then "does the
vendor exist") are written, the others come back as errors by row and column, so fixing a file means
sending again only what failed (sending the whole file again is harmless: a row that changes nothing
is counted as unchanged). It **adds and updates, never deletes**: a source of the same SKU for a vendor
the file does not name stays, and so do a source's stock and every column the file's header leaves
out. A dry run does all of it inside a transaction that is rolled back, so its counts are exact.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from services.splitter.catalog_csv import CatalogRow, ParsedCatalog, RowError
from shared.db import Connection

MAX_ERRORS_LISTED = 1_000
DEFAULT_PAGE = 100
MAX_PAGE = 500
MAX_QUERY_CHARACTERS = 100

SkusMapped = Callable[[Connection, Sequence[str]], Awaitable[None]]
"""Called inside the import's transaction with the SKUs that got a new source (sorted), so orders held
for want of one are released in the same commit."""


class Database(Protocol):
    """Where a use case borrows its connection (an asyncpg pool)."""

    def acquire(self) -> AbstractAsyncContextManager[Connection]: ...


class InvalidCursor(ValueError):
    """A ``cursor`` that no page of this listing answered."""


@dataclass(frozen=True)
class ImportResult:
    dry_run: bool
    rows_read: int
    rows_imported: int
    rows_failed: int
    catalog_created: int
    catalog_updated: int
    sources_created: int
    sources_updated: int
    sources_unchanged: int
    errors: list[RowError]
    """Every error, in row order; :meth:`as_dict` lists the first :data:`MAX_ERRORS_LISTED`."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "rows_read": self.rows_read,
            "rows_imported": self.rows_imported,
            "rows_failed": self.rows_failed,
            "catalog": {"created": self.catalog_created, "updated": self.catalog_updated},
            "sources": {
                "created": self.sources_created,
                "updated": self.sources_updated,
                "unchanged": self.sources_unchanged,
            },
            "error_count": len(self.errors),
            "errors": [error.as_dict() for error in self.errors[:MAX_ERRORS_LISTED]],
        }


class _RolledBack(Exception):
    """Leaves a dry run's transaction so that it rolls back."""


_STAGING_SQL = """
CREATE TEMPORARY TABLE catalog_import (
    row integer NOT NULL, sku text NOT NULL, vendor text NOT NULL, name text, vendor_sku text,
    cost numeric(12, 2), priority integer NOT NULL
) ON COMMIT DROP
"""
_STAGED_COLUMNS = ("row", "sku", "vendor", "name", "vendor_sku", "cost", "priority")

# One name per SKU: the last row that gives one. An empty name keeps the stored one, so an entry whose
# name does not change is not written (nor counted).
_UPSERT_CATALOG_SQL = """
WITH named AS (
    SELECT DISTINCT ON (sku) sku, name FROM catalog_import ORDER BY sku, (name IS NULL), row DESC
), written AS (
    INSERT INTO catalog AS c (sku, name) SELECT sku, name FROM named ORDER BY sku
    ON CONFLICT (sku) DO UPDATE SET name = excluded.name, updated_at = now()
        WHERE excluded.name IS NOT NULL AND excluded.name IS DISTINCT FROM c.name
    RETURNING (xmax = 0) AS created
)
SELECT count(*) FILTER (WHERE created) AS created, count(*) FILTER (WHERE NOT created) AS updated FROM written
"""

# $1-$3: whether the header named vendor_sku, cost, priority; a column it left out stays as stored.
_UPSERT_SOURCES_SQL = """
WITH written AS (
    INSERT INTO sources AS s (sku, vendor, vendor_sku, cost, priority)
    SELECT sku, vendor, vendor_sku, cost, priority FROM catalog_import ORDER BY sku, vendor
    ON CONFLICT (sku, vendor) DO UPDATE SET
        vendor_sku = CASE WHEN $1 THEN excluded.vendor_sku ELSE s.vendor_sku END,
        cost = CASE WHEN $2 THEN excluded.cost ELSE s.cost END,
        priority = CASE WHEN $3 THEN excluded.priority ELSE s.priority END
        WHERE ($1 AND excluded.vendor_sku IS DISTINCT FROM s.vendor_sku)
           OR ($2 AND excluded.cost IS DISTINCT FROM s.cost)
           OR ($3 AND excluded.priority IS DISTINCT FROM s.priority)
    RETURNING s.sku, (xmax = 0) AS created
)
SELECT count(*) FILTER (WHERE created) AS created, count(*) FILTER (WHERE NOT created) AS updated,
       coalesce(array_agg(DISTINCT sku ORDER BY sku) FILTER (WHERE created), '{}') AS mapped
FROM written
"""


async def import_catalog(
    pool: Database, parsed: ParsedCatalog, *, on_skus_mapped: SkusMapped, dry_run: bool = False
) -> ImportResult:
    """Write the valid rows of ``parsed`` in one transaction (see the module's description)."""
    async with pool.acquire() as connection:
        try:
            async with connection.transaction():
                result = await _import(connection, parsed, on_skus_mapped, dry_run)
                if dry_run:
                    raise _RolledBack
        except _RolledBack:
            pass
    return result


async def _import(
    connection: Connection, parsed: ParsedCatalog, on_skus_mapped: SkusMapped, dry_run: bool
) -> ImportResult:
    vendors = sorted({row.vendor for row in parsed.rows})
    known = {r["code"] for r in await connection.fetch("SELECT code FROM vendors WHERE code = ANY($1)", vendors)}
    rows: list[CatalogRow] = []
    errors = list(parsed.errors)
    for row in parsed.rows:
        if row.vendor in known:
            rows.append(row)
        else:
            errors.append(RowError(row.row, "vendor", f"no vendor {row.vendor!r}; create it first"))
    errors.sort(key=lambda error: error.row)  # stable: a row's errors stay in column order
    catalog = sources = None
    if rows:
        await connection.execute(_STAGING_SQL)
        await connection.copy_records_to_table(
            "catalog_import",
            records=[(r.row, r.sku, r.vendor, r.name, r.vendor_sku, r.cost, r.priority) for r in rows],
            columns=_STAGED_COLUMNS,
        )
        catalog = await connection.fetchrow(_UPSERT_CATALOG_SQL)
        header = parsed.columns
        sources = await connection.fetchrow(
            _UPSERT_SOURCES_SQL, "vendor_sku" in header, "cost" in header, "priority" in header
        )
        if sources is not None and sources["mapped"] and not dry_run:
            await on_skus_mapped(connection, list(sources["mapped"]))
    sources_created = sources["created"] if sources else 0
    sources_updated = sources["updated"] if sources else 0
    return ImportResult(
        dry_run=dry_run,
        rows_read=parsed.rows_read,
        rows_imported=len(rows),
        rows_failed=len({error.row for error in errors}),
        catalog_created=catalog["created"] if catalog else 0,
        catalog_updated=catalog["updated"] if catalog else 0,
        sources_created=sources_created,
        sources_updated=sources_updated,
        sources_unchanged=len(rows) - sources_created - sources_updated,
        errors=errors,
    )


@dataclass(frozen=True)
class CatalogPage:
    items: list[dict[str, Any]]
    next_cursor: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"items": self.items, "next_cursor": self.next_cursor}


def encode_cursor(sku: str) -> str:
    return base64.urlsafe_b64encode(sku.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The last SKU of the page before; :class:`InvalidCursor` for anything no page answered."""
    try:
        sku = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor("the cursor is not one a page of this listing answered") from None
    if not sku or "\x00" in sku or encode_cursor(sku) != cursor:
        raise InvalidCursor("the cursor is not one a page of this listing answered")
    return sku


def like_escaped(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern (escape character ``\\``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _page_query(limit: int, vendor: str | None, contains: str | None, after: str | None) -> tuple[str, list[Any]]:
    """The statement of one page and its arguments. A filter left out is not in the SQL, so each
    combination gets its own plan (``$1 IS NULL OR …`` would plan every listing for the worst case)."""
    arguments: list[Any] = [limit + 1]

    def argument(value: Any) -> str:
        arguments.append(value)
        return f"${len(arguments)}"

    if vendor is None:
        key, sql, conditions = "c.sku", "SELECT c.sku, c.name FROM catalog c", []
    else:
        # Walks the vendor's sources in SKU order (the index of migration 003), not the whole catalog.
        key, sql = "v.sku", "SELECT c.sku, c.name FROM sources v JOIN catalog c ON c.sku = v.sku"
        conditions = [f"v.vendor = {argument(vendor)}"]
    if after is not None:
        conditions.append(f"{key} > {argument(after)}")
    if contains is not None:
        pattern = argument(contains)
        conditions.append(
            f"(c.sku ILIKE ({pattern} || '%') ESCAPE '\\' OR c.name ILIKE ('%' || {pattern} || '%') ESCAPE '\\')"
        )
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    return f"{sql} ORDER BY {key} LIMIT $1", arguments


async def list_catalog(
    pool: Database, *, vendor: str | None = None, q: str | None = None, cursor: str | None = None, limit: int = 100
) -> CatalogPage:
    """A page of the catalog in SKU order with every source of each SKU; two queries."""
    after = decode_cursor(cursor) if cursor else None
    contains = like_escaped(q.strip()) if q and q.strip() else None
    sql, arguments = _page_query(limit, vendor, contains, after)
    async with pool.acquire() as connection:
        found = await connection.fetch(sql, *arguments)
        entries = found[:limit]
        sources = await connection.fetch(
            "SELECT sku, vendor, vendor_sku, cost, stock, priority FROM sources WHERE sku = ANY($1)"
            " ORDER BY sku, priority, vendor",
            [entry["sku"] for entry in entries],
        )
    by_sku: dict[str, list[dict[str, Any]]] = {}
    for source in sources:
        by_sku.setdefault(source["sku"], []).append({k: v for k, v in source.items() if k != "sku"})
    items = [{"sku": e["sku"], "name": e["name"], "sources": by_sku.get(e["sku"], [])} for e in entries]
    more = len(found) > limit
    return CatalogPage(items, encode_cursor(items[-1]["sku"]) if more else None)
