"""Intake's composition root: builds the ports once and wires the HTTP API, the status consumer (the
order's status from tracking, its holds from the splitter) and the webhook deliverer. At start it seals
the channel secrets still stored in clear (written before sealing existed), and it serves the reseal
route for key rotation."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from services.intake import openapi
from services.intake.listing import PostgresListing
from services.intake.progress import ServicesProgress
from services.intake.repository import SEALED_COLUMNS
from services.intake.settings import IntakeSettings
from services.intake.ship_to_http import IntakeApiWithShipTo
from services.intake.ship_to_repository import PostgresShipToDatabase
from services.intake.upstream import UpstreamDeliverer
from services.intake.use_cases import apply_order_held, apply_order_released, apply_status_changed
from shared.contracts.orders import OrderHeld, OrderReleased, OrderStatusChanged
from shared.http import ADMIN_TOKEN_KEY
from shared.logging import get_logger
from shared.messaging.topology import INTAKE_STATUS
from shared.secrets import reseal_route, seal_clear_stored
from shared.service import Runtime, ServiceDefinition

log = get_logger(__name__)


async def setup(runtime: Runtime) -> None:
    settings = runtime.settings_as(IntakeSettings)
    admin_token = runtime.app[ADMIN_TOKEN_KEY]
    sealed = await seal_clear_stored(runtime.pool, runtime.secrets, SEALED_COLUMNS)
    if sealed:
        log.info("stored secrets sealed at start", sealed=sealed)
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3))
    runtime.on_stop(session.close)
    progress = ServicesProgress(
        session,
        splitter_url=settings.service_url("splitter"),
        tracking_url=settings.service_url("tracking"),
        admin_token=admin_token,
    )
    api = IntakeApiWithShipTo(
        # Orders per group commit go beside the consumers' messages per inbox transaction.
        PostgresShipToDatabase(
            runtime.pool,
            linger_seconds=settings.batch_linger_seconds,
            on_batch=runtime.consumer_metrics.batch_size.labels("intake.orders").observe,
        ),
        PostgresListing(runtime.pool),
        progress,
        runtime.secrets,
        admin_token=admin_token,
        outbox_written=runtime.relay.wake,
    )
    runtime.app.router.add_routes([*api.routes(), reseal_route(runtime.pool, runtime.secrets, SEALED_COLUMNS)])

    deliverer = UpstreamDeliverer(
        runtime.pool,
        settings.database_url,
        runtime.registry,
        runtime.secrets,
        timeout_seconds=settings.webhook_timeout_seconds,
        max_backoff_seconds=settings.webhook_max_backoff_seconds,
    )
    runtime.add_background(deliverer.run)
    runtime.on_stop(deliverer.stop)

    runtime.consume(
        INTAKE_STATUS,
        {
            OrderStatusChanged: apply_status_changed,
            OrderHeld: apply_order_held,
            OrderReleased: apply_order_released,
        },
        description="Record the order's new status, or its holds, and queue the signed webhook to its channel.",
        publishes=False,
    )


SERVICE = ServiceDefinition(
    name="intake",
    package_dir=Path(__file__).parent,
    setup=setup,
    settings_type=IntakeSettings,
    openapi=openapi.document,
)
