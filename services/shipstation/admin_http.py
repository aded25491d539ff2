"""The adapter's admin API (admin token, JSON): a vendor's ShipStation credentials and settings, and
what ops look at (problems, the poll log). Each handler parses, calls one use case, answers."""

from __future__ import annotations

import zoneinfo
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from services.shipstation.order_states import status_names_of
from services.shipstation.repository import StoreConnection
from services.shipstation.use_cases import admin
from services.shipstation.use_cases.ports import StorePorts
from shared.contracts.vendors import ShipStationStatus
from shared.http import ApiError, json_response, read_model, require_admin
from shared.messaging.topology import is_valid_vendor_code
from shared.validation import WHOLE_NUMBER

StatusName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=50,
        # What status_name_problems refuses, said in the schema: commas (ShipStation splits on them), and
        # text the export would have to change (controls, entities, combining marks, non-characters).
        pattern="^[^,&\\x00-\\x1f\\x7f-\\x9f\\u0300-\\u036f\\ufffe\\uffff]+$",
    ),
]


class SettingsRequest(BaseModel):
    """``PUT /v1/shipstation/{vendor}/settings``; every field optional."""

    model_config = ConfigDict(extra="ignore")
    timezone: str | None = None
    status_names: dict[ShipStationStatus, StatusName] | None = None
    page_size: Annotated[int, Field(ge=1, le=500, strict=True), WHOLE_NUMBER] | None = None
    lookback_minutes: Annotated[int, Field(ge=0, le=10080, strict=True), WHOLE_NUMBER] | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                zoneinfo.ZoneInfo(value)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value


def vendor_param(request: web.Request) -> str:
    """The admin's vendor code from the path (after checking the admin token)."""
    require_admin(request)
    vendor = request.match_info["vendor"]
    if not is_valid_vendor_code(vendor):
        raise ApiError(400, "invalid_code", "a vendor code is 1-50 of a-z, 0-9, '-' and '_'")
    return vendor


def settings_view(connection: StoreConnection) -> dict[str, Any]:
    return {
        "vendor": connection.vendor,
        "username": connection.username,
        "timezone": connection.timezone,
        "status_names": status_names_of(connection.status_names),
        "page_size": connection.page_size,
        "lookback_minutes": connection.lookback_minutes,
        "zone_warning": connection.zone_warning,
        "zone_warning_at": connection.zone_warning_at,
    }


class AdminApi:
    def __init__(
        self,
        ports: StorePorts,
        vendor_kind: Callable[[str], Awaitable[str]],
        subscribe_vendor: Callable[[str], Awaitable[None]],
        public_url: str | None,
    ) -> None:
        self.ports = ports
        self.vendor_kind = vendor_kind
        self.subscribe_vendor = subscribe_vendor
        self.public_url = public_url
        """Where ShipStation reaches the adapter; unset: the host the admin called us on."""

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v1/shipstation/{vendor}/credentials", self.create_credentials),
            web.put("/v1/shipstation/{vendor}/settings", self.put_settings),
            web.get("/v1/shipstation/{vendor}/settings", self.get_settings),
            web.get("/v1/shipstation/{vendor}/problems", self.get_problems),
            web.get("/v1/shipstation/{vendor}/polls", self.get_polls),
        ]

    async def create_credentials(self, request: web.Request) -> web.Response:
        vendor = vendor_param(request)
        base_url = self.public_url or f"http://{request.host}"
        try:
            issued = await admin.issue_credentials(
                vendor, base_url, self.ports, self.vendor_kind, self.subscribe_vendor
            )
        except admin.WrongKind as error:
            raise ApiError(409, "wrong_kind", str(error)) from None
        return json_response(
            {
                "url": issued.url,
                "username": issued.username,
                "password": issued.password,
                "status_names": status_names_of(issued.connection.status_names),
                "timezone": issued.connection.timezone,
            },
            status=201,
        )

    async def put_settings(self, request: web.Request) -> web.Response:
        vendor = vendor_param(request)
        body = await read_model(request, SettingsRequest)
        try:
            await admin.change_settings(vendor, body.model_dump(exclude_none=True), self.ports)
        except admin.UnusableStatusNames as error:
            raise ApiError(422, "invalid", "the status names cannot be used", {"status_names": str(error)}) from None
        return json_response(settings_view(await self._connection(vendor)))

    async def get_settings(self, request: web.Request) -> web.Response:
        return json_response(settings_view(await self._connection(vendor_param(request))))

    async def _connection(self, vendor: str) -> StoreConnection:
        try:
            return await admin.connection_settings(vendor, self.ports)
        except admin.NoConnection as error:
            raise ApiError(404, "not_found", str(error)) from None

    async def get_problems(self, request: web.Request) -> web.Response:
        vendor = vendor_param(request)
        return json_response({"vendor": vendor, "problems": await admin.problems_of(vendor, self.ports)})

    async def get_polls(self, request: web.Request) -> web.Response:
        vendor = vendor_param(request)
        return json_response({"vendor": vendor, "polls": await admin.polls_of(vendor, self.ports)})
