"""The splitter's composition root."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from faststream.rabbit import RabbitMessage
from pydantic import Field

from services.splitter import repository
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
from shared.messaging.inbox import apply_once
from shared.messaging.topology import SPLITTER_INVENTORY, SPLITTER_ORDERS, vendor_queue
from shared.service import Runtime, ServiceDefinition, message_context

OrderEvent = Annotated[OrderReceived | OrderCancelled, Field(discriminator="type")]


async def setup(runtime: Runtime) -> None:
    runtime.app.router.add_routes(SplitterApi(runtime).routes())
    for vendor in await repository.list_vendors(runtime.pool):
        await runtime.declare(vendor_queue(vendor.code))

    async def on_order_event(event: OrderEvent, message: RabbitMessage) -> None:
        """Route a new order to its vendors, or cancel its open vendor orders."""
        message_context(message, event.correlation_id)
        if isinstance(event, OrderReceived):
            ran = await apply_once(runtime.pool, ORDERS_CONSUMER, event, lambda c: on_order_received(c, event))
        else:
            ran = await apply_once(runtime.pool, ORDERS_CONSUMER, event, lambda c: on_order_cancelled(c, event))
        if ran:
            runtime.relay.wake()

    async def on_inventory(event: InventoryUpdated, message: RabbitMessage) -> None:
        """Apply a vendor's new stock levels."""
        message_context(message, event.correlation_id)
        await apply_once(runtime.pool, INVENTORY_CONSUMER, event, lambda c: on_inventory_updated(c, event))

    runtime.subscribe(SPLITTER_ORDERS, on_order_event)
    runtime.subscribe(SPLITTER_INVENTORY, on_inventory)


SERVICE = ServiceDefinition(name="splitter", package_dir=Path(__file__).parent, setup=setup)
