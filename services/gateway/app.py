"""The vendor gateway: serves every vendor that is not ShipStation.

Owns vendor connections (transport, format, sealed credentials, host keys), vendor API keys (hashed),
its copy of each vendor order, deliveries and their attempts, files picked up and packages reported.
Consumes ``vendor.<code>`` of every non-ShipStation vendor (found in the splitter's vendor list within
seconds, by every instance; a vendor whose settings say ``"adapter": "own"`` is left to its own
adapter). Publishes ``vendor_order.acknowledged``, ``vendor_order.failed``, ``shipment.reported`` and
``inventory.updated`` through its outbox.

Background work: the deliverer (webhook, SFTP upload, e-mail; retries with backoff) and the SFTP
poller (inbound shipments, stock and acknowledgements; one instance per vendor at a time).
"""

from __future__ import annotations

from pathlib import Path

import aiohttp

from services.gateway import openapi
from services.gateway.http import GatewayApi
from services.gateway.metrics import GatewayMetrics
from services.gateway.settings import GatewaySettings
from services.gateway.splitter import SplitterClient
from services.gateway.use_cases.context import GatewayPorts
from services.gateway.use_cases.delivery import Deliverer
from services.gateway.use_cases.pickup import Poller
from services.gateway.use_cases.vendor_orders import lines_withdrawn, order_cancelled, order_created, ship_to_changed
from shared.contracts.vendor_orders import (
    VendorOrderCancelled,
    VendorOrderCreated,
    VendorOrderLinesCancelled,
    VendorOrderShipToChanged,
)
from shared.http import ADMIN_TOKEN_KEY
from shared.logging import get_logger
from shared.secrets import SealedColumn, reseal_route
from shared.service import Runtime, ServiceDefinition
from shared.vendor_queues import VendorQueues

CONSUMER = "gateway.vendor"
SEALED_COLUMNS = (SealedColumn("connections", "vendor", "sealed_secrets"),)
"""Where the gateway keeps sealed secrets: resealed under a new key by ``dropship secrets rotate``."""
log = get_logger(__name__)


async def setup(runtime: Runtime) -> None:
    settings = runtime.settings_as(GatewaySettings)
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=settings.delivery_timeout_seconds))
    runtime.on_stop(session.close)
    splitter = SplitterClient(session, settings.service_url("splitter"), runtime.app[ADMIN_TOKEN_KEY])
    ports = GatewayPorts(
        pool=runtime.pool,
        secrets=runtime.secrets,
        metrics=GatewayMetrics(runtime.registry),
        splitter=splitter,
        settings=settings,
        wake_relay=runtime.relay.wake,
    )
    deliverer = Deliverer(ports, settings.database_url, runtime.name)
    poller = Poller(ports)
    queues = VendorQueues(
        runtime,
        {
            VendorOrderCreated: order_created,
            VendorOrderCancelled: order_cancelled,
            VendorOrderLinesCancelled: lines_withdrawn,
            VendorOrderShipToChanged: ship_to_changed,
        },
        consumer=CONSUMER,
        adapter="gateway",
        description=(
            "Keep the vendor order and owe its vendor the order, the cancellation, the withdrawal or the new ship-to."
        ),
        declare_missing=False,  # the splitter declares a vendor's queue; one removed is not brought back
    )

    async def served_vendors() -> list[str]:
        """A vendor created through the splitter has its queue consumed here within seconds."""
        return [v.code for v in await splitter.vendors() if v.kind != "shipstation" and not v.own_adapter]

    async def on_connected(vendor: str) -> None:
        await queues.subscribe(vendor)
        deliverer.wake()

    api = GatewayApi(ports, session, on_connected)
    runtime.app.router.add_routes([*api.routes(), reseal_route(runtime.pool, runtime.secrets, SEALED_COLUMNS)])
    runtime.add_background(queues.follow(served_vendors, settings.vendor_discovery_seconds))
    runtime.add_background(deliverer.run)
    runtime.add_background(poller.run)

    async def stop_background() -> None:
        await queues.stop()
        await poller.stop()
        await deliverer.stop()

    runtime.on_stop(stop_background)


SERVICE = ServiceDefinition(
    name="gateway",
    package_dir=Path(__file__).parent,
    setup=setup,
    settings_type=GatewaySettings,
    openapi=openapi.document,
)
