"""The ShipStation adapter's composition root: one consumer per ShipStation vendor queue, added at
start for known connections and when credentials are first issued."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import aiohttp
from faststream.rabbit import RabbitMessage
from pydantic import Field

from services.shipstation import repository
from services.shipstation.http import ShipStationApi
from shared.contracts.vendor_orders import VendorOrderCancelled, VendorOrderCreated
from shared.db import Connection
from shared.messaging.inbox import apply_once
from shared.messaging.topology import vendor_queue
from shared.service import Runtime, ServiceDefinition, message_context

VendorEvent = Annotated[VendorOrderCreated | VendorOrderCancelled, Field(discriminator="type")]
CONSUMER = "shipstation.vendor"


async def apply_vendor_event(connection: Connection, event: VendorOrderCreated | VendorOrderCancelled) -> None:
    if isinstance(event, VendorOrderCreated):
        await repository.insert_vendor_order(connection, event.data)
        return
    previous = await repository.cancel_vendor_order(connection, event.data.vendor_order_id)
    if previous is None:
        # Overtook its vendor_order.created (a redelivery can reorder them): fail, so the broker
        # redelivers it after the creation has been applied.
        raise LookupError(f"cancellation for unknown vendor order {event.data.vendor_order_id}")


async def setup(runtime: Runtime) -> None:
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
    runtime.on_stop(session.close)
    subscribed: set[str] = set()

    async def on_vendor_event(event: VendorEvent, message: RabbitMessage) -> None:
        """Store a new vendor order for export, or mark it cancelled (bumping LastModified)."""
        message_context(message, event.correlation_id)
        await apply_once(runtime.pool, CONSUMER, event, lambda c: apply_vendor_event(c, event))

    async def subscribe_vendor(vendor: str) -> None:
        if vendor in subscribed:
            return
        spec = vendor_queue(vendor)
        await runtime.declare(spec)
        subscriber = runtime.subscribe(spec, on_vendor_event, title=f"vendor.{vendor} (ShipStation)")
        subscribed.add(vendor)
        if runtime.broker.running:
            await subscriber.start()

    runtime.app.router.add_routes(ShipStationApi(runtime, session, subscribe_vendor).routes())
    for connection in await repository.list_connections(runtime.pool):
        if connection.password_hash:
            await subscribe_vendor(connection.vendor)


SERVICE = ServiceDefinition(name="shipstation", package_dir=Path(__file__).parent, setup=setup)
