"""The splitter's composition root."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from services.splitter import openapi, repository
from services.splitter.consumers import (
    INVENTORY_CONSUMER,
    ORDERS_CONSUMER,
    on_inventory_updated,
    on_order_cancelled,
    on_order_received,
)
from services.splitter.http import SplitterApi
from shared.contracts.inventory import InventoryUpdated
from shared.contracts.orders import OrderCancelled, OrderReceived
from shared.db import Connection
from shared.messaging.topology import SPLITTER_INVENTORY, SPLITTER_ORDERS, vendor_queue
from shared.service import Runtime, ServiceDefinition

OrderEvent = Annotated[OrderReceived | OrderCancelled, Field(discriminator="type")]


async def setup(runtime: Runtime) -> None:
    runtime.app.router.add_routes(SplitterApi(runtime).routes())
    for vendor in await repository.list_vendors(runtime.pool):
        await runtime.declare(vendor_queue(vendor.code))

    async def on_order_event(connection: Connection, event: OrderEvent) -> None:
        """Route a new order to its vendors, or cancel its open vendor orders."""
        if isinstance(event, OrderReceived):
            await on_order_received(connection, event)
        else:
            await on_order_cancelled(connection, event)

    orders = runtime.inbox(ORDERS_CONSUMER, on_order_event)
    runtime.subscribe(SPLITTER_ORDERS, OrderEvent, orders)
    inventory = runtime.inbox(
        INVENTORY_CONSUMER, on_inventory_updated, description="Apply a vendor's new stock levels.", publishes=False
    )
    runtime.subscribe(SPLITTER_INVENTORY, InventoryUpdated, inventory)


SERVICE = ServiceDefinition(name="splitter", package_dir=Path(__file__).parent, setup=setup, openapi=openapi.document)
