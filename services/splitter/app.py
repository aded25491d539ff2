"""The splitter: routing, holds, stock and the vendor order lifecycle.

Owns (schema ``splitter``): vendors and their routing fields, the catalog (SKU → sources with stock),
the merchant's routing settings, feeds, orders seen with their holds and routing history, vendor orders
and their lines. Consumes ``splitter.orders`` (order.received, order.updated, order.cancelled,
order.ship_to_changed), ``splitter.inventory`` (inventory.updated) and ``splitter.vendor_events``
(vendor_order.acknowledged, vendor_order.failed, shipment.reported). Publishes
vendor_order.created/cancelled/lines_cancelled/ship_to_changed.<vendor>, order.held, order.released and
inventory.available. Background rounds: availability announcements (coalesced, about once a second),
overdue acknowledgements (rerouted), reservation changes folded into per-source totals, and the figures
/metrics shows from the tables (holds, quarantined feeds, vendor orders).

This module is its composition root: it builds the ports once and wires routes, consumers and rounds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from services.splitter import openapi
from services.splitter.catalog_api import CatalogAdminApi
from services.splitter.http import SplitterApi
from services.splitter.metrics import SplitterMetrics
from services.splitter.ports import SplitterPorts
from services.splitter.use_cases import admin, orders, ship_to, stock, vendor_events
from shared.contracts.inventory import InventoryUpdated
from shared.contracts.orders import OrderCancelled, OrderReceived, OrderShipToChanged, OrderUpdated
from shared.contracts.shipments import ShipmentReported
from shared.contracts.vendor_orders import VendorOrderAcknowledged, VendorOrderFailed
from shared.db import Connection
from shared.messaging.relay import RelayLoop
from shared.messaging.topology import SPLITTER_INVENTORY, SPLITTER_ORDERS, SPLITTER_VENDOR_EVENTS, vendor_queue
from shared.service import Runtime, ServiceDefinition
from shared.settings import Settings

AVAILABILITY_SECONDS = 1.0
"""How often changed availability is announced: changes within it go out as one message."""
RESERVATIONS_SECONDS = 1.0
"""How often changes of what open vendor orders reserve are folded into the per-source totals."""
OVERDUE_SECONDS = 30.0
"""How often overdue acknowledgements are looked for."""


def _round(
    runtime: Runtime, work: Callable[[Connection, int], Awaitable[int]], batch: int, publishes: bool
) -> Callable[[], Awaitable[int]]:
    async def run_round() -> int:
        async with runtime.pool.acquire() as connection, connection.transaction():
            handled = await work(connection, batch)
        if handled and publishes:
            runtime.relay.wake()
        return handled

    return run_round


def _schedule(
    runtime: Runtime,
    name: str,
    work: Callable[[Connection, int], Awaitable[int]],
    idle: float,
    *,
    batch: int = 500,
    publishes: bool = True,
) -> None:
    """A round of ``work`` every ``idle`` seconds (at once again while rounds come back full); several
    instances share the work, each round claiming its rows with SKIP LOCKED."""
    loop = RelayLoop(
        name=name,
        dsn=runtime.settings.database_url,
        channel=name.replace("-", "_"),
        run_round=_round(runtime, work, batch, publishes),
        batch_size=batch,
        idle_seconds=idle,
    )
    runtime.add_background(loop.run)
    runtime.on_stop(loop.stop)


async def setup(runtime: Runtime) -> None:
    async def declare_vendor_queue(code: str) -> None:
        await runtime.declare(vendor_queue(code))

    ports = SplitterPorts(pool=runtime.pool, declare_vendor_queue=declare_vendor_queue, wake_relay=runtime.relay.wake)
    api = SplitterApi(ports, queue_name=lambda code: runtime.topology.queue(vendor_queue(code)))
    catalog_api = CatalogAdminApi(runtime.pool, admin.release_skus)
    # The catalog listing and import first: "/v1/catalog:import" must not be taken for a SKU.
    runtime.app.router.add_routes(catalog_api.routes())
    runtime.app.router.add_routes(api.routes())
    for vendor in await admin.list_vendors(ports):
        await declare_vendor_queue(vendor.code)

    runtime.consume(
        SPLITTER_ORDERS,
        {
            OrderReceived: orders.on_order_received,
            OrderUpdated: orders.on_order_updated,
            OrderCancelled: orders.on_order_cancelled,
            OrderShipToChanged: ship_to.on_order_ship_to_changed,
        },
        description="Route new orders (or hold them), release or hold on a status change, cancel what has not shipped.",
        run_handlers={OrderReceived: orders.on_orders_received},
    )
    runtime.consume(
        SPLITTER_INVENTORY,
        {InventoryUpdated: stock.on_inventory_updated},
        description="Apply, ignore or quarantine a vendor's stock feed; release orders that waited for stock.",
    )
    runtime.consume(
        SPLITTER_VENDOR_EVENTS,
        {
            VendorOrderAcknowledged: vendor_events.on_vendor_order_acknowledged,
            VendorOrderFailed: vendor_events.on_vendor_order_failed,
            ShipmentReported: vendor_events.on_shipment_reported,
        },
        description="Follow each vendor order: reroute what a vendor rejects or fails, record what shipped.",
    )
    _schedule(runtime, "splitter-availability", stock.announce_availability, AVAILABILITY_SECONDS)
    _schedule(runtime, "splitter-overdue", vendor_events.reroute_overdue, OVERDUE_SECONDS)
    _schedule(
        runtime, "splitter-reservations", stock.fold_reservations, RESERVATIONS_SECONDS, batch=10_000, publishes=False
    )
    metrics = SplitterMetrics(runtime.registry)
    runtime.add_background(lambda: metrics.refresh_forever(runtime.pool))
    runtime.on_stop(metrics.stop)


SERVICE = ServiceDefinition(
    name="splitter", package_dir=Path(__file__).parent, setup=setup, settings_type=Settings, openapi=openapi.document
)
