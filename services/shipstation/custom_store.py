"""The Custom Store endpoint ShipStation calls (``GET|POST /shipstation/{vendor}``): its protocol
(the action, export dates and page, the notice body), its credentials (HTTP Basic, or the
``SS-UserName``/``SS-Password`` query parameters ShipStation also appends) with the failed-login
throttle, and its answers: XML for an export, plain text otherwise. Each call is parsed here and
handed to one use case."""

from __future__ import annotations

import re
import time
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import structlog
from aiohttp import web

from services.shipstation import credentials
from services.shipstation.fragment_cache import FragmentCache
from services.shipstation.repository import StoreConnection
from services.shipstation.shipnotice import MAX_NOTICE_BYTES, ShipNoticeError, parse_ship_notice
from services.shipstation.timezones import parse_export_datetime
from services.shipstation.use_cases import calls, export, notices
from services.shipstation.use_cases.ports import StoreCall, StorePorts
from shared.throttle import record_auth_failure, throttled_for

log = structlog.get_logger(__name__)
MAX_PAGE = 1_000_000
_PAGE_NUMBER = re.compile(r"[0-9]{1,7}")  # ASCII only: str.isdigit() also takes "²", which int() refuses
LOGGED_PARAMETERS = (
    "action",
    "start_date",
    "end_date",
    "page",
    "order_number",
    "carrier",
    "service",
    "tracking_number",
)
"""The query parameters of ShipStation's protocol that may appear in logs: never its credentials."""
UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'Basic realm="Dropship Router", charset="UTF-8"'}


def logged_query(query: Mapping[str, str]) -> dict[str, str]:
    """The query as it may be logged: ShipStation's own parameters only (no SS-UserName/SS-Password)."""
    return {key: query[key][:100] for key in LOGGED_PARAMETERS if key in query}


def given_credentials(request: web.Request) -> tuple[str, str] | None:
    """The username and password the call carries: HTTP Basic, else the query parameters ShipStation
    appends for hosts that strip the Authorization header."""
    given = credentials.parse_basic_auth(request.headers.get("Authorization"))
    if given is not None:
        return given
    user, password = request.query.get("SS-UserName"), request.query.get("SS-Password")
    if user is None or password is None:
        # Some hosts strip the query's case; accept the lower-case spelling as well.
        user, password = request.query.get("ss-username"), request.query.get("ss-password")
    return (user, password) if user is not None and password is not None else None


class BadExportRequest(ValueError):
    pass


@dataclass(frozen=True)
class ExportQuery:
    start: datetime
    end: datetime
    start_text: str
    end_text: str
    page: int


def parse_export_query(query: Mapping[str, str], zone: zoneinfo.ZoneInfo) -> ExportQuery:
    """``start_date``/``end_date`` (``MM/dd/yyyy HH:mm`` in the vendor's zone) and ``page`` (1-based,
    missing means 1), as the Custom Store guide defines them; ``BadExportRequest`` says what is wrong."""
    try:
        start_text, end_text = query["start_date"], query["end_date"]
    except KeyError as missing:
        raise BadExportRequest(f"missing {missing.args[0]}") from None
    try:
        start = parse_export_datetime(start_text, zone)
        end = parse_export_datetime(end_text, zone)
    except ValueError as error:
        raise BadExportRequest(str(error)) from None
    page_text = query.get("page", "1").strip() or "1"
    if not _PAGE_NUMBER.fullmatch(page_text) or not 1 <= int(page_text) <= MAX_PAGE:
        raise BadExportRequest(f"page must be a whole number from 1 to {MAX_PAGE}")
    if start > end:
        raise BadExportRequest("start_date is after end_date")
    return ExportQuery(start, end, start_text, end_text, int(page_text))


async def read_body_within(request: web.Request, limit: int) -> bytes | None:
    """The whole body, or ``None`` as soon as it is longer than ``limit`` (the rest is not read).

    ``StreamReader.read(n)`` answers whatever has arrived, up to ``n`` bytes, so one call would cut a
    notice that arrives in several TCP segments or chunks: read until the end instead.
    """
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def text_response(status: int, text: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=text + "\n", content_type="text/plain", headers=headers)


