"""The splitter's admin API: vendors, catalog and routing explanations."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.splitter import repository
from services.splitter.consumers import release_held_orders
from services.splitter.routing import Source
from shared.http import ApiError, json_response, read_model, require_admin
from shared.messaging.topology import is_valid_vendor_code, vendor_queue
from shared.money import NonNegativeMoney
from shared.service import Runtime

VendorKind = Literal["shipstation", "webhook", "csv_sftp", "edi_x12"]


class VendorRequest(BaseModel):
    """``PUT /v1/vendors/{code}``: kind-specific settings go in ``settings``."""

    model_config = ConfigDict(extra="ignore")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    kind: VendorKind
    settings: dict[str, Any] = Field(default_factory=dict)


class SourceRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    vendor: str
    vendor_sku: Annotated[str, StringConstraints(max_length=100)] | None = None
    cost: NonNegativeMoney | None = None
    stock: Annotated[int, Field(ge=0, strict=True)] | None = None
    priority: Annotated[int, Field(ge=0, le=1_000_000, strict=True)] = 100


class CatalogRequest(BaseModel):
    """``PUT /v1/catalog/{sku}``."""

    model_config = ConfigDict(extra="ignore")
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    sources: list[SourceRequest] = Field(default_factory=list, max_length=50)


class SplitterApi:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.pool = runtime.pool

    def routes(self) -> list[web.RouteDef]:
        return [
            web.put("/v1/vendors/{code}", self.put_vendor),
            web.get("/v1/vendors/{code}", self.get_vendor),
            web.get("/v1/vendors", self.list_vendors),
            web.put("/v1/catalog/{sku}", self.put_catalog),
            web.get("/v1/catalog/{sku}", self.get_catalog),
            web.get("/v1/orders/{order_id}/routing", self.get_routing),
        ]

    async def put_vendor(self, request: web.Request) -> web.Response:
        require_admin(request)
        code = request.match_info["code"]
        if not is_valid_vendor_code(code):
            raise ApiError(400, "invalid_code", "a vendor code is 1-50 of a-z, 0-9, '-' and '_'")
        body = await read_model(request, VendorRequest)
        # The queue exists before any vendor order can be published to it: publishes are mandatory.
        await self.runtime.declare(vendor_queue(code))
        created = await repository.upsert_vendor(
            self.pool, repository.Vendor(code, body.name, body.kind, body.settings)
        )
        view = {
            "code": code,
            "name": body.name,
            "kind": body.kind,
            "settings": body.settings,
            "queue": self.runtime.topology.queue(vendor_queue(code)),
        }
        return json_response(view, status=201 if created else 200)

    async def get_vendor(self, request: web.Request) -> web.Response:
        require_admin(request)
        vendor = await repository.get_vendor(self.pool, request.match_info["code"])
        if vendor is None:
            raise ApiError(404, "not_found", f"no vendor {request.match_info['code']!r}")
        return json_response(vendor.__dict__ | {"queue": self.runtime.topology.queue(vendor_queue(vendor.code))})

    async def list_vendors(self, request: web.Request) -> web.Response:
        require_admin(request)
        return json_response({"vendors": [v.__dict__ for v in await repository.list_vendors(self.pool)]})

    async def put_catalog(self, request: web.Request) -> web.Response:
        require_admin(request)
        sku = request.match_info["sku"].strip()
        if not sku or len(sku) > 100:
            raise ApiError(400, "invalid_sku", "a SKU is 1-100 characters")
        body = await read_model(request, CatalogRequest)
        vendors = [s.vendor for s in body.sources]
        if len(set(vendors)) != len(vendors):
            raise ApiError(422, "invalid", "a vendor appears twice", {"sources": "one source per vendor"})
        sources = [
            Source(s.vendor, s.vendor_sku, Decimal(s.cost) if s.cost is not None else None, s.stock, s.priority)
            for s in body.sources
        ]
        async with self.pool.acquire() as connection, connection.transaction():
            unknown = set(vendors) - await repository.existing_vendors(connection, vendors)
            if unknown:
                fields = {f"sources.{i}.vendor": "unknown vendor" for i, v in enumerate(vendors) if v in unknown}
                raise ApiError(422, "invalid", f"unknown vendor(s): {', '.join(sorted(unknown))}", fields)
            await repository.replace_catalog_entry(connection, sku, body.name, sources)
            released = await release_held_orders(connection, sku)
        if released:
            self.runtime.relay.wake()
        entry = await repository.get_catalog_entry(self.pool, sku)
        return json_response({**(entry or {}), "released_vendor_orders": released})

    async def get_catalog(self, request: web.Request) -> web.Response:
        require_admin(request)
        entry = await repository.get_catalog_entry(self.pool, request.match_info["sku"])
        if entry is None:
            raise ApiError(404, "not_found", "no such SKU")
        return json_response(entry)

    async def get_routing(self, request: web.Request) -> web.Response:
        require_admin(request)
        view = await repository.routing_view(self.pool, request.match_info["order_id"])
        if view is None:
            raise ApiError(404, "not_found", "the splitter has not seen this order (yet)")
        return json_response(view)
