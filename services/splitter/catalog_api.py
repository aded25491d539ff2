"""The catalog at merchant scale over HTTP: ``GET /v1/catalog`` (search, page by page) and
``POST /v1/catalog:import`` (a CSV file of sources). Each route checks access, parses the request,
calls one use case of :mod:`services.splitter.catalog_admin` and answers."""

from __future__ import annotations

import asyncio

from aiohttp import web

from services.splitter.catalog_admin import (
    DEFAULT_PAGE,
    MAX_PAGE,
    MAX_QUERY_CHARACTERS,
    Database,
    InvalidCursor,
    SkusMapped,
    import_catalog,
    list_catalog,
)
from services.splitter.catalog_csv import MAX_IMPORT_BYTES, CsvTooLarge, InvalidCsv, parse_catalog
from shared.http import ApiError, json_response, require_admin
from shared.messaging.topology import is_valid_vendor_code

IMPORT_MEDIA_TYPES = frozenset({"text/csv", "application/octet-stream"})


class CatalogAdminApi:
    def __init__(self, pool: Database, on_skus_mapped: SkusMapped) -> None:
        self.pool = pool
        self.on_skus_mapped = on_skus_mapped

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v1/catalog", self.list_catalog),
            web.post("/v1/catalog:import", self.import_catalog),
        ]

    async def list_catalog(self, request: web.Request) -> web.Response:
        require_admin(request)
        query = request.query
        vendor = query.get("vendor")
        if vendor is not None and not is_valid_vendor_code(vendor):
            raise ApiError(400, "invalid_vendor", "a vendor code is 1-50 of a-z, 0-9, '-' and '_'")
        q = query.get("q")
        if q is not None and (len(q) > MAX_QUERY_CHARACTERS or not _storable(q)):
            raise ApiError(400, "invalid_query", f"q is text of at most {MAX_QUERY_CHARACTERS} characters")
        limit = _limit(query.get("limit"))
        try:
            page = await list_catalog(self.pool, vendor=vendor, q=q, cursor=query.get("cursor") or None, limit=limit)
        except InvalidCursor as error:
            raise ApiError(400, "invalid_cursor", str(error)) from None
        return json_response(page.as_dict())

    async def import_catalog(self, request: web.Request) -> web.Response:
        require_admin(request)
        if request.content_type not in IMPORT_MEDIA_TYPES:
            raise ApiError(415, "unsupported_media_type", "send the file as text/csv (or application/octet-stream)")
        dry_run = _flag(request.query.get("dry_run", ""), "dry_run")
        body = await _read_file(request)
        try:
            # Off the event loop: 200,000 rows take seconds to check, and consumers share this loop.
            parsed = await asyncio.to_thread(parse_catalog, body)
        except CsvTooLarge as error:
            raise ApiError(413, "too_large", str(error)) from None
        except InvalidCsv as error:
            raise ApiError(400, "invalid_csv", str(error)) from None
        result = await import_catalog(self.pool, parsed, on_skus_mapped=self.on_skus_mapped, dry_run=dry_run)
        return json_response(result.as_dict())


def _limit(text: str | None) -> int:
    if text is None or text == "":
        return DEFAULT_PAGE
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PAGE:
        raise ApiError(400, "invalid_limit", f"limit is a whole number from 1 to {MAX_PAGE}")
    return int(text)


def _flag(text: str, name: str) -> bool:
    if text not in {"true", "false", ""}:
        raise ApiError(400, f"invalid_{name}", f"{name} is true or false")
    return text == "true"


def _storable(text: str) -> bool:
    """Whether PostgreSQL can compare ``text``: no NUL, and no lone surrogate (a query string's
    percent-escapes that were not UTF-8)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


async def _read_file(request: web.Request) -> bytes:
    """The body, up to this route's own limit (an import is larger than the service-wide
    ``DROPSHIP_MAX_BODY_BYTES``, which ``request.read()`` would apply)."""
    too_large = ApiError(413, "body_too_large", f"the file exceeds the limit of {MAX_IMPORT_BYTES} bytes; split it")
    if request.content_length is not None and request.content_length > MAX_IMPORT_BYTES:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > MAX_IMPORT_BYTES:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
