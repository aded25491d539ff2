"""Tracking's composition root: wires its route and consumers."""

from __future__ import annotations

from pathlib import Path

from services.tracking import openapi, use_cases
from services.tracking.http import TrackingApi
from shared.contracts.orders import OrderCancelled, OrderReceived
from shared.contracts.shipments import ShipmentReported
from shared.contracts.vendor_orders import VendorOrderAcknowledged
from shared.messaging.topology import TRACKING_ORDERS, TRACKING_SHIPMENTS
from shared.service import Runtime, ServiceDefinition
from shared.settings import Settings


async def setup(runtime: Runtime) -> None:
    runtime.app.router.add_routes(TrackingApi(runtime.pool).routes())
    runtime.consume(
        TRACKING_SHIPMENTS,
        {ShipmentReported: use_cases.on_shipment_reported},
        description="Apply a shipment to the order's lines and announce the order's new status.",
    )
    runtime.consume(
        TRACKING_ORDERS,
        {
            OrderReceived: use_cases.on_order_received,
            OrderCancelled: use_cases.on_order_cancelled,
            VendorOrderAcknowledged: use_cases.on_vendor_order_acknowledged,
        },
        run_handlers={OrderReceived: use_cases.on_orders_received},
        description=(
            "Keep the order's lines (to measure shipments against), its cancellation, and what each"
            " vendor acknowledged per line (for the order's view; the status does not move)."
        ),
    )


SERVICE = ServiceDefinition(
    name="tracking", package_dir=Path(__file__).parent, setup=setup, settings_type=Settings, openapi=openapi.document
)
