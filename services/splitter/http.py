"""The splitter's admin API: vendors, catalog and routing explanations. Each route checks access,
parses, calls one use case and answers; :mod:`services.splitter.use_cases` does the work."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from services.splitter import use_cases
from services.splitter.commands import CatalogRequest, VendorRequest
from services.splitter.ports import SplitterPorts
from services.splitter.use_cases import DuplicateSource, NotFound, UnknownVendor
from shared.http import ApiError, json_response, read_model, require_admin
from shared.messaging.topology import is_valid_vendor_code


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
        ]

    async def put_vendor(self, request: web.Request) -> web.Response:
        require_admin(request)
        code = request.match_info["code"]
        if not is_valid_vendor_code(code):
            raise ApiError(400, "invalid_code", "a vendor code is 1-50 of a-z, 0-9, '-' and '_'")
        body = await read_model(request, VendorRequest)
        put = await use_cases.put_vendor(self.ports, code, body)
        view = put.vendor.__dict__ | {"queue": self.queue_name(code)}
        return json_response(view, status=201 if put.created else 200)

    async def get_vendor(self, request: web.Request) -> web.Response:
        require_admin(request)
        try:
            vendor = await use_cases.get_vendor(self.ports, request.match_info["code"])
        except NotFound as error:
            raise ApiError(404, "not_found", str(error)) from None
        return json_response(vendor.__dict__ | {"queue": self.queue_name(vendor.code)})

    async def list_vendors(self, request: web.Request) -> web.Response:
        require_admin(request)
        return json_response({"vendors": [v.__dict__ for v in await use_cases.list_vendors(self.ports)]})

    async def put_catalog_entry(self, request: web.Request) -> web.Response:
        require_admin(request)
        sku = request.match_info["sku"].strip()
        if not sku or len(sku) > 100:
            raise ApiError(400, "invalid_sku", "a SKU is 1-100 characters")
        body = await read_model(request, CatalogRequest)
        try:
            put = await use_cases.put_catalog_entry(self.ports, sku, body)
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
        try:
            return json_response(await use_cases.get_catalog_entry(self.ports, request.match_info["sku"]))
        except NotFound as error:
            raise ApiError(404, "not_found", str(error)) from None

    async def get_routing(self, request: web.Request) -> web.Response:
        require_admin(request)
        try:
            return json_response(await use_cases.get_routing(self.ports, request.match_info["order_id"]))
        except NotFound as error:
            raise ApiError(404, "not_found", str(error)) from None
