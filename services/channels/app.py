"""The channels service: Shopify and WooCommerce shops as sales channels (see the package docstring).

Setup: the admin and webhook routes, the ``channels.status`` consumer (shipments owed to the shops'
platforms, stock levels they should show), the worker (webhooks to intake, shipments and stock to
the platforms, with retries) and the reconciler (missed webhooks, on start and hourly).
"""

from __future__ import annotations

from pathlib import Path

import aiohttp

from services.channels import openapi
from services.channels.http import ChannelsApi
from services.channels.intake import IntakeClient
from services.channels.metrics import ChannelsMetrics
from services.channels.settings import ChannelsSettings
from services.channels.use_cases.context import ChannelsPorts
from services.channels.use_cases.outbound import inventory_available, order_status_changed
from services.channels.use_cases.reconcile import Reconciler
from services.channels.worker import Worker
from shared.contracts.inventory import InventoryAvailable
from shared.contracts.orders import OrderStatusChanged
from shared.http import ADMIN_TOKEN_KEY
from shared.messaging.subscriptions import CHANNELS_STATUS
from shared.secrets import SealedColumn, reseal_route
from shared.service import Runtime, ServiceDefinition

SEALED_COLUMNS = (SealedColumn("shops", "code", "sealed_secrets"),)
"""Where the channels service keeps sealed secrets: resealed under a new key by ``dropship secrets rotate``."""


async def setup(runtime: Runtime) -> None:
    settings = runtime.settings_as(ChannelsSettings)
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=settings.platform_timeout_seconds))
    ports = ChannelsPorts(
        pool=runtime.pool,
        secrets=runtime.secrets,
        intake=IntakeClient(session, settings.service_url("intake"), runtime.app[ADMIN_TOKEN_KEY]),
        session=session,
        metrics=ChannelsMetrics(runtime.registry),
        settings=settings,
    )
    worker = Worker(ports, settings.database_url, runtime.name)
    reconciler = Reconciler(ports)
    runtime.app.router.add_routes(
        [*ChannelsApi(ports).routes(), reseal_route(runtime.pool, runtime.secrets, SEALED_COLUMNS)]
    )
    runtime.consume(
        CHANNELS_STATUS,
        {OrderStatusChanged: order_status_changed, InventoryAvailable: inventory_available},
        description="Owe the shop's platform each shipment of its orders, and the stock it should show.",
        publishes=False,
    )
    # The consumer's inserts NOTIFY the worker through the tasks table's trigger.
    runtime.add_background(worker.run)
    runtime.add_background(reconciler.run)

    async def stop_background() -> None:
        # The session closes only once no round is using it: a push cut off mid-call would be tried again.
        within = settings.platform_timeout_seconds + 5
        await reconciler.stop(within)
        await worker.stop(within)
        await session.close()

    runtime.on_stop(stop_background)


SERVICE = ServiceDefinition(
    name="channels",
    package_dir=Path(__file__).parent,
    setup=setup,
    settings_type=ChannelsSettings,
    openapi=openapi.document,
)
