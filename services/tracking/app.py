"""Tracking's composition root."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from aiohttp import web
from pydantic import Field

from services.tracking import openapi, repository
from services.tracking.consumers import (
    ORDERS_CONSUMER,
    SHIPMENTS_CONSUMER,
    on_order_cancelled,
    on_order_received,
    on_shipment_reported,
)
from shared.contracts.orders import OrderCancelled, OrderReceived
from shared.contracts.shipments import ShipmentReported
from shared.db import Connection
from shared.http import ApiError, json_response, require_admin
from shared.messaging.topology import TRACKING_ORDERS, TRACKING_SHIPMENTS
from shared.service import Runtime, ServiceDefinition

OrderEvent = Annotated[OrderReceived | OrderCancelled, Field(discriminator="type")]


async def setup(runtime: Runtime) -> None:
    async def get_shipments(request: web.Request) -> web.Response:
        require_admin(request)
        view = await repository.shipments_view(runtime.pool, request.match_info["order_id"])
        if view is None:
            raise ApiError(404, "not_found", "no shipments known for this order")
        return json_response(view)

    runtime.app.router.add_get("/v1/orders/{order_id}/shipments", get_shipments)

    async def on_order(connection: Connection, event: OrderEvent) -> None:
        """Keep the order's lines (to measure shipments against) and its cancellation."""
        if isinstance(event, OrderReceived):
            await on_order_received(connection, event)
        else:
            await on_order_cancelled(connection, event)

    shipments = runtime.inbox(
        SHIPMENTS_CONSUMER,
        on_shipment_reported,
        description="Apply a shipment to the order's lines and announce the order's new status.",
    )
    runtime.subscribe(TRACKING_SHIPMENTS, ShipmentReported, shipments)
    orders = runtime.inbox(ORDERS_CONSUMER, on_order)
    runtime.subscribe(TRACKING_ORDERS, OrderEvent, orders)


SERVICE = ServiceDefinition(name="tracking", package_dir=Path(__file__).parent, setup=setup, openapi=openapi.document)
