"""The gateway's HTTP API. Admin (admin token): connections, their check and key, deliveries and
their retry, pickups, ops' stock feed. Vendor API (the vendor's key, or the admin token acting for
any vendor): acknowledgements, shipments, stock. Each handler parses, calls one use case, answers;
domain errors become status codes here and nowhere else."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import aiohttp
from aiohttp import web

from services.gateway.connections import ConnectionRequest, WrongKind
from services.gateway.requests import AcknowledgementRequest, InventoryRequest, ShipmentRequest
from services.gateway.splitter import SplitterUnavailable, UnknownVendor
from services.gateway.store import answers as answer_store
from services.gateway.store import deliveries
from services.gateway.use_cases import answers, connections
from services.gateway.use_cases.answers import ShipmentReport, StockRow
from services.gateway.use_cases.context import GatewayPorts
from services.gateway.vendor_answers import AckLine, AnswerRefused
from shared.contracts.vendors import DELIVERY_STATES
from shared.http import (
    ADMIN_TOKEN_KEY,
    ApiError,
    bearer_token,
    constant_time_equal,
    json_response,
    read_model,
    refuse_if_throttled,
    require_admin,
    unauthorized,
)
from shared.messaging.topology import is_valid_vendor_code

MAX_LIST = 500


@contextlib.contextmanager
def _answer_errors() -> Iterator[None]:
    try:
        yield
    except UnknownVendor as error:
        raise ApiError(
            404, "unknown_vendor", f"no vendor {error}: create it with the splitter's PUT /v1/vendors"
        ) from None
    except SplitterUnavailable as error:
        raise ApiError(503, "splitter_unavailable", str(error)) from None
    except WrongKind as error:
        raise ApiError(409, "wrong_kind", str(error)) from None
    except connections.InvalidConnection as error:
        raise ApiError(422, "invalid", str(error), error.fields) from None
    except connections.NotAPartner as error:
        raise ApiError(409, "not_x12", f"vendor {error} is not connected over EDI X12") from None
    except connections.NoConnection as error:
        raise ApiError(404, "no_connection", f"vendor {error} has no connection: PUT /v1/connections/{error}") from None
    except answers.UnknownVendorOrder as error:
        raise ApiError(404, "unknown_vendor_order", f"no vendor order {error}") from None
    except answers.ForeignVendorOrder as error:
        raise ApiError(403, "forbidden", f"vendor order {error} belongs to another vendor") from None
    except AnswerRefused as error:
        raise ApiError(422, "invalid", error.message, {error.field: error.message}) from None


def _vendor_param(request: web.Request) -> str:
    vendor = request.match_info["vendor"]
    if not is_valid_vendor_code(vendor):
        raise ApiError(400, "invalid_code", "a vendor code is 1-50 of a-z, 0-9, '-' and '_'")
    return vendor


def _limit(request: web.Request) -> int:
    text = request.query.get("limit", "100")
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIST:
        raise ApiError(400, "invalid_limit", f"limit is a whole number from 1 to {MAX_LIST}")
    return int(text)


def _stock_rows(body: InventoryRequest) -> list[StockRow]:
    return [
        StockRow(
            f"items.{index}", item.vendor_sku or item.sku or "", item.quantity, vendor_sku=item.vendor_sku is not None
        )
        for index, item in enumerate(body.items)
    ]


class GatewayApi:
    def __init__(self, ports: GatewayPorts, session: aiohttp.ClientSession, on_connected: Any) -> None:
        self.ports = ports
        self.session = session
        self.on_connected = on_connected
        """Called with the vendor after a connection is stored (subscribe its queue, wake the deliverer)."""

    def routes(self) -> list[web.RouteDef]:
        return [
            web.put("/v1/connections/{vendor}", self.put_connection),
            web.get("/v1/connections/{vendor}", self.get_connection),
            web.post("/v1/connections/{vendor}/check", self.check_connection),
            web.post("/v1/connections/{vendor}/key", self.rotate_key),
            web.get("/v1/deliveries", self.list_deliveries),
            web.post("/v1/deliveries/{vendor_order_id}/retry", self.retry),
            web.get("/v1/pickups", self.list_pickups),
            web.get("/v1/partners/{vendor}/interchanges", self.list_interchanges),
            web.put("/v1/inventory/{vendor}", self.put_inventory),
            web.post("/v1/vendor/orders/{vendor_order_id}/acknowledgement", self.acknowledge),
            web.post("/v1/vendor/orders/{vendor_order_id}/shipments", self.ship),
            web.put("/v1/vendor/inventory", self.put_vendor_inventory),
        ]

    # -- admin

    async def put_connection(self, request: web.Request) -> web.Response:
        require_admin(request)
        vendor = _vendor_param(request)
        body = await read_model(request, ConnectionRequest)
        with _answer_errors():
            put = await connections.put_connection(self.ports, vendor, body)
        await self.on_connected(vendor)
        answer = dict(put.view)
        if put.api_key:
            answer["api_key"] = put.api_key
        if put.webhook_secret:
            answer["webhook_secret"] = put.webhook_secret
        return json_response(answer, 201 if put.created else 200)

    async def get_connection(self, request: web.Request) -> web.Response:
        require_admin(request)
        vendor = _vendor_param(request)
        with _answer_errors():
            return json_response(await connections.view_connection(self.ports, vendor))

    async def check_connection(self, request: web.Request) -> web.Response:
        require_admin(request)
        vendor = _vendor_param(request)
        with _answer_errors():
            steps = await connections.check_connection(self.ports, vendor, self.session)
        return json_response({"ok": all(step.ok for step in steps), "steps": [step.__dict__ for step in steps]})

    async def rotate_key(self, request: web.Request) -> web.Response:
        require_admin(request)
        vendor = _vendor_param(request)
        with _answer_errors():
            api_key = await connections.rotate_api_key(self.ports, vendor)
        return json_response({"vendor": vendor, "api_key": api_key})

    async def list_deliveries(self, request: web.Request) -> web.Response:
        require_admin(request)
        vendor = request.query.get("vendor") or None
        state = request.query.get("state") or None
        if vendor is not None and not is_valid_vendor_code(vendor):
            raise ApiError(400, "invalid_vendor", "a vendor code is 1-50 of a-z, 0-9, '-' and '_'")
        if state is not None and state not in DELIVERY_STATES:
            raise ApiError(400, "invalid_state", f"state is one of {', '.join(DELIVERY_STATES)}")
        vendor_order_id = request.query.get("vendor_order_id") or None
        async with self.ports.pool.acquire() as db:
            found = await deliveries.list_deliveries(
                db, vendor=vendor, state=state, vendor_order_id=vendor_order_id, limit=_limit(request)
            )
        return json_response({"deliveries": found})

    async def retry(self, request: web.Request) -> web.Response:
        require_admin(request)
        vendor_order_id = request.match_info["vendor_order_id"]
        async with self.ports.pool.acquire() as db:
            found = await deliveries.vendor_order(db, vendor_order_id)
            if found is None:
                raise ApiError(404, "unknown_vendor_order", f"no vendor order {vendor_order_id}")
            retried = await deliveries.retry_vendor_order(db, vendor_order_id)
            listed = await deliveries.list_deliveries(
                db, vendor=None, state=None, vendor_order_id=vendor_order_id, limit=MAX_LIST
            )
        return json_response({"retried": retried, "deliveries": listed})

    async def list_pickups(self, request: web.Request) -> web.Response:
        require_admin(request)
        vendor = request.query.get("vendor") or None
        if vendor is not None and not is_valid_vendor_code(vendor):
            raise ApiError(400, "invalid_vendor", "a vendor code is 1-50 of a-z, 0-9, '-' and '_'")
        async with self.ports.pool.acquire() as db:
            return json_response({"pickups": await answer_store.list_pickups(db, vendor, _limit(request))})

    async def list_interchanges(self, request: web.Request) -> web.Response:
        require_admin(request)
        vendor = _vendor_param(request)
        with _answer_errors():
            found = await connections.partner_interchanges(self.ports, vendor, _limit(request))
        return json_response({"vendor": vendor, "interchanges": found})

    async def put_inventory(self, request: web.Request) -> web.Response:
        require_admin(request)
        vendor = _vendor_param(request)
        body = await read_model(request, InventoryRequest)
        with _answer_errors():
            recorded = await answers.post_inventory(self.ports, vendor, body.mode, body.as_of, _stock_rows(body), "ops")
        return json_response({"feed_id": recorded.id, "new": recorded.new, "items": len(body.items)}, 202)

    # -- the vendor API

    async def _acting_vendor(self, request: web.Request) -> str | None:
        """The vendor the key belongs to; None for the admin token (ops acting for any vendor)."""
        refuse_if_throttled(request)
        token = bearer_token(request)
        if token is None:
            raise unauthorized(request, "missing or malformed Authorization: Bearer <vendor api key>")
        if constant_time_equal(token, request.app[ADMIN_TOKEN_KEY]):
            return None
        vendor = await connections.vendor_of_key(self.ports, token)
        if vendor is None:
            raise unauthorized(request, "unknown API key")
        return vendor

    async def acknowledge(self, request: web.Request) -> web.Response:
        vendor = await self._acting_vendor(request)
        body = await read_model(request, AcknowledgementRequest)
        answered = [
            (
                f"lines.{index}",
                AckLine(line.line_id, line.status, line.quantity, line.reason, line.expected_ship_date),
            )
            for index, line in enumerate(body.lines)
        ]
        with _answer_errors():
            recorded = await answers.acknowledge(self.ports, vendor, request.match_info["vendor_order_id"], answered)
        return json_response({"acknowledgement_id": recorded.id, "new": recorded.new}, 202 if recorded.new else 200)

    async def ship(self, request: web.Request) -> web.Response:
        vendor = await self._acting_vendor(request)
        body = await read_model(request, ShipmentRequest)
        report = ShipmentReport(
            carrier=body.carrier,
            service=body.service,
            tracking_number=body.tracking_number,
            ship_date=body.ship_date,
            shipping_cost=body.shipping_cost,
            lines=None
            if body.lines is None
            else [(f"lines.{index}", line.line_id, line.quantity) for index, line in enumerate(body.lines)],
        )
        with _answer_errors():
            recorded = await answers.report_shipment(self.ports, vendor, request.match_info["vendor_order_id"], report)
        return json_response({"shipment_id": recorded.id, "new": recorded.new}, 202 if recorded.new else 200)

    async def put_vendor_inventory(self, request: web.Request) -> web.Response:
        vendor = await self._acting_vendor(request)
        if vendor is None:
            raise ApiError(400, "vendor_required", "with the admin token, post stock to PUT /v1/inventory/{vendor}")
        body = await read_model(request, InventoryRequest)
        with _answer_errors():
            recorded = await answers.post_inventory(self.ports, vendor, body.mode, body.as_of, _stock_rows(body), "api")
        return json_response({"feed_id": recorded.id, "new": recorded.new, "items": len(body.items)}, 202)
