"""The splitter's composition root: builds its ports once and wires its routes and consumers."""

from __future__ import annotations

from pathlib import Path

from services.splitter import openapi, use_cases
from services.splitter.http import SplitterApi
from services.splitter.ports import SplitterPorts
from shared.contracts.inventory import InventoryUpdated
from shared.contracts.orders import OrderCancelled, OrderReceived
from shared.messaging.topology import SPLITTER_INVENTORY, SPLITTER_ORDERS, vendor_queue
from shared.service import Runtime, ServiceDefinition
from shared.settings import Settings


async def setup(runtime: Runtime) -> None:
    async def declare_vendor_queue(code: str) -> None:
        await runtime.declare(vendor_queue(code))

    ports = SplitterPorts(pool=runtime.pool, declare_vendor_queue=declare_vendor_queue, wake_relay=runtime.relay.wake)
    api = SplitterApi(ports, queue_name=lambda code: runtime.topology.queue(vendor_queue(code)))
    runtime.app.router.add_routes(api.routes())
    for vendor in await use_cases.list_vendors(ports):
        await declare_vendor_queue(vendor.code)

    runtime.consume(
        SPLITTER_ORDERS,
        {OrderReceived: use_cases.on_order_received, OrderCancelled: use_cases.on_order_cancelled},
    )
    runtime.consume(
        SPLITTER_INVENTORY,
        {InventoryUpdated: use_cases.on_inventory_updated},
        description="Apply a vendor's new stock levels.",
        publishes=False,
    )


SERVICE = ServiceDefinition(
    name="splitter", package_dir=Path(__file__).parent, setup=setup, settings_type=Settings, openapi=openapi.document
)
