"""Tracking's composition root."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from services.tracking import openapi, repository
from services.tracking.consumers import (
    on_order_cancelled,
    on_order_received,
    on_shipment_reported,
)
from shared.contracts.orders import OrderCancelled, OrderReceived
from shared.contracts.shipments import ShipmentReported
from shared.http import ApiError, json_response, require_admin
from shared.messaging.topology import TRACKING_ORDERS, TRACKING_SHIPMENTS
from shared.service import Runtime, ServiceDefinition
from shared.settings import Settings


async def setup(runtime: Runtime) -> None:
    async def get_shipments(request: web.Request) -> web.Response:
        require_admin(request)
        view = await repository.shipments_view(runtime.pool, request.match_info["order_id"])
        if view is None:
            raise ApiError(404, "not_found", "no shipments known for this order")
        return json_response(view)

    runtime.app.router.add_get("/v1/orders/{order_id}/shipments", get_shipments)

    runtime.consume(
        TRACKING_SHIPMENTS,
        {ShipmentReported: on_shipment_reported},
        description="Apply a shipment to the order's lines and announce the order's new status.",
    )
    runtime.consume(
        TRACKING_ORDERS,
        {OrderReceived: on_order_received, OrderCancelled: on_order_cancelled},
        description="Keep the order's lines (to measure shipments against) and its cancellation.",
    )


SERVICE = ServiceDefinition(
    name="tracking", package_dir=Path(__file__).parent, setup=setup, settings_type=Settings, openapi=openapi.document
)
