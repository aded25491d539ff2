"""The adapter's HTTP side: the Custom Store endpoint ShipStation calls (export, shipnotify) and the
admin API (credentials, settings, problems, polls).

ShipStation gets XML or plain-text answers; the admin API answers JSON like every other service.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import time
import zoneinfo
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import aiohttp
import asyncpg
import structlog
from aiohttp import web
from prometheus_client import Counter, Histogram
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from services.shipstation import credentials, repository
from services.shipstation.shipnotice import (
    MAX_NOTICE_BYTES,
    ShipNotice,
    ShipNoticeError,
    allocate_shipment,
    notice_fingerprint,
    parse_ship_notice,
)
from services.shipstation.timezones import clocks_agree, detect_zone_mismatch, parse_export_datetime
from services.shipstation.xml_export import (
    DEFAULT_STATUS_NAMES,
    MAX_PAGES,
    ExportableOrder,
    FragmentCache,
    RejectedOrder,
    ShipStationStatus,
    export_document,
    fragment_key,
    order_fragment,
    status_name_problems,
)
from shared.contracts.shipments import ShipmentReported, ShipmentReportedData
from shared.contracts.vendor_orders import VendorOrderCreatedData
from shared.db import Connection
from shared.http import ADMIN_TOKEN_KEY, ApiError, json_response, read_model, require_admin
from shared.messaging.topology import is_valid_vendor_code
from shared.service import Runtime
from shared.throttle import record_auth_failure, throttled_for

log = structlog.get_logger(__name__)
MAX_PAGE = 1_000_000
_PAGE_NUMBER = re.compile(r"[0-9]{1,7}")  # ASCII only: str.isdigit() also takes "²", which int() refuses
UTC_ZONE = zoneinfo.ZoneInfo("UTC")
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
StatusName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50, pattern=r"^[^,]+$")]


class SettingsRequest(BaseModel):
    """``PUT /v1/shipstation/{vendor}/settings``; every field optional."""

    model_config = ConfigDict(extra="ignore")
    timezone: str | None = None
    status_names: dict[ShipStationStatus, StatusName] | None = None
    page_size: Annotated[int, Field(ge=1, le=500, strict=True)] | None = None
    lookback_minutes: Annotated[int, Field(ge=0, le=10080, strict=True)] | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                zoneinfo.ZoneInfo(value)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value


def status_names_of(connection: repository.StoreConnection) -> dict[ShipStationStatus, str]:
    return {**DEFAULT_STATUS_NAMES, **connection.status_names}  # type: ignore[dict-item]


UNKNOWN_VENDOR = "(unknown)"


def known_action(action: str) -> str:
    """The action as recorded and counted: one of ShipStation's two, else ``other`` (bounded labels)."""
    return action if action in ("export", "shipnotify") else "other"


def logged_query(query: Mapping[str, str]) -> dict[str, str]:
    """The query as it may be logged: ShipStation's own parameters only (no SS-UserName/SS-Password)."""
    return {key: query[key][:100] for key in LOGGED_PARAMETERS if key in query}


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


class AdapterMetrics:
    def __init__(self, runtime: Runtime) -> None:
        registry = runtime.registry
        self.polls = Counter(
            "shipstation_polls", "ShipStation calls", ["vendor", "action", "outcome"], registry=registry
        )
        self.exported = Counter("shipstation_orders_exported", "Orders sent in exports", ["vendor"], registry=registry)
        self.notices = Counter("shipstation_notices", "Ship notices accepted", ["vendor", "outcome"], registry=registry)
        self.rejects = Counter(
            "shipstation_orders_rejected",
            "Orders left out of an export as invalid",
            ["vendor"],
            registry=registry,
        )
        self.problems = Counter(
            "shipstation_problems", "Problems recorded for ops", ["vendor", "kind"], registry=registry
        )
        self.auth_failures = Counter("shipstation_auth_failures", "Refused credentials", ["vendor"], registry=registry)
        self.export_seconds = Histogram("shipstation_export_seconds", "Export page time", registry=registry)


