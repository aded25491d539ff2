"""The ShipStation adapter's composition root: builds the ports once (database, metrics, caches, the
splitter client), adds the Custom Store endpoint and the admin API, and one consumer per ShipStation
vendor queue, added at start for known connections and when credentials are first issued."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import aiohttp
import structlog

from services.shipstation import openapi, repository
from services.shipstation.admin_http import AdminApi
from services.shipstation.credentials import VerifiedCredentials
from services.shipstation.custom_store import CustomStoreEndpoint
from services.shipstation.fragment_cache import FragmentCache
from services.shipstation.metrics import AdapterMetrics
from services.shipstation.settings import ShipStationSettings
from services.shipstation.splitter import SplitterVendors
from services.shipstation.use_cases.ports import StorePorts
from services.shipstation.use_cases.vendor_orders import (
    cancel_vendor_order,
    store_vendor_order,
    withdraw_vendor_order_lines,
)
from shared.contracts.vendor_orders import VendorOrderCancelled, VendorOrderCreated, VendorOrderLinesCancelled
from shared.http import ADMIN_TOKEN_KEY
from shared.messaging.topology import vendor_queue
from shared.service import Runtime, ServiceDefinition

CONSUMER = "shipstation.vendor"
CONNECTION_POLL_SECONDS = 5.0
log = structlog.get_logger(__name__)


async def setup(runtime: Runtime) -> None:
    settings = runtime.settings_as(ShipStationSettings)
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
            {
                VendorOrderCreated: store_vendor_order,
                VendorOrderCancelled: cancel_vendor_order,
                VendorOrderLinesCancelled: withdraw_vendor_order_lines,
            },
            consumer=CONSUMER,
            description=(
                "Store a new vendor order for export, mark it cancelled, or take withdrawn lines off it"
                " (each bumping LastModified)."
            ),
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

    ports = StorePorts(runtime.pool, AdapterMetrics(runtime.registry))
    splitter = SplitterVendors(session, settings.service_url("splitter"), runtime.app[ADMIN_TOKEN_KEY])
    store = CustomStoreEndpoint(ports, VerifiedCredentials(), FragmentCache(), runtime.relay.wake)
    admin = AdminApi(ports, splitter.kind, subscribe_vendor, settings.shipstation_public_url)
    runtime.app.router.add_routes([*store.routes(), *admin.routes()])
    await subscribe_connected_vendors()
    runtime.add_background(follow_new_connections)

    async def stop_following() -> None:
        stopping.set()

    runtime.on_stop(stop_following)


SERVICE = ServiceDefinition(
    name="shipstation",
    package_dir=Path(__file__).parent,
    setup=setup,
    settings_type=ShipStationSettings,
    openapi=openapi.document,
)
