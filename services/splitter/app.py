"""The splitter's composition root."""

from __future__ import annotations

from pathlib import Path

from services.splitter import openapi, repository
from services.splitter.consumers import (
    on_inventory_updated,
    on_order_cancelled,
    on_order_received,
)
from services.splitter.http import SplitterApi
from shared.contracts.inventory import InventoryUpdated
from shared.contracts.orders import OrderCancelled, OrderReceived
from shared.messaging.topology import SPLITTER_INVENTORY, SPLITTER_ORDERS, vendor_queue
from shared.service import Runtime, ServiceDefinition
from shared.settings import Settings


async def setup(runtime: Runtime) -> None:
    runtime.app.router.add_routes(SplitterApi(runtime).routes())
    for vendor in await repository.list_vendors(runtime.pool):
        await runtime.declare(vendor_queue(vendor.code))

    runtime.consume(SPLITTER_ORDERS, {OrderReceived: on_order_received, OrderCancelled: on_order_cancelled})
    runtime.consume(
        SPLITTER_INVENTORY,
        {InventoryUpdated: on_inventory_updated},
        description="Apply a vendor's new stock levels.",
        publishes=False,
    )


SERVICE = ServiceDefinition(
    name="splitter", package_dir=Path(__file__).parent, setup=setup, settings_type=Settings, openapi=openapi.document
)