class VerifiedCredentials:
    """Remembers credentials that passed the scrypt check, keyed by the stored hash, so polling does
    not pay scrypt on every request; rotating the password changes the hash and empties the entry."""

    def __init__(self, size: int = 256) -> None:
        self._entries: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._size = size

    @staticmethod
    def _key(vendor: str, username: str, password: str) -> tuple[str, str]:
        return vendor, hashlib.sha256(f"{username}\x00{password}".encode()).hexdigest()

    def known(self, vendor: str, username: str, password: str, stored_hash: str) -> bool:
        return self._entries.get(self._key(vendor, username, password)) == stored_hash

    def remember(self, vendor: str, username: str, password: str, stored_hash: str) -> None:
        key = self._key(vendor, username, password)
        self._entries[key] = stored_hash
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)


class ShipStationApi:
    def __init__(
        self,
        runtime: Runtime,
        session: aiohttp.ClientSession,
        subscribe_vendor: Callable[[str], Awaitable[None]],
    ) -> None:
        self.runtime = runtime
        self.pool: asyncpg.Pool = runtime.pool
        self.session = session
        self.subscribe_vendor = subscribe_vendor
        self.metrics = AdapterMetrics(runtime)
        self.verified = VerifiedCredentials()
        self.fragments = FragmentCache()

    def routes(self) -> list[web.RouteDef]:
        return [
            web.route("GET", "/shipstation/{vendor}", self.custom_store),
            web.route("POST", "/shipstation/{vendor}", self.custom_store),
            web.post("/v1/shipstation/{vendor}/credentials", self.create_credentials),
            web.put("/v1/shipstation/{vendor}/settings", self.put_settings),
            web.get("/v1/shipstation/{vendor}/settings", self.get_settings),
            web.get("/v1/shipstation/{vendor}/problems", self.get_problems),
            web.get("/v1/shipstation/{vendor}/polls", self.get_polls),
        ]

    # --- the Custom Store endpoint -------------------------------------------------------------

    async def _authenticate(self, request: web.Request, vendor: str) -> tuple[repository.StoreConnection | None, bool]:
        """The vendor's connection (if any) and whether the request carries its credentials."""
        given = credentials.parse_basic_auth(request.headers.get("Authorization"))
        if given is None:
            user, password = request.query.get("SS-UserName"), request.query.get("SS-Password")
            if user is None or password is None:
                # Some hosts strip the query's case; accept the lower-case spelling as well.
                user, password = request.query.get("ss-username"), request.query.get("ss-password")
            given = (user, password) if user is not None and password is not None else None
        connection = await repository.get_connection(self.pool, vendor) if is_valid_vendor_code(vendor) else None
        if given is None:
            return connection, False
        username, password = given
        stored = connection.password_hash if connection and connection.password_hash else None
        if stored is not None and self.verified.known(vendor, username, password, stored):
            return connection, True
        # Always run scrypt, against a dummy hash when the user is unknown: no timing difference
        # between a wrong username and a wrong password.
        user_ok = (
            connection is not None
            and connection.username is not None
            and hmac.compare_digest(username.encode(), connection.username.encode())
        )
        password_ok = credentials.verify_password(password, stored if user_ok and stored else credentials.DUMMY_HASH)
        if user_ok and password_ok and stored is not None:
            self.verified.remember(vendor, username, password, stored)
            return connection, True
        return connection, False

    async def custom_store(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        vendor = request.match_info["vendor"]
        structlog.contextvars.bind_contextvars(vendor=vendor)
        action = request.query.get("action", "").strip().lower()
        # An address that failed too often lately is refused before its credentials are even checked.
        wait = throttled_for(request)
        connection, authenticated = (None, False) if wait is not None else await self._authenticate(request, vendor)
        if wait is not None:
            response = text_response(
                429, f"Too many failed logins from this address: try again in {wait} s", {"Retry-After": str(wait)}
            )
        elif not authenticated:
            record_auth_failure(request)
            response = await self._unauthorized(vendor, connection, action, started)
        elif connection is None:  # pragma: no cover - authenticated implies a connection
            raise AssertionError("authenticated without a connection")
        elif action == "export":
            response = await self.export(request, connection, started)
        elif action == "shipnotify":
            response = await self.shipnotify(request, connection, started)
        else:
            reason = f"unknown action {action[:50]!r} (expected export or shipnotify)"
            await self._record_call(vendor, known_action(action), "bad_request", started, detail=reason)
            response = text_response(400, f"Bad request: {reason}")
        # The access line names only the parameters ShipStation's protocol defines, never the
        # credentials it appends to the query (SS-UserName, SS-Password) or anything unknown.
        log.info(
            "shipstation call",
            method=request.method,
            query=logged_query(request.query),
            status=response.status,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return response

    async def _record_call(
        self,
        vendor: str,
        action: str,
        outcome: str,
        started: float,
        **details: Any,
    ) -> None:
        """One row in the poll log and one count in /metrics for every Custom Store call."""
        self.metrics.polls.labels(vendor, action, outcome).inc()
        await repository.record_poll(
            self.pool, vendor, action, outcome, (time.perf_counter() - started) * 1000, **details
        )

    async def _unauthorized(
        self, vendor: str, connection: repository.StoreConnection | None, action: str, started: float
    ) -> web.Response:
        # Metric labels and poll rows only for connections that exist: a caller choosing the path
        # must not be able to create time series or rows at will.
        self.metrics.auth_failures.labels(vendor if connection is not None else UNKNOWN_VENDOR).inc()
        if connection is not None:
            # Visible to ops: "ShipStation still uses the old password".
            await self._record_call(
                vendor, known_action(action), "unauthorized", started, detail="wrong or missing credentials"
            )
        return text_response(
            401,
            "Unauthorized: wrong or missing credentials",
            {"WWW-Authenticate": 'Basic realm="Dropship Router", charset="UTF-8"'},
        )

    async def export(
        self, request: web.Request, connection: repository.StoreConnection, started: float
    ) -> web.Response:
        """One page of the orders last modified in ``[start_date - lookback, end_date + 1 minute)``.

        Paging: page 1 freezes the window's order ids in ``(last_modified, id)`` order; pages 2..n of
        the same window read their slice of that list (for an hour), each order as it is *now*. So an
        order modified mid-walk keeps its place instead of moving to the end and making the order
        behind it slide onto a page ShipStation already has (a live OFFSET would skip that one).
        Orders created or changed during the walk are left to ShipStation's next refresh, whose window
        starts at this one's ``end_date`` minute, before they changed. A page asked for without a
        recent page 1 freezes the window then.
        """
        vendor = connection.vendor
        zone = zoneinfo.ZoneInfo(connection.timezone)
        try:
            start_text, end_text = request.query["start_date"], request.query["end_date"]
        except KeyError as missing:
            return await self._bad_export(vendor, started, f"missing {missing.args[0]}")
        try:
            start = parse_export_datetime(start_text, zone)
            end = parse_export_datetime(end_text, zone)
        except ValueError as error:
            return await self._bad_export(vendor, started, str(error))
        page_text = request.query.get("page", "1").strip() or "1"
        if not _PAGE_NUMBER.fullmatch(page_text) or not 1 <= int(page_text) <= MAX_PAGE:
            return await self._bad_export(vendor, started, f"page must be a whole number from 1 to {MAX_PAGE}")
        page = int(page_text)
        if start > end:
            return await self._bad_export(vendor, started, "start_date is after end_date")

        await self._check_zone(connection, end_text, zone)
        lookback, minute = timedelta(minutes=connection.lookback_minutes), timedelta(minutes=1)
        # Kept within the calendar: a window from 01/01/0001 or to 12/31/9999 is odd, not an error.
        window_start = max(start, datetime.min.replace(tzinfo=UTC) + lookback) - lookback
        window_end = min(end, datetime.max.replace(tzinfo=UTC) - minute) + minute  # end_date's minute counts
        snapshot = None if page == 1 else await repository.latest_snapshot(self.pool, vendor, window_start, window_end)
        if snapshot is None:
            snapshot = await repository.snapshot_window(
                self.pool, vendor, window_start, window_end, connection.page_size
            )
        pages = math.ceil(snapshot.total / snapshot.page_size)
        if pages > MAX_PAGES:
            log.warning("export window has more pages than ShipStation can take", pages=pages, served=MAX_PAGES)
            pages = MAX_PAGES
        rows = await repository.snapshot_page(self.pool, snapshot, page) if page <= pages else []
        status_names = status_names_of(connection)
        fragments: list[bytes] = []
        rejected: list[RejectedOrder] = []
        for row in rows:
            key = fragment_key(row.id, row.state, row.last_modified, zone, status_names)
            fragment = self.fragments.get(key)
            if fragment is None:
                vendor_order = VendorOrderCreatedData.model_validate(row.payload)
                exportable = ExportableOrder(vendor_order, row.state, row.last_modified)  # type: ignore[arg-type]
                outcome = order_fragment(exportable, zone, status_names)
                if isinstance(outcome, RejectedOrder):
                    rejected.append(outcome)
                    continue
                self.fragments.put(key, outcome)
                fragment = outcome
            fragments.append(fragment)
        body = export_document(fragments, pages=pages)
        for reject in rejected:
            detail = f"left out of export: {'; '.join(reject.problems)}"
            log.warning("order left out of export", vendor_order_id=reject.vendor_order_id, problems=reject.problems)
            await repository.record_problem(self.pool, vendor, "invalid_order", reject.vendor_order_id, detail)
            self.metrics.rejects.labels(vendor).inc()
            self.metrics.problems.labels(vendor, "invalid_order").inc()
        exported = len(fragments)
        self.metrics.exported.labels(vendor).inc(exported)
        self.metrics.export_seconds.observe(time.perf_counter() - started)
        await self._record_call(
            vendor,
            "export",
            "ok",
            started,
            window_start=window_start,
            window_end=window_end,
            page=page,
            orders_returned=exported,
            detail=(
                f"start_date {start_text.strip()!s}, end_date {end_text.strip()!s} read in {zone}; "
                f"page {page} of {pages}; {len(rejected)} left out"
            )[:500],
        )
        return web.Response(body=body, content_type="text/xml", charset="utf-8")

    async def _bad_export(self, vendor: str, started: float, reason: str) -> web.Response:
        await self._record_call(vendor, "export", "bad_request", started, detail=reason[:500])
        return text_response(400, f"Bad request: {reason}")

    async def _check_zone(self, connection: repository.StoreConnection, end_text: str, zone: zoneinfo.ZoneInfo) -> None:
        """Record (or clear) the warning that ShipStation's clock runs in another zone than configured."""
        try:
            wall = parse_export_datetime(end_text, UTC_ZONE).replace(tzinfo=None)
        except ValueError:
            return
        now = datetime.now(UTC)
        mismatch = detect_zone_mismatch(wall, now, zone)
        if mismatch is not None:
            log.warning("time zone mismatch with ShipStation", detail=mismatch.message)
            if mismatch.message != connection.zone_warning:
                await repository.record_zone_warning(self.pool, connection.vendor, mismatch.message)
        elif connection.zone_warning is not None and clocks_agree(wall, now, zone):
            # ShipStation's clock now matches the setting (the merchant fixed ShipStation's side).
            log.info("time zone agrees with ShipStation again", timezone=str(zone))
            await repository.record_zone_warning(self.pool, connection.vendor, None)

    async def shipnotify(
        self, request: web.Request, connection: repository.StoreConnection, started: float
    ) -> web.Response:
        vendor = connection.vendor
        if request.content_length is not None and request.content_length > MAX_NOTICE_BYTES:
            return await self._notice_refused(vendor, started, 413, f"body over {MAX_NOTICE_BYTES} bytes")
        body = await read_body_within(request, MAX_NOTICE_BYTES)
        if body is None:
            return await self._notice_refused(vendor, started, 413, f"body over {MAX_NOTICE_BYTES} bytes")
        zone = zoneinfo.ZoneInfo(connection.timezone)
        try:
            notice = parse_ship_notice(body, dict(request.query), zone)
        except ShipNoticeError as error:
            return await self._notice_refused(vendor, started, 400, error.reason)

        async with self.pool.acquire() as db, db.transaction():
            vendor_order = await repository.find_vendor_order(db, vendor, notice.order_id, notice.order_number)
            if vendor_order is None:
                detail = f"ship notice for unknown order (OrderID {notice.order_id!r}, number {notice.order_number!r})"
                log.warning("ship notice for unknown order", order_number=notice.order_number)
                await repository.record_problem(db, vendor, "unknown_order", notice.order_id, detail)
                self.metrics.problems.labels(vendor, "unknown_order").inc()
                outcome = "unknown_order"
            else:
                structlog.contextvars.bind_contextvars(order_id=vendor_order.payload["order_id"])
                outcome = await self._apply_notice(db, vendor_order, notice)
        if outcome == "accepted":
            self.runtime.relay.wake()
        self.metrics.notices.labels(vendor, outcome).inc()
        await self._record_call(
            vendor,
            "shipnotify",
            outcome,
            started,
            detail=(
                f"order {notice.order_number or notice.order_id}, tracking {notice.tracking_number or '-'}, "
                f"{len(notice.items) or 'no'} items"
            )[:500],
        )
        return text_response(200, "OK")

    async def _apply_notice(self, db: Connection, stored: repository.StoredVendorOrder, notice: ShipNotice) -> str:
        vendor_order = VendorOrderCreatedData.model_validate(stored.payload)
        shipment_id = "shp_" + notice_fingerprint(stored.id, notice)[:32]
        lines = allocate_shipment(vendor_order.lines, stored.shipped, notice.items)
        data = ShipmentReportedData(
            shipment_id=shipment_id,
            vendor=stored.vendor,
            vendor_order_id=stored.id,
            vendor_order_number=vendor_order.vendor_order_number,
            order_id=vendor_order.order_id,
            carrier=notice.carrier,
            service=notice.service,
            tracking_number=notice.tracking_number,
            ship_date=notice.ship_date,
            label_created_at=notice.label_created_at,
            shipping_cost=notice.shipping_cost,
            notes_to_buyer=notice.notes_to_customer,
            notify_customer=notice.notify_customer,
            lines=lines,
        )
        shipped = dict(stored.shipped)
        for line in lines:
            shipped[line.line_id] = shipped.get(line.line_id, 0) + line.quantity
        fully = all(shipped.get(line.line_id, 0) >= line.quantity for line in vendor_order.lines)
        state = stored.state if stored.state == "cancelled" else ("shipped" if fully else "partially_shipped")
        recorded = await repository.record_shipment(
            db,
            shipment_id,
            stored.vendor,
            stored.id,
            data.model_dump(mode="json"),
            shipped,
            state,
            state != stored.state,
            ShipmentReported(correlation_id=vendor_order.order_id, data=data),
        )
        if not recorded:
            return "duplicate"
        log.info("shipment recorded", shipment_id=shipment_id, lines=len(lines), state=state)
        return "accepted"

    async def _notice_refused(self, vendor: str, started: float, status: int, reason: str) -> web.Response:
        self.metrics.notices.labels(vendor, "refused").inc()
        await self._record_call(vendor, "shipnotify", "refused", started, detail=reason[:500])
        return text_response(status, f"Bad request: {reason}" if status == 400 else f"Payload too large: {reason}")

    # --- the admin API --------------------------------------------------------------------------

    async def _vendor_kind(self, vendor: str) -> str:
        settings = self.runtime.settings
        url = f"{settings.service_url('splitter')}/v1/vendors/{vendor}"
        headers = {"Authorization": f"Bearer {self.runtime.app[ADMIN_TOKEN_KEY]}"}
        try:
            async with self.session.get(url, headers=headers) as response:
                if response.status == 404:
                    raise ApiError(
                        404,
                        "unknown_vendor",
                        f"no vendor {vendor!r}: create it with PUT /v1/vendors/{vendor}",
                    )
                if response.status != 200:
                    raise ApiError(503, "splitter_unavailable", f"the splitter answered {response.status}")
                kind: str = (await response.json())["kind"]
                return kind
        except (aiohttp.ClientError, TimeoutError) as error:
            raise ApiError(
                503, "splitter_unavailable", f"the splitter does not answer ({type(error).__name__})"
            ) from None

    def _vendor_param(self, request: web.Request) -> str:
        require_admin(request)
        vendor = request.match_info["vendor"]
        if not is_valid_vendor_code(vendor):
            raise ApiError(400, "invalid_code", "a vendor code is 1-50 of a-z, 0-9, '-' and '_'")
        return vendor

    async def create_credentials(self, request: web.Request) -> web.Response:
        vendor = self._vendor_param(request)
        kind = await self._vendor_kind(vendor)
        if kind != "shipstation":
            raise ApiError(409, "wrong_kind", f"vendor {vendor!r} is of kind {kind!r}, not shipstation")
        username, password = credentials.new_username(vendor), credentials.new_password()
        await repository.set_credentials(self.pool, vendor, username, credentials.hash_password(password))
        await self.subscribe_vendor(vendor)
        connection = await repository.get_connection(self.pool, vendor)
        assert connection is not None
        base = (self.runtime.settings.shipstation_public_url or f"http://{request.host}").rstrip("/")
        log.info("shipstation credentials issued", vendor=vendor, username=username)
        return json_response(
            {
                "url": f"{base}/shipstation/{vendor}",
                "username": username,
                "password": password,
                "status_names": status_names_of(connection),
                "timezone": connection.timezone,
            },
            status=201,
        )

    async def put_settings(self, request: web.Request) -> web.Response:
        vendor = self._vendor_param(request)
        body = await read_model(request, SettingsRequest)
        changes = body.model_dump(exclude_none=True)
        if "status_names" in changes:
            current = await repository.get_connection(self.pool, vendor)
            changes["status_names"] = {**(current.status_names if current else {}), **changes["status_names"]}
            # Checked as a whole: a name is only wrong next to the others (two statuses sharing it).
            problems = status_name_problems({**DEFAULT_STATUS_NAMES, **changes["status_names"]})
            if problems:
                raise ApiError(422, "invalid", "the status names cannot be used", {"status_names": "; ".join(problems)})
        await repository.update_settings(self.pool, vendor, changes)
        if "timezone" in changes:
            await repository.record_zone_warning(self.pool, vendor, None)
        return await self.get_settings(request)

    async def get_settings(self, request: web.Request) -> web.Response:
        vendor = self._vendor_param(request)
        connection = await repository.get_connection(self.pool, vendor)
        if connection is None:
            raise ApiError(404, "not_found", f"no ShipStation connection for {vendor!r}")
        return json_response(
            {
                "vendor": vendor,
                "username": connection.username,
                "timezone": connection.timezone,
                "status_names": status_names_of(connection),
                "page_size": connection.page_size,
                "lookback_minutes": connection.lookback_minutes,
                "zone_warning": connection.zone_warning,
                "zone_warning_at": connection.zone_warning_at,
            }
        )

    async def get_problems(self, request: web.Request) -> web.Response:
        vendor = self._vendor_param(request)
        return json_response({"vendor": vendor, "problems": await repository.list_problems(self.pool, vendor)})

    async def get_polls(self, request: web.Request) -> web.Response:
        vendor = self._vendor_param(request)
        return json_response({"vendor": vendor, "polls": await repository.list_polls(self.pool, vendor)})
