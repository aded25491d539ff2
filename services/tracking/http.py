"""Tracking's admin API: an order's shipments. The route checks access, calls one use case and
answers; :mod:`services.tracking.use_cases` does the work."""

from __future__ import annotations

from aiohttp import web

from services.tracking import use_cases
from services.tracking.ports import Database
from services.tracking.use_cases import NotFound
from shared.http import ApiError, json_response, require_admin


class TrackingApi:
    def __init__(self, pool: Database) -> None:
        self.pool = pool

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/v1/orders/{order_id}/shipments", self.get_shipments)]

    async def get_shipments(self, request: web.Request) -> web.Response:
        require_admin(request)
        try:
            return json_response(await use_cases.get_shipments(self.pool, request.match_info["order_id"]))
        except NotFound as error:
            raise ApiError(404, "not_found", str(error)) from None
