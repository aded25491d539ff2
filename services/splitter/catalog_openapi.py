"""The OpenAPI operations of the catalog at merchant scale (services/splitter/catalog_api.py):
``GET /v1/catalog`` and ``POST /v1/catalog:import``, for the splitter's document."""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.splitter.catalog_admin import DEFAULT_PAGE, MAX_ERRORS_LISTED, MAX_PAGE, MAX_QUERY_CHARACTERS
from services.splitter.catalog_csv import MAX_IMPORT_BYTES, MAX_ROWS
from shared.messaging.subscriptions import VENDOR_CODE_PATTERN
from shared.openapi import Body, Operation, Parameter, error, json_reply


class CatalogListedSource(BaseModel):
    vendor: str
    vendor_sku: str | None
    cost: str | None = Field(description="Decimal string.")
    stock: int | None = Field(description="Units in stock; null: not tracked.")
    priority: int


class CatalogListedEntry(BaseModel):
    sku: str
    name: str | None
    sources: list[CatalogListedSource] = Field(description="Every source of the SKU, by priority, then vendor.")


class CatalogPage(BaseModel):
    items: list[CatalogListedEntry] = Field(description="In SKU order (the database's collation).")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: this is the last.")


class CatalogImportRowError(BaseModel):
    row: int = Field(description="The file's row (a CSV record; the header is row 1).")
    column: str | None = Field(description="The column at fault; null: the row as a whole.")
    error: str


class CatalogImportCounts(BaseModel):
    created: int
    updated: int


class CatalogImportSourceCounts(CatalogImportCounts):
    unchanged: int


class CatalogImportResult(BaseModel):
    dry_run: bool
    rows_read: int = Field(description="Data rows in the file, blank rows not counted.")
    rows_imported: int
    rows_failed: int
    catalog: CatalogImportCounts = Field(description="SKUs created, and renamed (a name that changed).")
    sources: CatalogImportSourceCounts
    error_count: int = Field(description="Every error, also those not listed.")
    errors: list[CatalogImportRowError] = Field(description=f"The first {MAX_ERRORS_LISTED:,}, in row order.")


def _query(name: str, description: str, **schema: object) -> Parameter:
    return Parameter(name, "query", {"type": "string", **schema}, description)


CATALOG_IMPORT_DESCRIPTION = f"""A CSV file, UTF-8 (a byte order mark is fine), with a header row naming its columns
in any order: `sku` and `vendor` required; `name`, `vendor_sku`, `cost` and `priority` optional.
Each row adds or updates the source of one SKU at one vendor: `vendor_sku`, `cost` (a decimal with at most
2 places; empty: none) and `priority` (0-1,000,000; empty: 100) are set from the columns the header
names, and left as they are when it leaves them out; `name`, when not empty, renames the SKU. The stock
of a source, and sources of vendors the file does not name, are never changed.

The import is partial: the rows that pass are written in one transaction, the others are answered as
errors by row and column (a vendor that does not exist, an invalid cell, the same sku and vendor as an
earlier row). Orders held for want of a source for a SKU are released by the same commit. At most
{MAX_ROWS:,} rows and {MAX_IMPORT_BYTES // 1024 // 1024} MiB per request (`dropship catalog import` sends a
large file in chunks)."""

OPERATIONS = [
    Operation(
        "get",
        "/v1/catalog",
        "listCatalog",
        "SKUs with their sources, in SKU order, a page at a time; searchable.",
        "admin",
        {
            200: json_reply("A page.", CatalogPage),
            400: error(
                "A cursor no page answered (invalid_cursor), a limit outside 1-500 (invalid_limit), a malformed "
                "vendor code (invalid_vendor) or a q that is too long (invalid_query)."
            ),
        },
        parameters=(
            _query("vendor", "Only SKUs this vendor has a source for.", pattern=VENDOR_CODE_PATTERN.pattern),
            _query(
                "q",
                "SKUs that start with it, or whose name contains it, in any letter case (% and _ are literal).",
                maxLength=MAX_QUERY_CHARACTERS,
            ),
            _query("cursor", "The `next_cursor` of the page before."),
            Parameter(
                "limit",
                "query",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": DEFAULT_PAGE},
                "SKUs per page.",
            ),
        ),
        tag="admin API",
    ),
    Operation(
        "post",
        "/v1/catalog:import",
        "importCatalog",
        "Add and update sources from a CSV file; the rows that fail are answered, the others imported.",
        "admin",
        {
            200: json_reply(
                "What the import did (or, with dry_run, would do), and the rows that failed.", CatalogImportResult
            ),
            400: error(
                "The body is not a catalog file: not UTF-8, a NUL byte, no header, an unknown or repeated column, "
                "broken quoting (invalid_csv); or dry_run is neither true nor false (invalid_dry_run)."
            ),
            413: error(f"More than {MAX_IMPORT_BYTES:,} bytes (body_too_large) or {MAX_ROWS:,} rows (too_large)."),
            415: error("The body is not sent as text/csv or application/octet-stream."),
        },
        parameters=(
            Parameter(
                "dry_run",
                "query",
                {"type": "boolean", "default": False},
                "Check every row and count what would change, inside a transaction that is rolled back.",
            ),
        ),
        request=Body({"type": "string", "description": "The CSV file."}, ("text/csv", "application/octet-stream")),
        description=CATALOG_IMPORT_DESCRIPTION,
        tag="admin API",
    ),
]