class CustomStoreEndpoint:
    def __init__(
        self,
        ports: StorePorts,
        verified: credentials.VerifiedCredentials,
        fragments: FragmentCache,
        wake_relay: Callable[[], None],
    ) -> None:
        self.ports = ports
        self.verified = verified
        self.fragments = fragments
        self.wake_relay = wake_relay

    def routes(self) -> list[web.RouteDef]:
        return [
            web.route("GET", "/shipstation/{vendor}", self.handle),
            web.route("POST", "/shipstation/{vendor}", self.handle),
        ]

    async def handle(self, request: web.Request) -> web.Response:
        call = StoreCall(request.match_info["vendor"], time.perf_counter())
        structlog.contextvars.bind_contextvars(vendor=call.vendor)
        response = await self._answer(request, call)
        # The access line names only the parameters ShipStation's protocol defines, never the
        # credentials it appends to the query (SS-UserName, SS-Password) or anything unknown.
        log.info(
            "shipstation call",
            method=request.method,
            query=logged_query(request.query),
            status=response.status,
            duration_ms=round((time.perf_counter() - call.started) * 1000, 1),
        )
        return response

    async def _answer(self, request: web.Request, call: StoreCall) -> web.Response:
        action = request.query.get("action", "").strip().lower()
        # An address that failed too often lately is refused before its credentials are even checked.
        wait = throttled_for(request)
        if wait is not None:
            return text_response(
                429, f"Too many failed logins from this address: try again in {wait} s", {"Retry-After": str(wait)}
            )
        caller = await calls.authenticate(call.vendor, given_credentials(request), self.ports, self.verified)
        if not caller.authenticated:
            record_auth_failure(request)
            await calls.refuse_credentials(call, caller.connection, action, self.ports)
            return text_response(401, "Unauthorized: wrong or missing credentials", UNAUTHORIZED_HEADERS)
        if caller.connection is None:  # pragma: no cover - authenticated implies a connection
            raise AssertionError("authenticated without a connection")
        if action == "export":
            return await self._export(request, call, caller.connection)
        if action == "shipnotify":
            return await self._shipnotify(request, call, caller.connection)
        reason = await calls.refuse_unknown_action(call, action, self.ports)
        return text_response(400, f"Bad request: {reason}")

    async def _export(self, request: web.Request, call: StoreCall, connection: StoreConnection) -> web.Response:
        try:
            query = parse_export_query(request.query, zoneinfo.ZoneInfo(connection.timezone))
        except BadExportRequest as error:
            await export.refuse_export(call, str(error), self.ports)
            return text_response(400, f"Bad request: {error}")
        command = export.ExportPage(connection, query.start, query.end, query.start_text, query.end_text, query.page)
        body = await export.export_page(command, call, self.ports, self.fragments, self.wake_relay)
        return web.Response(body=body, content_type="text/xml", charset="utf-8")

    async def _shipnotify(self, request: web.Request, call: StoreCall, connection: StoreConnection) -> web.Response:
        too_large = f"body over {MAX_NOTICE_BYTES} bytes"
        if request.content_length is not None and request.content_length > MAX_NOTICE_BYTES:
            await notices.refuse_notice(call, too_large, self.ports)
            return text_response(413, f"Payload too large: {too_large}")
        body = await read_body_within(request, MAX_NOTICE_BYTES)
        if body is None:
            await notices.refuse_notice(call, too_large, self.ports)
            return text_response(413, f"Payload too large: {too_large}")
        try:
            notice = parse_ship_notice(body, dict(request.query), zoneinfo.ZoneInfo(connection.timezone))
        except ShipNoticeError as error:
            await notices.refuse_notice(call, error.reason, self.ports)
            return text_response(400, f"Bad request: {error.reason}")
        await notices.accept_ship_notice(
            notices.AcceptShipNotice(connection, notice), call, self.ports, self.wake_relay
        )
        return text_response(200, "OK")
