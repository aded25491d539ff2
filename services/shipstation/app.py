"""The ShipStation adapter's composition root: one consumer per ShipStation vendor queue, added at
start for known connections and when credentials are first issued."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import aiohttp
import structlog

from services.shipstation import openapi, repository
from services.shipstation.http import ShipStationApi
from shared.contracts.vendor_orders import VendorOrderCancelled, VendorOrderCreated
from shared.db import Connection
from shared.messaging.consumer import RetryLater
from shared.messaging.topology import vendor_queue
from shared.service import Runtime, ServiceDefinition
from shared.settings import Settings

CONSUMER = "shipstation.vendor"
CONNECTION_POLL_SECONDS = 5.0
log = structlog.get_logger(__name__)


async def store_vendor_order(connection: Connection, event: VendorOrderCreated) -> None:
    await repository.insert_vendor_order(connection, event.data)


async def cancel_vendor_order(connection: Connection, event: VendorOrderCancelled) -> None:
    previous = await repository.cancel_vendor_order(connection, event.data.vendor_order_id)
    if previous is None:
        # Overtook its vendor_order.created (a redelivery can reorder them): try again after the
        # creation has been applied.
        raise RetryLater(f"cancellation for unknown vendor order {event.data.vendor_order_id}")


async def setup(runtime: Runtime) -> None:
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
    runtime.on_stop(session.close)
    subscribed: set[str] = set()

    async def subscribe_vendor(vendor: str) -> None:
        if vendor in subscribed:
            return
        spec = vendor_queue(vendor)
        await runtime.declare(spec)
        subscriber = runtime.consume(
            spec,
            {VendorOrderCreated: store_vendor_order, VendorOrderCancelled: cancel_vendor_order},
            consumer=CONSUMER,
            description="Store a new vendor order for export, or mark it cancelled (bumping LastModified).",
            publishes=False,
            title=f"vendor.{vendor} (ShipStation)",
        )
        subscribed.add(vendor)
        if runtime.broker.running:
            await subscriber.start()

    async def subscribe_connected_vendors() -> None:
        for connection in await repository.list_connections(runtime.pool):
            if connection.password_hash:
                await subscribe_vendor(connection.vendor)

    stopping = asyncio.Event()

    async def follow_new_connections() -> None:
        """Credentials issued through another instance of the adapter reach this one within seconds."""
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=CONNECTION_POLL_SECONDS)
            if stopping.is_set():
                return  # the service is stopping: end now rather than hold up the graceful stop
            try:
                await subscribe_connected_vendors()
            except Exception as error:  # the database or broker is away: the next round tries again
                log.warning("could not look for new ShipStation connections", error=str(error))

    runtime.app.router.add_routes(ShipStationApi(runtime, session, subscribe_vendor).routes())
    await subscribe_connected_vendors()
    runtime.add_background(follow_new_connections)

    async def stop_following() -> None:
        stopping.set()

    runtime.on_stop(stop_following)


SERVICE = ServiceDefinition(
    name="shipstation", package_dir=Path(__file__).parent, setup=setup, settings_type=Settings, openapi=openapi.document
)
