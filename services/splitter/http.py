"""The splitter's admin API: vendors, catalog, routing settings and previews, routing explanations,
holds, stock and feeds. Each route checks access, parses, calls one use case and answers;
:mod:`services.splitter.use_cases` does the work and :func:`_answer_errors` maps its errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

from aiohttp import web

from services.splitter.commands import (
    CatalogRequest,
    InventoryRequest,
    PreviewRequest,
    ReleaseRequest,
    RoutingSettingsRequest,
    VendorRequest,
)
from services.splitter.ports import SplitterPorts
from services.splitter.use_cases import admin, stock
from services.splitter.use_cases.errors import Conflict, DuplicateSource, Invalid, NotFound, UnknownVendor
from shared.http import ApiError, json_response, read_model, require_admin
from shared.messaging.topology import is_valid_vendor_code


@asynccontextmanager
async def _answer_errors() -> AsyncIterator[None]:
    try:
        yield
    except NotFound as error:
        raise ApiError(404, "not_found", str(error)) from None
    except Conflict as error:
        raise ApiError(409, error.code, str(error)) from None
    except Invalid as error:
        raise ApiError(422, "invalid", str(error), error.fields) from None


def _vendor_code(request: web.Request) -> str:
    code = request.match_info["code"]
    if not is_valid_vendor_code(code):
        raise ApiError(400, "invalid_code", "a vendor code is 1-50 of a-z, 0-9, '-' and '_'")
    return code


class SplitterApi:
    def __init__(self, ports: SplitterPorts, queue_name: Callable[[str], str]) -> None:
        self.ports = ports
        self.queue_name = queue_name
        """The broker name of ``vendor.<code>`` (with the namespace), shown with a vendor."""

    def routes(self) -> list[web.RouteDef]:
        return [
            web.put("/v1/vendors/{code}", self.put_vendor),
            web.get("/v1/vendors/{code}", self.get_vendor),
            web.get("/v1/vendors", self.list_vendors),
            web.put("/v1/catalog/{sku}", self.put_catalog_entry),
            web.get("/v1/catalog/{sku}", self.get_catalog_entry),
            web.get("/v1/orders/{order_id}/routing", self.get_routing),
            web.get("/v1/routing/settings", self.get_settings),
            web.put("/v1/routing/settings", self.put_settings),
            web.post("/v1/routing/preview", self.preview),
            web.get("/v1/holds", self.list_holds),
            web.post("/v1/orders/{order_id}/release", self.release),
            web.get("/v1/stock/{sku}", self.get_stock),
            web.put("/v1/stock/{code}", self.put_stock),
            web.get("/v1/feeds", self.list_feeds),
            web.post("/v1/feeds/{feed_id}/accept", self.accept_feed),
        ]

    async def put_vendor(self, request: web.Request) -> web.Response:
        require_admin(request)
        code = _vendor_code(request)
        body = await read_model(request, VendorRequest)
        put = await admin.put_vendor(self.ports, code, body)
        return json_response(put.vendor.view() | {"queue": self.queue_name(code)}, status=201 if put.created else 200)

    async def get_vendor(self, request: web.Request) -> web.Response:
        require_admin(request)
        async with _answer_errors():
            vendor = await admin.get_vendor(self.ports, request.match_info["code"])
        return json_response(vendor.view() | {"queue": self.queue_name(vendor.code)})

    async def list_vendors(self, request: web.Request) -> web.Response:
        require_admin(request)
        return json_response({"vendors": [v.view() for v in await admin.list_vendors(self.ports)]})

    async def put_catalog_entry(self, request: web.Request) -> web.Response:
        require_admin(request)
        sku = request.match_info["sku"].strip()
        if not sku or len(sku) > 100:
            raise ApiError(400, "invalid_sku", "a SKU is 1-100 characters")
        body = await read_model(request, CatalogRequest)
        try:
            put = await admin.put_catalog_entry(self.ports, sku, body)
        except DuplicateSource as error:
            raise ApiError(422, "invalid", str(error), {"sources": "one source per vendor"}) from None
        except UnknownVendor as error:
            fields = {
                f"sources.{index}.vendor": "unknown vendor"
                for index, source in enumerate(body.sources)
                if source.vendor in error.codes
            }
            raise ApiError(422, "invalid", str(error), fields) from None
        return json_response({**put.entry, "released_vendor_orders": put.released_vendor_orders})

    async def get_catalog_entry(self, request: web.Request) -> web.Response:
        require_admin(request)
        async with _answer_errors():
            return json_response(await admin.get_catalog_entry(self.ports, request.match_info["sku"]))

    async def get_routing(self, request: web.Request) -> web.Response:
        require_admin(request)
        async with _answer_errors():
            return json_response(await admin.get_routing(self.ports, request.match_info["order_id"]))

    async def get_settings(self, request: web.Request) -> web.Response:
        require_admin(request)
        return json_response(asdict(await admin.get_settings(self.ports)))

    async def put_settings(self, request: web.Request) -> web.Response:
        require_admin(request)
        body = await read_model(request, RoutingSettingsRequest)
        return json_response(asdict(await admin.put_settings(self.ports, body.to_settings())))

    async def preview(self, request: web.Request) -> web.Response:
        require_admin(request)
        body = await read_model(request, PreviewRequest)
        return json_response(await admin.preview(self.ports, body))

    async def list_holds(self, request: web.Request) -> web.Response:
        require_admin(request)
        return json_response({"holds": await admin.list_holds(self.ports)})

    async def release(self, request: web.Request) -> web.Response:
        require_admin(request)
        # No body: release as the router decides now (request.read() caches the body for read_model).
        body = await read_model(request, ReleaseRequest) if (await request.read()).strip() else ReleaseRequest()
        async with _answer_errors():
            outcome = await admin.release_order(self.ports, request.match_info["order_id"], body.overrides)
        return json_response(
            {"released": outcome.released, "vendor_orders": outcome.vendor_orders, "holds": outcome.holds}
        )

    async def get_stock(self, request: web.Request) -> web.Response:
        require_admin(request)
        async with _answer_errors():
            return json_response(await stock.stock_view(self.ports.pool, request.match_info["sku"]))

    async def put_stock(self, request: web.Request) -> web.Response:
        require_admin(request)
        code = _vendor_code(request)
        body = await read_model(request, InventoryRequest)
        async with _answer_errors():
            await admin.get_vendor(self.ports, code)
            outcome = await stock.post_feed(self.ports.pool, body.to_feed(code))
        self.ports.wake_relay()
        return json_response(_feed_answer(outcome), status=202 if outcome.state == "quarantined" else 200)

    async def list_feeds(self, request: web.Request) -> web.Response:
        require_admin(request)
        vendor = request.query.get("vendor") or None
        return json_response({"feeds": await admin.list_feeds(self.ports, vendor)})

    async def accept_feed(self, request: web.Request) -> web.Response:
        require_admin(request)
        async with _answer_errors():
            outcome = await stock.accept_feed(self.ports.pool, request.match_info["feed_id"])
        self.ports.wake_relay()
        return json_response(_feed_answer(outcome))


def _feed_answer(outcome: stock.FeedOutcome) -> dict[str, Any]:
    return asdict(outcome) | {"unknown": list(outcome.unknown)}
