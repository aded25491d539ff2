"""The adapter's HTTP side: the Custom Store endpoint ShipStation calls (export, shipnotify) and the
admin API (credentials, settings, problems, polls).

ShipStation gets XML or plain-text answers; the admin API answers JSON like every other service.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
import zoneinfo
from collections import OrderedDict
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
    ShipNoticeError,
    allocate_shipment,
    notice_fingerprint,
    parse_ship_notice,
)
from services.shipstation.timezones import detect_zone_mismatch, parse_export_datetime
from services.shipstation.xml_export import (
    DEFAULT_STATUS_NAMES,
    ExportableOrder,
    ShipStationStatus,
    render_export_page,
)
from shared.contracts.shipments import ShipmentReported, ShipmentReportedData
from shared.contracts.vendor_orders import VendorOrderCreatedData
from shared.db import Connection
from shared.http import ADMIN_TOKEN_KEY, ApiError, json_response, read_model, require_admin
from shared.messaging.outbox import enqueue
from shared.messaging.topology import is_valid_vendor_code
from shared.service import Runtime

log = structlog.get_logger(__name__)
MAX_PAGE = 1_000_000
STATUS_KEYS: tuple[ShipStationStatus, ...] = ("unpaid", "paid", "shipped", "cancelled", "on_hold")
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

    @field_validator("status_names")
    @classmethod
    def _distinct(cls, value: dict[ShipStationStatus, str] | None) -> dict[ShipStationStatus, str] | None:
        if value is not None:
            merged = {**DEFAULT_STATUS_NAMES, **value}
            if len(set(merged.values())) != len(merged):
                raise ValueError("each status needs its own name")
        return value


def status_names_of(connection: repository.StoreConnection) -> dict[ShipStationStatus, str]:
    return {**DEFAULT_STATUS_NAMES, **connection.status_names}  # type: ignore[dict-item]


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
    def __init__(self, runtime: Runtime, session: aiohttp.ClientSession, subscribe_vendor: Any) -> None:
        self.runtime = runtime
        self.pool: asyncpg.Pool = runtime.pool
        self.session = session
        self.subscribe_vendor = subscribe_vendor
        self.metrics = AdapterMetrics(runtime)
        self.verified = VerifiedCredentials()

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

    def _unauthorized(self, vendor: str) -> web.Response:
        self.metrics.auth_failures.labels(vendor).inc()
        return text_response(
            401,
            "Unauthorized: wrong or missing credentials",
            {"WWW-Authenticate": 'Basic realm="Dropship Router"'},
        )

    async def _authenticate(self, request: web.Request, vendor: str) -> repository.StoreConnection | None:
        given = credentials.parse_basic_auth(request.headers.get("Authorization"))
        if given is None:
            user, password = request.query.get("SS-UserName"), request.query.get("SS-Password")
            if user is None or password is None:
                # Some hosts strip the query's case; accept the lower-case spelling as well.
                user, password = request.query.get("ss-username"), request.query.get("ss-password")
            given = (user, password) if user is not None and password is not None else None
        connection = await repository.get_connection(self.pool, vendor) if is_valid_vendor_code(vendor) else None
        if given is None:
            return None
        username, password = given
        stored = connection.password_hash if connection and connection.password_hash else None
        if stored is not None and self.verified.known(vendor, username, password, stored):
            return connection
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
            return connection
        return None

    async def custom_store(self, request: web.Request) -> web.Response:
        vendor = request.match_info["vendor"]
        structlog.contextvars.bind_contextvars(vendor=vendor)
        connection = await self._authenticate(request, vendor)
        if connection is None:
            return self._unauthorized(vendor)
        action = request.query.get("action", "").lower()
        if action == "export":
            return await self.export(request, connection)
        if action == "shipnotify":
            return await self.shipnotify(request, connection)
        return text_response(400, f"Bad request: unknown action {action!r} (expected export or shipnotify)")

    async def export(self, request: web.Request, connection: repository.StoreConnection) -> web.Response:
        started = time.perf_counter()
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
        if not page_text.isdigit() or not 1 <= int(page_text) <= MAX_PAGE:
            return await self._bad_export(vendor, started, f"page must be a whole number from 1 to {MAX_PAGE}")
        page = int(page_text)
        if start > end:
            return await self._bad_export(vendor, started, "start_date is after end_date")

        await self._check_zone(connection, end_text, zone)
        window_start = start - timedelta(minutes=connection.lookback_minutes)
        window_end = end + timedelta(minutes=1)  # the window has minute precision: end_date's minute counts
        total = await repository.count_window(self.pool, vendor, window_start, window_end)
        pages = math.ceil(total / connection.page_size)
        rows = await repository.page_window(
            self.pool,
            vendor,
            window_start,
            window_end,
            connection.page_size,
            (page - 1) * connection.page_size,
        )
        orders = [
            ExportableOrder(VendorOrderCreatedData.model_validate(r.payload), r.state, r.last_modified)  # type: ignore[arg-type]
            for r in rows
        ]
        body, rejected = render_export_page(orders, pages=pages, zone=zone, status_names=status_names_of(connection))
        for reject in rejected:
            detail = f"left out of export: {'; '.join(reject.problems)}"
            log.warning("order left out of export", vendor_order_id=reject.vendor_order_id, problems=reject.problems)
            await repository.record_problem(self.pool, vendor, "invalid_order", reject.vendor_order_id, detail)
            self.metrics.rejects.labels(vendor).inc()
            self.metrics.problems.labels(vendor, "invalid_order").inc()
        exported = len(orders) - len(rejected)
        self.metrics.exported.labels(vendor).inc(exported)
        self.metrics.polls.labels(vendor, "export", "ok").inc()
        elapsed = time.perf_counter() - started
        self.metrics.export_seconds.observe(elapsed)
        await repository.record_poll(
            self.pool,
            vendor,
            "export",
            "ok",
            elapsed * 1000,
            window_start=window_start,
            window_end=window_end,
            page=page,
            orders_returned=exported,
        )
        return web.Response(body=body, content_type="text/xml", charset="utf-8")

    async def _bad_export(self, vendor: str, started: float, reason: str) -> web.Response:
        self.metrics.polls.labels(vendor, "export", "bad_request").inc()
        await repository.record_poll(
            self.pool,
            vendor,
            "export",
            "bad_request",
            (time.perf_counter() - started) * 1000,
            detail=reason[:500],
        )
        return text_response(400, f"Bad request: {reason}")

    async def _check_zone(self, connection: repository.StoreConnection, end_text: str, zone: zoneinfo.ZoneInfo) -> None:
        try:
            wall = datetime.strptime(end_text.strip(), "%m/%d/%Y %H:%M")  # noqa: DTZ007 - a wall time, zone applied below
        except ValueError:
            return
        mismatch = detect_zone_mismatch(wall, datetime.now(UTC), zone)
        if mismatch is not None:
            log.warning("time zone mismatch with ShipStation", vendor=connection.vendor, detail=mismatch.message)
            if mismatch.message != connection.zone_warning:
                await repository.record_zone_warning(self.pool, connection.vendor, mismatch.message)

    async def shipnotify(self, request: web.Request, connection: repository.StoreConnection) -> web.Response:
        started = time.perf_counter()
        vendor = connection.vendor
        if request.content_length is not None and request.content_length > MAX_NOTICE_BYTES:
            return await self._notice_refused(vendor, started, 413, f"body over {MAX_NOTICE_BYTES} bytes")
        try:
            body = await request.content.read(MAX_NOTICE_BYTES + 1)
        except web.HTTPRequestEntityTooLarge:
            return await self._notice_refused(vendor, started, 413, f"body over {MAX_NOTICE_BYTES} bytes")
        if len(body) > MAX_NOTICE_BYTES:
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
        self.metrics.polls.labels(vendor, "shipnotify", outcome).inc()
        await repository.record_poll(
            self.pool,
            vendor,
            "shipnotify",
            outcome,
            (time.perf_counter() - started) * 1000,
            detail=f"order {notice.order_number or notice.order_id}, tracking {notice.tracking_number or '-'}",
        )
        return text_response(200, "OK")

    async def _apply_notice(self, db: Connection, stored: repository.StoredVendorOrder, notice: Any) -> str:
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
        if not await repository.insert_shipment(
            db, shipment_id, stored.vendor, stored.id, data.model_dump(mode="json")
        ):
            return "duplicate"
        shipped = dict(stored.shipped)
        for line in lines:
            shipped[line.line_id] = shipped.get(line.line_id, 0) + line.quantity
        fully = all(shipped.get(line.line_id, 0) >= line.quantity for line in vendor_order.lines)
        state = stored.state if stored.state == "cancelled" else ("shipped" if fully else "partially_shipped")
        await repository.record_shipped(db, stored.id, shipped, state, state != stored.state)
        await enqueue(db, ShipmentReported(correlation_id=vendor_order.order_id, data=data))
        log.info("shipment recorded", shipment_id=shipment_id, lines=len(lines), state=state)
        return "accepted"

    async def _notice_refused(self, vendor: str, started: float, status: int, reason: str) -> web.Response:
        self.metrics.notices.labels(vendor, "refused").inc()
        self.metrics.polls.labels(vendor, "shipnotify", "refused").inc()
        await repository.record_poll(
            self.pool,
            vendor,
            "shipnotify",
            "refused",
            (time.perf_counter() - started) * 1000,
            detail=reason[:500],
        )
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
