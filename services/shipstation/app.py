"""The ShipStation adapter's composition root: builds the ports once (database, metrics, caches, the
splitter client), adds the Custom Store endpoint and the admin API, and one consumer per ShipStation
vendor queue, added at start for known connections and when credentials are first issued."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from services.shipstation import openapi, repository
from services.shipstation.admin_http import AdminApi
from services.shipstation.credentials import VerifiedCredentials
from services.shipstation.custom_store import CustomStoreEndpoint
from services.shipstation.fragment_cache import FragmentCache
from services.shipstation.metrics import AdapterMetrics, ConnectionMetrics
from services.shipstation.settings import ShipStationSettings
from services.shipstation.splitter import SplitterVendors
from services.shipstation.use_cases.ports import StorePorts
from services.shipstation.use_cases.vendor_orders import (
    cancel_vendor_order,
    change_vendor_order_ship_to,
    store_vendor_order,
    store_vendor_orders,
    withdraw_vendor_order_lines,
)
from shared.contracts.vendor_orders import (
    VendorOrderCancelled,
    VendorOrderCreated,
    VendorOrderLinesCancelled,
    VendorOrderShipToChanged,
)
from shared.http import ADMIN_TOKEN_KEY
from shared.service import Runtime, ServiceDefinition
from shared.vendor_queues import VendorQueues

CONSUMER = "shipstation.vendor"
CONNECTION_POLL_SECONDS = 5.0


async def setup(runtime: Runtime) -> None:
    settings = runtime.settings_as(ShipStationSettings)
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
    runtime.on_stop(session.close)
    queues = VendorQueues(
        runtime,
        {
            VendorOrderCreated: store_vendor_order,
            VendorOrderCancelled: cancel_vendor_order,
            VendorOrderLinesCancelled: withdraw_vendor_order_lines,
            VendorOrderShipToChanged: change_vendor_order_ship_to,
        },
        run_handlers={VendorOrderCreated: store_vendor_orders},
        consumer=CONSUMER,
        adapter="ShipStation",
        description=(
            "Store a new vendor order for export, mark it cancelled, take withdrawn lines off it, or give it"
            " its new ship-to (each bumping LastModified)."
        ),
    )

    async def connected_vendors() -> list[str]:
        """Credentials issued through another instance of the adapter reach this one within seconds."""
        return [c.vendor for c in await repository.list_connections(runtime.pool) if c.password_hash]

    ports = StorePorts(runtime.pool, AdapterMetrics(runtime.registry))
    splitter = SplitterVendors(session, settings.service_url("splitter"), runtime.app[ADMIN_TOKEN_KEY])
    store = CustomStoreEndpoint(ports, VerifiedCredentials(), FragmentCache(), runtime.relay.wake)
    admin = AdminApi(ports, splitter.kind, queues.subscribe, settings.shipstation_public_url)
    runtime.app.router.add_routes([*store.routes(), *admin.routes()])
    await queues.subscribe_all(connected_vendors)
    runtime.add_background(queues.follow(connected_vendors, CONNECTION_POLL_SECONDS))
    runtime.on_stop(queues.stop)
    connection_metrics = ConnectionMetrics(runtime.registry)
    runtime.add_background(lambda: connection_metrics.refresh_forever(runtime.pool))
    runtime.on_stop(connection_metrics.stop)


SERVICE = ServiceDefinition(
    name="shipstation",
    package_dir=Path(__file__).parent,
    setup=setup,
    settings_type=ShipStationSettings,
    openapi=openapi.document,
)
